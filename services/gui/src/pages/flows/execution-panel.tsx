import { useQuery } from '@tanstack/react-query';
import { useMutation } from '@tanstack/react-query';
import { flowEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { endpointQuery } from '../../api/queries.js';
import type { VmRun } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { BlockSkeleton, EmptyState, ErrorMessage } from '../../components/feedback.js';
import { ProgressBar } from '../../components/progress-bar.js';
import { StatusBadge } from '../../components/status-badge.js';
import { Time } from '../../components/time.js';
import { formatBytes } from '../../format/format.js';
import { isActive, useFlowsChanged } from './flow-api.js';
import { JobLog } from './job-log.js';
import { LIVE_POLL_MS } from './live-run.js';

const VM_ACTIVE = ['waiting', 'queued', 'running'];

const vmColumns: Column<VmRun>[] = [
  { key: 'vm', header: 'VM', cell: (v) => v.vm_name },
  { key: 'status', header: 'Status', cell: (v) => <StatusBadge status={v.status} /> },
  {
    key: 'progress',
    header: 'Progress',
    className: 'col-progress',
    cell: (v) =>
      v.status === 'running' || v.status === 'success' ? (
        <>
          <ProgressBar percent={v.status === 'success' ? 100 : v.percent} label={`Progress of ${v.vm_name}`} />
          <span className="muted small">
            {v.phase ?? ''} {v.bytes_total ? `${formatBytes(v.bytes_done)} of ${formatBytes(v.bytes_total)}` : ''}
          </span>
        </>
      ) : (
        <span className="muted">—</span>
      ),
  },
  { key: 'bytes', header: 'Transferred', cell: (v) => formatBytes(v.bytes_transferred) },
  { key: 'attempts', header: 'Attempts', cell: (v) => v.attempts },
  { key: 'started', header: 'Started', cell: (v) => <Time value={v.started_at} /> },
  { key: 'completed', header: 'Finished', cell: (v) => <Time value={v.completed_at} /> },
  { key: 'error', header: 'Error', cell: (v) => (v.error_message ? <span className="text-bad">{v.error_message}</span> : '') },
];

/** One execution opened: overall progress, per-VM rows with progress bars and errors, the job log. */
export function ExecutionPanel({ flowId, executionId }: { flowId: string; executionId: string }) {
  const { can } = useAuth();
  const changed = useFlowsChanged();
  const q = useQuery({
    ...endpointQuery(flowEndpoints.execution, { params: { id: flowId, execId: executionId } }),
    refetchInterval: (qq) => (qq.state.data && !isActive(qq.state.data.status) && !qq.state.data.vms.some((v) => VM_ACTIVE.includes(v.status)) ? false : LIVE_POLL_MS),
  });
  const cancel = useMutation({ mutationFn: () => call(flowEndpoints.cancel, { params: { id: flowId, execId: executionId } }), onSettled: () => Promise.all([q.refetch(), changed()]) });
  const e = q.data;
  if (q.isPending) return <BlockSkeleton lines={4} />;
  if (!e) return <ErrorMessage error={q.error} onRetry={() => q.refetch()} />;
  const live = isActive(e.status);
  return (
    <div className="execution-panel" aria-label={`Execution ${e.id}`}>
      <div className="execution-head">
        <StatusBadge status={e.status} />
        <ProgressBar percent={live ? e.progress.percent : e.status === 'success' ? 100 : e.progress.percent} label="Execution progress" />
        <span className="muted small">
          {e.progress.vms_done} of {e.progress.vms_total} VMs done, {e.progress.vms_running} running, {e.progress.vms_waiting} waiting
        </span>
        {live && can('operate') && !e.cancel_requested_at && (
          <button type="button" className="btn btn-small btn-danger-outline" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
            Cancel execution
          </button>
        )}
        {e.cancel_requested_at && live && <span className="muted small">Cancelling…</span>}
      </div>
      <ErrorMessage error={cancel.error} />
      {e.error_message && (
        <p className="alert alert-error" role="status">
          {e.error_message}
        </p>
      )}
      <DataTable caption="VMs of this execution" columns={vmColumns} rows={e.vms} rowKey={(v) => v.vm_context_id} empty={<EmptyState title="No VMs in this execution yet" />} />
      <JobLog flowId={flowId} executionId={executionId} live={live} />
    </div>
  );
}
