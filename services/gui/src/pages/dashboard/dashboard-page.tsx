import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { flowEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import { BlockSkeleton, ErrorMessage } from '../../components/feedback.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { userTimeZone } from '../../format/format.js';
import { FailedFlows, RunningNow, SummaryFigures, UnprotectedVms } from './dashboard-widgets.js';
import { bucketsFor, fillBuckets, type Window } from './execution-buckets.js';
import { ExecutionsChart } from './executions-chart.js';
import { useRecentExecutions } from './use-recent-executions.js';

/** Everything is asked again this often while something runs, else every half minute. */
const ACTIVE_MS = 3_000;
const IDLE_MS = 30_000;

/** The dashboard: summary figures, executions over 24 hours / 7 days, running now, failures, unprotected VMs. */
export function DashboardPage() {
  const [window, setWindow] = useState<Window>('24h');
  const summary = useQuery({
    ...endpointQuery(flowEndpoints.summary, { query: { timezone: userTimeZone() } }),
    refetchInterval: (q) => (q.state.data?.running_executions ? ACTIVE_MS : IDLE_MS),
  });
  const poll = summary.data?.running_executions ? ACTIVE_MS : IDLE_MS;
  const recent = useRecentExecutions(poll);
  const buckets = useMemo(() => fillBuckets(bucketsFor(window, new Date()), recent.executions, window), [recent.executions, window]);
  return (
    <>
      <PageHeader title="Dashboard" description={`Times are shown in your time zone (${userTimeZone()}); hover one to see it in UTC.`} />
      {summary.isPending && <BlockSkeleton lines={2} />}
      <ErrorMessage error={summary.error} onRetry={() => summary.refetch()} title="The summary could not be loaded" />
      {summary.data && <SummaryFigures s={summary.data} />}
      <section className="panel" aria-labelledby="chart-title">
        <div className="section-head">
          <h2 id="chart-title">Executions over the last {window === '24h' ? '24 hours' : '7 days'}</h2>
          <div className="segmented" role="group" aria-label="Period">
            {(['24h', '7d'] as const).map((w) => (
              <button key={w} type="button" className={`chip${window === w ? ' chip-on' : ''}`} aria-pressed={window === w} onClick={() => setWindow(w)}>
                {w === '24h' ? '24 hours' : '7 days'}
              </button>
            ))}
          </div>
        </div>
        <ErrorMessage error={recent.error} onRetry={recent.refetch} />
        {recent.isPending ? <BlockSkeleton lines={4} /> : <ExecutionsChart buckets={buckets} title={`Executions over the last ${window === '24h' ? '24 hours' : '7 days'}`} />}
        {recent.truncated && <p className="muted small">Only the newest {recent.executions.length} executions of the period are counted.</p>}
      </section>
      <div className="grid-3">
        <RunningNow pollMs={poll} />
        <FailedFlows pollMs={poll} />
        <UnprotectedVms pollMs={poll} />
      </div>
    </>
  );
}
