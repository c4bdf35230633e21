import { useMutation } from '@tanstack/react-query';
import { backupEndpoints, repositoryEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import type { Repository } from '../../api/types.js';
import { ErrorMessage } from '../../components/feedback.js';
import { Modal } from '../../components/modal.js';
import { formatBytes } from '../../format/format.js';

/**
 * Frees a repository's space now (POST /repositories/{id}/prune): chunks no restore point uses any
 * more, left by deleted points. The backup worker does it by itself after flow backups; this is for
 * repositories no flow writes to, or space wanted back at once. Asks first, then shows what was freed.
 */
export function PruneDialog({ repo, onClose }: { repo: Repository; onClose: () => void }) {
  const invalidate = useInvalidate(repositoryEndpoints.list);
  const prune = useMutation({
    mutationFn: () => call(backupEndpoints.prune, { params: { id: repo.id } }),
    onSuccess: () => invalidate(),
  });
  const r = prune.data;
  const footer = r
    ? <button type="button" className="btn btn-primary" onClick={onClose}>Close</button>
    : (
      <>
        <button type="button" className="btn" onClick={onClose}>Cancel</button>
        <button type="button" className="btn btn-primary" disabled={prune.isPending} onClick={() => prune.mutate()}>{prune.isPending ? 'Freeing space…' : 'Free space'}</button>
      </>
    );
  return (
    <Modal title={`Free space in ${repo.name}`} onClose={onClose} footer={footer}>
      {!r && (
        <p>
          Remove the chunks that no restore point of <strong>{repo.name}</strong> uses any more (left by deleted restore points) and give their
          space back. Restore points are not touched. While it runs, backups, restores and verifications of this repository wait.
        </p>
      )}
      <ErrorMessage error={prune.error} />
      {r && (
        <p className="alert alert-ok" role="status">
          {r.bytes_freed > 0 || r.chunks_removed > 0
            ? `Freed ${formatBytes(r.bytes_freed)}: ${r.chunks_removed} chunk${r.chunks_removed === 1 ? '' : 's'} no restore point used; ${r.packs_deleted} pack${r.packs_deleted === 1 ? '' : 's'} deleted, ${r.packs_rewritten} rewritten.`
            : 'Nothing to free: every stored chunk is used by a restore point.'}{' '}
          {r.points} restore point{r.points === 1 ? '' : 's'} kept whole.
        </p>
      )}
    </Modal>
  );
}
