import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { vmEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import { BlockSkeleton, ErrorMessage } from '../../components/feedback.js';
import { formatBytes } from '../../format/format.js';
import { PATHS } from '../../routes.js';
import { useAuth } from '../../auth/auth-context.js';
import { RestorePoints } from '../backups/restore-points.js';
import { BackupNow } from './backup-now.js';

/** One VM: its disks, the groups and flows that protect it, a backup on demand, and its restore points. */
export function VmDetail({ vmId }: { vmId: string }) {
  const { can } = useAuth();
  const q = useQuery(endpointQuery(vmEndpoints.get, { params: { id: vmId } }));
  const v = q.data;
  if (q.isPending) return <BlockSkeleton lines={4} />;
  if (!v) return <ErrorMessage error={q.error} onRetry={() => q.refetch()} />;
  return (
    <div className="vm-detail">
      <div className="grid-3">
        <section>
          <h4>Disks</h4>
          <ul className="plain">
            {v.disks.map((d) => (
              <li key={d.disk_key}>
                {d.label ?? `Disk ${d.disk_key}`}: {formatBytes(d.capacity_bytes)} <span className="muted small">{d.datastore_path}</span>
              </li>
            ))}
            {v.disks.length === 0 && <li className="muted">No disks discovered.</li>}
          </ul>
          <p className="muted small">
            {v.guest_os ?? 'Unknown guest'} · {v.num_cpu ?? '?'} CPU · {v.memory_mb ? formatBytes(v.memory_mb * 1024 * 1024) : '?'} · {v.datacenter}/{v.cluster ?? v.esx_host}
          </p>
        </section>
        <section>
          <h4>Protected by</h4>
          <ul className="plain">
            {v.flows.map((f) => (
              <li key={f.id}>
                <Link to={PATHS.flow(f.id)}>{f.name}</Link> <span className="muted small">({f.via === 'vm' ? 'directly' : 'through a group'})</span>
              </li>
            ))}
            {v.flows.length === 0 && <li className="text-bad">No flow protects this VM.</li>}
          </ul>
        </section>
        <section>
          <h4>Groups</h4>
          <ul className="plain">
            {v.groups.map((g) => (
              <li key={g.id}>
                <Link to={`${PATHS.groups}?group=${encodeURIComponent(g.id)}`}>{g.name}</Link>
                {!g.enabled && <span className="muted small"> (member disabled)</span>}
              </li>
            ))}
            {v.groups.length === 0 && <li className="muted">In no group.</li>}
          </ul>
        </section>
      </div>
      {can('operate') && v.inventory_status === 'present' && <BackupNow vmId={v.context_id} vmName={v.vm_name} />}
      <RestorePoints vmId={v.context_id} title={`Restore points of ${v.vm_name}`} compact />
    </div>
  );
}
