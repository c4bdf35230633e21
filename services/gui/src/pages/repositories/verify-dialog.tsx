import { useQuery } from '@tanstack/react-query';
import { backupEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import type { Repository } from '../../api/types.js';
import { BlockSkeleton, ErrorMessage } from '../../components/feedback.js';
import { Modal } from '../../components/modal.js';
import { formatBytes } from '../../format/format.js';

/** Verifies a repository (POST /repositories/{id}/verify re-reads every chunk) and shows the verdict. */
export function VerifyDialog({ repo, onClose }: { repo: Repository; onClose: () => void }) {
  // a query, not a mutation: verifying changes nothing, and one dialog asks once (no retry: it is long)
  const verify = useQuery({ queryKey: ['verifyRepository', repo.id], queryFn: () => call(backupEndpoints.verify, { params: { id: repo.id } }), staleTime: 0, gcTime: 0, retry: false });
  const v = verify.data;
  return (
    <Modal title={`Verify ${repo.name}`} onClose={onClose} wide footer={<button type="button" className="btn btn-primary" onClick={onClose}>Close</button>}>
      {verify.isPending && (
        <>
          <p role="status">Re-reading and re-hashing every chunk the restore points use. Large repositories take a while.</p>
          <BlockSkeleton lines={3} />
        </>
      )}
      <ErrorMessage error={verify.error} onRetry={() => verify.refetch()} />
      {v && (
        <div aria-live="polite">
          <p className={`alert ${v.ok ? 'alert-ok' : 'alert-error'}`} role="status">
            {v.ok ? 'Every restore point is intact.' : `${v.damaged.length} damaged restore point${v.damaged.length === 1 ? '' : 's'} found.`} Checked {v.points_checked} restore points, {v.chunks_checked} chunks, {formatBytes(v.bytes_checked)}.
          </p>
          {v.damaged.length > 0 && (
            <ul className="plain" aria-label="Damaged restore points">
              {v.damaged.map((d, i) => (
                <li key={i}>
                  <strong>{d.backup_id ?? d.point_id}</strong>
                  {d.disk_key !== null && <> disk {d.disk_key}</>}: {d.message} <span className="muted small">({d.reason}{d.chunks.length ? `, ${d.chunks.length} chunks` : ''})</span>
                </li>
              ))}
            </ul>
          )}
          {v.damaged_chunks.length > 0 && <p className="muted small">{v.damaged_chunks.length} damaged or missing chunks in all.</p>}
        </div>
      )}
    </Modal>
  );
}
