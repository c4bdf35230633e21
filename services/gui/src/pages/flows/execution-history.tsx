import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { flowEndpoints } from '@vaultflow/schemas';
import { listQuery } from '../../api/queries.js';
import type { Execution } from '../../api/types.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { Pager } from '../../components/pager.js';
import { StatusBadge } from '../../components/status-badge.js';
import { Time } from '../../components/time.js';
import { formatBytes, formatDuration } from '../../format/format.js';
import { ExecutionPanel } from './execution-panel.js';
import { isActive } from './flow-api.js';
import { LIVE_POLL_MS } from './live-run.js';

/** A flow's executions, newest first; each opens its per-VM rows and job log. */
export function ExecutionHistory({ flowId, open, onOpen }: { flowId: string; open: string | undefined; onOpen: (id: string | undefined) => void }) {
  const [page, setPage] = useState({ limit: 10, offset: 0 });
  const q = useQuery({
    ...listQuery(flowEndpoints.executions, { params: { id: flowId }, query: page }),
    refetchInterval: (qq) => (qq.state.data?.executions.some((e) => isActive(e.status)) ? LIVE_POLL_MS : 15_000),
  });
  const columns: Column<Execution>[] = [
    {
      key: 'open',
      header: <span className="sr-only">Details</span>,
      cell: (e) => (
        <button type="button" className="btn btn-small" aria-expanded={open === e.id} aria-label={`${open === e.id ? 'Hide' : 'Show'} details of the execution started ${e.started_at ?? e.created_at}`} onClick={() => onOpen(open === e.id ? undefined : e.id)}>
          {open === e.id ? 'Hide' : 'Details'}
        </button>
      ),
    },
    { key: 'status', header: 'Status', cell: (e) => <StatusBadge status={e.status} /> },
    { key: 'type', header: 'Type', cell: (e) => <span className="cap">{e.execution_type}</span> },
    { key: 'trigger', header: 'Triggered by', cell: (e) => e.triggered_by },
    { key: 'started', header: 'Started', cell: (e) => <Time value={e.started_at ?? e.created_at} /> },
    { key: 'duration', header: 'Duration', cell: (e) => formatDuration(e.execution_time_seconds) },
    { key: 'vms', header: 'VMs', cell: (e) => `${e.vms_processed}/${e.jobs_created}` },
    { key: 'bytes', header: 'Bytes', cell: (e) => formatBytes(e.bytes_transferred) },
    {
      key: 'jobs',
      header: 'Jobs done · failed · skipped',
      cell: (e) => (
        <span>
          {e.jobs_completed} · <span className={e.jobs_failed ? 'text-bad' : ''}>{e.jobs_failed}</span> · {e.jobs_skipped}
        </span>
      ),
    },
  ];
  return (
    <section className="panel" aria-labelledby="history-title">
      <h2 id="history-title">Execution history</h2>
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} />
      <DataTable
        caption="Execution history"
        columns={columns}
        rows={q.data?.executions}
        rowKey={(e) => e.id}
        loading={q.isPending}
        empty={<EmptyState title="This flow has not run yet">Use "Run now" to start it, or wait for its schedule.</EmptyState>}
        expanded={(e) => (open === e.id ? <ExecutionPanel flowId={flowId} executionId={e.id} /> : null)}
      />
      {q.data && <Pager total={q.data.total} limit={page.limit} offset={page.offset} onChange={setPage} />}
    </section>
  );
}
