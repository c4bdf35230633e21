import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { vcenterEndpoints, vmEndpoints, type VcenterDiscoveryResponse } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import type { Vcenter } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EditDeleteButtons, actionsColumn } from '../../components/row-actions.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { VcenterFormModal } from './vcenter-form-modal.js';

/** vCenters: register (with a live connection test), discover now, edit, remove. */
export function VcentersSection() {
  const { can } = useAuth();
  const q = useQuery(listQuery(vcenterEndpoints.list, { query: { limit: 1000, sort: 'name' } }));
  const invalidate = useInvalidate(vcenterEndpoints.list, vmEndpoints.list);
  const [editing, setEditing] = useState<Vcenter | 'new'>();
  const [removing, setRemoving] = useState<Vcenter>();
  const [found, setFound] = useState<{ name: string; r: VcenterDiscoveryResponse }>();
  const discover = useMutation({
    mutationFn: (vc: Vcenter) => call(vcenterEndpoints.discover, { params: { id: vc.id } }).then((r) => setFound({ name: vc.name, r })),
    onSettled: invalidate,
  });
  const columns: Column<Vcenter>[] = [
    { key: 'name', header: 'Name', cell: (v) => <strong>{v.name}</strong> },
    { key: 'host', header: 'Address', cell: (v) => <span className="mono small">{v.protocol}://{v.host}:{v.port}</span> },
    { key: 'user', header: 'User', cell: (v) => v.username },
    { key: 'vms', header: 'VMs', cell: (v) => v.vm_count },
    { key: 'disc', header: 'Last discovery', cell: (v) => <Time value={v.last_discovery_at} empty="never" /> },
    { key: 'state', header: 'State', cell: (v) => (v.last_error ? <span className="text-bad">{v.last_error}</span> : v.enabled ? 'OK' : 'Disabled') },
  ];
  if (can('configure')) {
    columns.push(
      actionsColumn((v) => (
        <>
          <button type="button" className="btn btn-small" aria-label={`Discover ${v.name} now`} disabled={discover.isPending || !v.enabled} onClick={() => discover.mutate(v)}>
            {discover.isPending && discover.variables?.id === v.id ? 'Discovering…' : 'Discover now'}
          </button>
          <EditDeleteButtons name={v.name} onEdit={() => setEditing(v)} onDelete={() => setRemoving(v)} deleteLabel="Remove" />
        </>
      )),
    );
  }
  return (
    <section className="panel" aria-labelledby="vc-title">
      <div className="section-head">
        <h2 id="vc-title">vCenters</h2>
        {can('configure') && <button type="button" className="btn btn-primary btn-small" onClick={() => setEditing('new')}>Register vCenter</button>}
      </div>
      <ErrorMessage error={q.error ?? discover.error} onRetry={() => q.refetch()} />
      {found && (
        <p className="alert alert-ok" role="status">
          {found.name}: {found.r.vms_found} VMs found ({found.r.vms_added} new, {found.r.vms_updated} changed, {found.r.vms_missing} missing), {found.r.disks} disks, in {(found.r.duration_ms / 1000).toFixed(1)} s.
        </p>
      )}
      <DataTable caption="vCenters" columns={columns} rows={q.data?.vcenters} rowKey={(v) => v.id} loading={q.isPending} empty={<EmptyState title="No vCenter registered">{can('configure') ? 'Register a vCenter: its VMs are discovered at once.' : 'An administrator registers vCenters.'}</EmptyState>} />
      {editing && <VcenterFormModal vc={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
      {removing && (
        <ConfirmDialog title="Remove vCenter" confirmLabel="Remove vCenter" danger onClose={() => setRemoving(undefined)} onConfirm={async () => { await call(vcenterEndpoints.remove, { params: { id: removing.id } }); await invalidate(); }}>
          <p>
            Remove <strong>{removing.name}</strong>? Its {removing.vm_count} VMs stay in the inventory with their restore points, but cannot be backed up until a vCenter serves them again.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
