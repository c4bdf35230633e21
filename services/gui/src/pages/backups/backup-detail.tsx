import { useQuery } from '@tanstack/react-query';
import { backupEndpoints, restoreEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import { BlockSkeleton, ErrorMessage } from '../../components/feedback.js';
import { ProgressBar } from '../../components/progress-bar.js';
import { StatusBadge } from '../../components/status-badge.js';
import { Time } from '../../components/time.js';
import { formatBytes } from '../../format/format.js';

const OPEN = ['pending', 'running'];
const percentOf = (p: { bytes_done: number; bytes_total: number }) => (p.bytes_total ? (p.bytes_done / p.bytes_total) * 100 : null);

/** The restores of a restore point, newest first, with live progress while they run. */
function Restores({ backupId }: { backupId: string }) {
  const q = useQuery({
    ...endpointQuery(restoreEndpoints.list, { params: { id: backupId } }),
    refetchInterval: (qq) => (qq.state.data?.restores.some((r) => OPEN.includes(r.status)) ? 1_500 : false),
  });
  if (q.isPending) return <BlockSkeleton lines={1} />;
  if (!q.data) return <ErrorMessage error={q.error} onRetry={() => q.refetch()} />;
  if (!q.data.restores.length) return <p className="muted small">Not restored yet.</p>;
  return (
    <ul className="plain" aria-label="Restores">
      {q.data.restores.map((r) => (
        <li key={r.id}>
          <StatusBadge status={r.status} /> <Time value={r.created_at} /> by {r.created_by} to {r.target.type === 'file' ? r.target.path : `[${r.target.datastore}] ${r.target.folder}`}
          {OPEN.includes(r.status) && <ProgressBar percent={percentOf(r.progress)} label={`Progress of the restore started ${r.created_at}`} />}
          {r.disks.map((d) => (
            <div key={d.disk_key} className="muted small mono">
              disk {d.disk_key}: {d.location} ({formatBytes(d.bytes)})
            </div>
          ))}
          {r.error_message && <div className="text-bad">{r.error_message}</div>}
        </li>
      ))}
    </ul>
  );
}

/** One restore point opened: its disks (with how to download each image), its progress, its restores. */
export function BackupDetail({ id }: { id: string }) {
  const q = useQuery({
    ...endpointQuery(backupEndpoints.get, { params: { id } }),
    refetchInterval: (qq) => (qq.state.data && OPEN.includes(qq.state.data.status) ? 1_500 : false),
  });
  const b = q.data;
  if (q.isPending) return <BlockSkeleton lines={2} />;
  if (!b) return <ErrorMessage error={q.error} onRetry={() => q.refetch()} />;
  return (
    <div className="grid-3">
      <section>
        <h4>Disks</h4>
        {OPEN.includes(b.status) && <ProgressBar percent={percentOf(b.progress)} label={`Progress of backup ${b.id}`} />}
        <ul className="plain">
          {b.disks.map((d) => (
            <li key={d.disk_key}>
              Disk {d.disk_key}: {formatBytes(d.capacity_bytes)}, {d.backup_mode}, {formatBytes(d.bytes_transferred)} read <StatusBadge status={d.status} />
              {d.error_message && <span className="text-bad"> {d.error_message}</span>}
              {b.status === 'success' && (
                <div className="muted small">
                  Raw image: <code>{`GET /api/v1/backups/${b.id}/disks/${d.disk_key}/image`}</code>
                </div>
              )}
            </li>
          ))}
          {b.disks.length === 0 && <li className="muted">No disk results yet.</li>}
        </ul>
        {b.status === 'success' && b.disks.length > 0 && (
          <p className="muted small">Download an image with an API token (Settings): <code>curl -fH "Authorization: Bearer $TOKEN" {location.origin}/api/v1/backups/{b.id}/disks/KEY/image -o disk.img</code></p>
        )}
      </section>
      <section>
        <h4>Restores</h4>
        <Restores backupId={b.id} />
      </section>
    </div>
  );
}
