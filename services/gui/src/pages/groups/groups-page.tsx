import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { groupEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import type { Group } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EditDeleteButtons, actionsColumn } from '../../components/row-actions.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { Pager } from '../../components/pager.js';
import { SearchBox } from '../../components/search-box.js';
import { useListParams } from '../../components/use-list-params.js';
import { GroupFormModal } from './group-form-modal.js';
import { GroupMembers } from './group-members.js';

/** Protection Groups: CRUD, and each group's members (?group=<id> opens one). */
export function GroupsPage() {
  const { can } = useAuth();
  const list = useListParams('name');
  const open = list.get('group') || undefined;
  const [editing, setEditing] = useState<Group | 'new'>();
  const [removing, setRemoving] = useState<Group>();
  const invalidate = useInvalidate(groupEndpoints.list);
  const q = useQuery(listQuery(groupEndpoints.list, { query: { limit: list.limit, offset: list.offset, sort: list.sort.key as 'name', order: list.sort.order, search: list.get('search') || undefined } }));
  const columns: Column<Group>[] = [
    { key: 'name', header: 'Name', sort: 'name', cell: (g) => <><strong>{g.name}</strong>{g.description && <div className="muted small">{g.description}</div>}</> },
    { key: 'members', header: 'VMs', cell: (g) => `${g.enabled_member_count} enabled of ${g.member_count}` },
    { key: 'max', header: 'Concurrent VMs', cell: (g) => g.max_concurrent_vms },
    { key: 'priority', header: 'Priority', sort: 'priority', cell: (g) => g.priority },
    { key: 'flows', header: 'Flows', cell: (g) => g.flow_count },
    actionsColumn((g) => (
      <>
        <button type="button" className="btn btn-small" aria-expanded={open === g.id} aria-label={`Members of ${g.name}`} onClick={() => list.update({ group: open === g.id ? undefined : g.id })}>
          Members
        </button>
        {can('configure') && <EditDeleteButtons name={g.name} onEdit={() => setEditing(g)} onDelete={() => setRemoving(g)} />}
      </>
    )),
  ];
  return (
    <>
      <PageHeader title="Protection Groups" description="VMs backed up together, with a limit on how many at once.">
        {can('configure') && <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>Create group</button>}
      </PageHeader>
      <SearchBox label="Search groups" value={list.get('search')} onChange={(search) => list.filter({ search })} />
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} title="The groups could not be loaded" />
      <DataTable
        caption="Protection groups"
        columns={columns}
        rows={q.data?.groups}
        rowKey={(g) => g.id}
        loading={q.isPending}
        sort={list.sort}
        onSort={list.onSort}
        expanded={(g) => (open === g.id ? <GroupMembers group={g} /> : null)}
        empty={<EmptyState title="No protection groups yet">{can('configure') ? 'Create a group, add VMs to it, then protect it with a flow.' : 'An administrator creates groups.'}</EmptyState>}
      />
      {q.data && <Pager total={q.data.total} limit={list.limit} offset={list.offset} onChange={list.onPage} />}
      {editing && <GroupFormModal group={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} onCreated={(g) => list.update({ group: g.id })} />}
      {removing && (
        <ConfirmDialog title="Delete group" confirmLabel="Delete group" danger onClose={() => setRemoving(undefined)} onConfirm={async () => { await call(groupEndpoints.remove, { params: { id: removing.id } }); await invalidate(); }}>
          <p>
            Delete the group <strong>{removing.name}</strong> ({removing.member_count} VMs)? The VMs stay in the inventory with their restore points.
            {removing.flow_count > 0 && ` The hub refuses while ${removing.flow_count} flow(s) target it: delete or retarget them first.`}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
