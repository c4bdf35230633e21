import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { groupEndpoints, vmEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { endpointQuery, useInvalidate } from '../../api/queries.js';
import type { Group, GroupMember } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { Switch } from '../../components/switch.js';
import { Time } from '../../components/time.js';
import { AddMembers } from './add-members.js';

/** The members of a group: enable or disable each, remove, and add more from the inventory. */
export function GroupMembers({ group }: { group: Group }) {
  const { can } = useAuth();
  const q = useQuery(endpointQuery(groupEndpoints.members, { params: { id: group.id } }));
  const invalidate = useInvalidate(groupEndpoints.members, groupEndpoints.list, vmEndpoints.get);
  const [removing, setRemoving] = useState<GroupMember>();
  const toggle = useMutation({
    mutationFn: (m: { vmId: string; enabled: boolean }) => call(groupEndpoints.updateMember, { params: { id: group.id, vmId: m.vmId }, body: { enabled: m.enabled } }),
    onSettled: invalidate,
  });
  const columns: Column<GroupMember>[] = [
    { key: 'vm', header: 'VM', cell: (m) => m.vm_name },
    { key: 'power', header: 'Power', cell: (m) => m.power_state },
    { key: 'inventory', header: 'Inventory', cell: (m) => (m.inventory_status === 'missing' ? <span className="text-bad">missing</span> : 'present') },
    {
      key: 'enabled',
      header: 'Enabled',
      cell: (m) =>
        can('configure') ? (
          <Switch checked={m.enabled} label={`Back up ${m.vm_name} with this group`} onChange={(enabled) => toggle.mutate({ vmId: m.vm_context_id, enabled })} />
        ) : m.enabled ? 'Yes' : 'No',
    },
    { key: 'added', header: 'Added', cell: (m) => <><Time value={m.added_at} /> <span className="muted small">by {m.added_by}</span></> },
  ];
  if (can('configure')) {
    columns.push({ key: 'remove', header: <span className="sr-only">Remove</span>, cell: (m) => <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Remove ${m.vm_name}`} onClick={() => setRemoving(m)}>Remove</button> });
  }
  const ids = new Set(q.data?.members.map((m) => m.vm_context_id));
  return (
    <div className="members">
      <ErrorMessage error={q.error ?? toggle.error} onRetry={() => q.refetch()} />
      <DataTable
        caption={`Members of ${group.name}`}
        columns={columns}
        rows={q.data?.members}
        rowKey={(m) => m.vm_context_id}
        loading={q.isPending}
        empty={<EmptyState title="This group has no VMs yet">{can('configure') ? 'Add VMs from the inventory below.' : ''}</EmptyState>}
      />
      {can('configure') && <AddMembers groupId={group.id} memberIds={ids} />}
      {removing && (
        <ConfirmDialog title="Remove VM from group" confirmLabel="Remove" danger onClose={() => setRemoving(undefined)} onConfirm={async () => { await call(groupEndpoints.removeMember, { params: { id: group.id, vmId: removing.vm_context_id } }); await invalidate(); }}>
          <p>
            Remove <strong>{removing.vm_name}</strong> from <strong>{group.name}</strong>? The flows of this group stop backing it up; its restore points are kept.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
