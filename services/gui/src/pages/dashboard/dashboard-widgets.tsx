import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { flowEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import type { Summary } from '../../api/types.js';
import { BlockSkeleton, EmptyState, ErrorMessage } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { formatBytes } from '../../format/format.js';
import { PATHS } from '../../routes.js';
import { LiveRun } from '../flows/live-run.js';
import { useUnprotectedVms } from './use-unprotected-vms.js';

/** The summary figures of GET /protection-flows/summary. */
export function SummaryFigures({ s }: { s: Summary }) {
  const figures: [string, string | number, string?, string?][] = [
    ['Protection flows', s.total_flows, `${s.enabled_flows} enabled, ${s.disabled_flows} disabled`, PATHS.flows],
    ['Runs today', s.total_executions_today, `${s.successful_executions_today} succeeded, ${s.failed_executions_today} failed`],
    ['Running now', s.running_executions, undefined, `${PATHS.flows}?last_status=running`],
    ['Flows whose last run failed', s.flows_last_failed, undefined, `${PATHS.flows}?last_status=error`],
    ['Transferred today', formatBytes(s.bytes_transferred_today)],
  ];
  return (
    <ul className="figures" aria-label="Summary">
      {figures.map(([label, value, sub, link]) => (
        <li key={label} className={`figure${label.includes('failed') && Number(value) > 0 ? ' figure-bad' : ''}`}>
          <span className="figure-value">{link ? <Link to={link}>{value}</Link> : value}</span>
          <span className="figure-label">{label}</span>
          {sub && <span className="muted small">{sub}</span>}
        </li>
      ))}
    </ul>
  );
}

/** Flows with an execution pending or running, each with its live progress. */
export function RunningNow({ pollMs }: { pollMs: number }) {
  const running = useQuery({ ...endpointQuery(flowEndpoints.list, { query: { last_status: 'running', limit: 50, sort: 'last_execution_time', order: 'desc' } }), refetchInterval: pollMs });
  const flows = running.data?.flows ?? [];
  return (
    <section className="panel" aria-labelledby="running-title">
      <h2 id="running-title">Running now</h2>
      {running.isPending && <BlockSkeleton lines={2} />}
      <ErrorMessage error={running.error} onRetry={() => running.refetch()} />
      {running.data && flows.length === 0 && <p className="muted">Nothing is running.</p>}
      <ul className="plain running-list">
        {flows.map((f) => (
          <li key={f.id}>
            <Link to={PATHS.flow(f.id)}>{f.name}</Link>
            {f.status.last_execution_id && <LiveRun key={f.status.last_execution_id} flowId={f.id} executionId={f.status.last_execution_id} onFinished={() => void running.refetch()} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Flows whose last execution failed, newest first. */
export function FailedFlows({ pollMs }: { pollMs: number }) {
  const q = useQuery({ ...endpointQuery(flowEndpoints.list, { query: { last_status: 'error', limit: 10, sort: 'last_execution_time', order: 'desc' } }), refetchInterval: pollMs });
  return (
    <section className="panel" aria-labelledby="failed-title">
      <h2 id="failed-title">Failed flows</h2>
      {q.isPending && <BlockSkeleton lines={2} />}
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} />
      {q.data && q.data.flows.length === 0 && <p className="muted">No flow failed its last run.</p>}
      <ul className="plain">
        {q.data?.flows.map((f) => (
          <li key={f.id}>
            <Link to={f.status.last_execution_id ? `${PATHS.flow(f.id)}?execution=${encodeURIComponent(f.status.last_execution_id)}` : PATHS.flow(f.id)}>{f.name}</Link> <span className="muted small">failed <Time value={f.status.last_execution_time} /></span>
          </li>
        ))}
      </ul>
      {q.data && q.data.total > q.data.flows.length && <Link to={`${PATHS.flows}?last_status=error`}>All {q.data.total} failed flows</Link>}
    </section>
  );
}

/** VMs without a backup inside their flows' schedules. */
export function UnprotectedVms({ pollMs }: { pollMs: number }) {
  const u = useUnprotectedVms(pollMs);
  return (
    <section className="panel" aria-labelledby="unprotected-title">
      <h2 id="unprotected-title">Unprotected VMs</h2>
      {u.isPending && <BlockSkeleton lines={3} />}
      <ErrorMessage error={u.error} />
      {!u.isPending && u.total === 0 && <EmptyState title="No VMs in the inventory">Register a vCenter in <Link to={PATHS.settings}>Settings</Link> to discover them.</EmptyState>}
      {!u.isPending && u.total > 0 && u.unprotected.length === 0 && <p className="text-ok">Every one of the {u.total} VMs has a backup inside its schedule.</p>}
      {!u.isPending && u.unprotected.length > 0 && (
        <>
          <p className="muted small">
            {u.unprotected.length} of {u.total} VMs
          </p>
          <ul className="plain">
            {u.unprotected.slice(0, 10).map(({ vm, reason }) => (
              <li key={vm.context_id}>
                <Link to={`${PATHS.vms}?vm=${encodeURIComponent(vm.context_id)}`}>{vm.vm_name}</Link> <span className="muted small">{reason}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
