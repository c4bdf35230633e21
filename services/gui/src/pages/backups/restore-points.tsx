import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { backupEndpoints, type BackupListQuery } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import type { Backup } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { actionsColumn } from '../../components/row-actions.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { Pager } from '../../components/pager.js';
import { ProgressBar } from '../../components/progress-bar.js';
import { StatusBadge } from '../../components/status-badge.js';
import { Time } from '../../components/time.js';
import { formatBytes } from '../../format/format.js';
import { BackupDetail } from './backup-detail.js';
import { RestoreDialog } from './restore-dialog.js';

const OPEN = ['pending', 'running'];

/** Restore points, newest first, optionally of one VM; each opens its disks and restores. */
export function RestorePoints({ vmId, title, compact, filters = {} }: { vmId?: string; title: string; compact?: boolean; filters?: Partial<BackupListQuery> }) {
  const [page, setPage] = useState({ limit: compact ? 5 : 25, offset: 0 });
  const { can } = useAuth();
  const [open, setOpen] = useState<string>();
  const [restoring, setRestoring] = useState<Backup>();
  const [removing, setRemoving] = useState<Backup>();
  const invalidate = useInvalidate(backupEndpoints.list);
  const q = useQuery({
    ...listQuery(backupEndpoints.list, { query: { ...page, ...filters, vm_context_id: vmId, sort: 'created_at', order: 'desc' } }),
    refetchInterval: (qq) => (qq.state.data?.backups.some((b) => OPEN.includes(b.status)) ? 2_000 : false),
  });
  const columns: Column<Backup>[] = [
    { key: 'open', header: <span className="sr-only">Details</span>, cell: (b) => <button type="button" className="btn btn-small" aria-expanded={open === b.id} onClick={() => setOpen(open === b.id ? undefined : b.id)}>{open === b.id ? 'Hide' : 'Details'}</button> },
    ...(vmId ? [] : [{ key: 'vm', header: 'VM', cell: (b: Backup) => b.vm_name ?? b.vm_context_id }]),
    { key: 'at', header: 'Taken', cell: (b) => <Time value={b.completed_at ?? b.started_at ?? b.created_at} /> },
    { key: 'type', header: 'Type', cell: (b) => <span className="cap">{b.backup_type}</span> },
    {
      key: 'status',
      header: 'Status',
      cell: (b) => (
        <>
          <StatusBadge status={b.status} />
          {OPEN.includes(b.status) && <ProgressBar percent={b.progress.bytes_total ? (b.progress.bytes_done / b.progress.bytes_total) * 100 : null} label={`Progress of backup ${b.id}`} />}
          {b.error_message && <div className="text-bad small">{b.error_message}</div>}
        </>
      ),
    },
    { key: 'consistency', header: 'Consistency', cell: (b) => b.consistency ?? '—' },
    { key: 'size', header: 'Read · stored', cell: (b) => `${formatBytes(b.bytes_transferred)} · ${formatBytes(b.bytes_stored)}` },
    { key: 'repo', header: 'Repository', cell: (b) => b.repository_name ?? b.repository_id },
    { key: 'lock', header: 'Locked until', cell: (b) => <Time value={b.locked_until} empty="—" /> },
  ];
  if (can('operate')) {
    columns.push(
      actionsColumn((b) => (
        <>
          {b.status === 'success' && <button type="button" className="btn btn-small" onClick={() => setRestoring(b)}>Restore</button>}
          {!OPEN.includes(b.status) && <button type="button" className="btn btn-small btn-danger-outline" onClick={() => setRemoving(b)}>Delete</button>}
        </>
      )),
    );
  }
  return (
    <section aria-label={title}>
      {compact && <h4>{title}</h4>}
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} />
      <DataTable
        caption={title}
        columns={columns}
        rows={q.data?.backups}
        rowKey={(b) => b.id}
        loading={q.isPending}
        expanded={(b) => (open === b.id ? <BackupDetail id={b.id} /> : null)}
        empty={<EmptyState title="No restore points yet">Restore points appear after a backup flow has run.</EmptyState>}
      />
      {q.data && <Pager total={q.data.total} limit={page.limit} offset={page.offset} onChange={setPage} />}
      {restoring && <RestoreDialog backup={restoring} onClose={() => setRestoring(undefined)} onStarted={() => setOpen(restoring.id)} />}
      {removing && (
        <ConfirmDialog title="Delete restore point" confirmLabel="Delete restore point" danger onClose={() => setRemoving(undefined)} onConfirm={async () => { await call(backupEndpoints.remove, { params: { id: removing.id } }); await invalidate(); }}>
          <p>
            Delete the {removing.backup_type} restore point of <strong>{removing.vm_name ?? removing.vm_context_id}</strong> taken <Time value={removing.completed_at ?? removing.created_at} />? No other restore point depends on it; its data is freed when the repository is pruned. Immutable points are refused until their lock ends.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
