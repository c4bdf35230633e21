import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { scheduleEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import type { Schedule } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EditDeleteButtons, actionsColumn } from '../../components/row-actions.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { Pager } from '../../components/pager.js';
import { SearchBox } from '../../components/search-box.js';
import { Time } from '../../components/time.js';
import { useListParams } from '../../components/use-list-params.js';
import { describeCron } from '../../format/format.js';
import { SchedulePreview } from './schedule-preview.js';
import { ScheduleFormModal } from './schedule-form-modal.js';

/** Schedules: CRUD and each schedule's next runs. */
export function SchedulesPage() {
  const { can } = useAuth();
  const list = useListParams('name');
  const [editing, setEditing] = useState<Schedule | 'new'>();
  const [removing, setRemoving] = useState<Schedule>();
  const [open, setOpen] = useState<string>();
  const invalidate = useInvalidate(scheduleEndpoints.list);
  const q = useQuery(listQuery(scheduleEndpoints.list, { query: { limit: list.limit, offset: list.offset, sort: list.sort.key as 'name', order: list.sort.order, search: list.get('search') || undefined } }));
  const columns: Column<Schedule>[] = [
    { key: 'name', header: 'Name', sort: 'name', cell: (s) => <><strong>{s.name}</strong>{s.description && <div className="muted small">{s.description}</div>}</> },
    { key: 'when', header: 'When', cell: (s) => <><span>{describeCron(s.cron_expression) ?? s.cron_expression}</span><div className="muted small mono">{s.cron_expression}</div></> },
    { key: 'tz', header: 'Time zone', cell: (s) => s.timezone },
    { key: 'next', header: 'Next fire', cell: (s) => <Time value={s.enabled ? s.next_fire_time : null} empty={s.enabled ? '—' : 'disabled'} /> },
    { key: 'flows', header: 'Flows', cell: (s) => s.flow_count },
    { key: 'enabled', header: 'Enabled', cell: (s) => (s.enabled ? 'Yes' : 'No') },
    actionsColumn((s) => (
      <>
        <button type="button" className="btn btn-small" aria-expanded={open === s.id} aria-label={`Next runs of ${s.name}`} onClick={() => setOpen(open === s.id ? undefined : s.id)}>
          Next runs
        </button>
        {can('configure') && <EditDeleteButtons name={s.name} onEdit={() => setEditing(s)} onDelete={() => setRemoving(s)} />}
      </>
    )),
  ];
  return (
    <>
      <PageHeader title="Schedules" description="Cron schedules in any time zone; flows refer to them.">
        {can('configure') && <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>Create schedule</button>}
      </PageHeader>
      <SearchBox label="Search schedules" value={list.get('search')} onChange={(search) => list.filter({ search })} />
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} title="The schedules could not be loaded" />
      <DataTable
        caption="Schedules"
        columns={columns}
        rows={q.data?.schedules}
        rowKey={(s) => s.id}
        loading={q.isPending}
        sort={list.sort}
        onSort={list.onSort}
        expanded={(s) => (open === s.id ? <SchedulePreview scheduleId={s.id} count={10} title={`Next runs of ${s.name}`} /> : null)}
        empty={<EmptyState title="No schedules yet">{can('configure') ? 'Create a schedule, then use it in a protection flow (or define one inside the flow form).' : 'An administrator creates schedules.'}</EmptyState>}
      />
      {q.data && <Pager total={q.data.total} limit={list.limit} offset={list.offset} onChange={list.onPage} />}
      {editing && <ScheduleFormModal schedule={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
      {removing && (
        <ConfirmDialog title="Delete schedule" confirmLabel="Delete schedule" danger onClose={() => setRemoving(undefined)} onConfirm={async () => { await call(scheduleEndpoints.remove, { params: { id: removing.id } }); await invalidate(); }}>
          <p>
            Delete the schedule <strong>{removing.name}</strong>?{' '}
            {removing.flow_count ? `Its ${removing.flow_count} flow(s) will then run only when started by hand.` : 'No flow uses it.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
