import { useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { flowEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import { BlockSkeleton, ErrorMessage } from '../../components/feedback.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { PATHS } from '../../routes.js';
import { SchedulePreview } from '../schedules/schedule-preview.js';
import { ExecutionHistory } from './execution-history.js';
import { FlowActions } from './flow-actions.js';
import { isActive } from './flow-api.js';
import { FlowConfig, FlowStatusPanel } from './flow-config.js';

/** /protection-flows/{id}: configuration, status, next five runs and the execution history. */
export function FlowDetailsPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const open = params.get('execution') ?? undefined;
  const q = useQuery({
    ...endpointQuery(flowEndpoints.get, { params: { id } }),
    refetchInterval: (qq) => (isActive(qq.state.data?.status.last_execution_status) ? 2_000 : 15_000),
  });
  const f = q.data;
  const onOpen = (execId: string | undefined) =>
    setParams((p) => {
      const n = new URLSearchParams(p);
      if (execId) n.set('execution', execId);
      else n.delete('execution');
      return n;
    }, { replace: true });

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={PATHS.flows}>Protection Flows</Link> <span aria-hidden="true">›</span> {f?.name ?? '…'}
      </nav>
      {q.isPending && <BlockSkeleton lines={6} />}
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} title="The flow could not be loaded" />
      {f && (
        <>
          <PageHeader title={f.name} description={f.description ?? undefined}>
            <FlowActions flow={f} running={isActive(f.status.last_execution_status)} onStarted={(execId) => onOpen(execId)} />
          </PageHeader>
          <div className="grid-3">
            <FlowConfig flow={f} />
            <FlowStatusPanel flow={f} />
            <section className="panel">
              {f.schedule_id ? (
                <>
                  <SchedulePreview scheduleId={f.schedule_id} title="Next five runs" />
                  {!f.enabled && <p className="muted small">The flow is disabled: it skips these until it is enabled again.</p>}
                </>
              ) : (
                <>
                  <h3>Next five runs</h3>
                  <p className="muted">No schedule: this flow runs only when started.</p>
                </>
              )}
            </section>
          </div>
          <ExecutionHistory flowId={f.id} open={open} onOpen={onOpen} />
        </>
      )}
    </>
  );
}
