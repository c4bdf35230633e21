import { isRepositoryError } from '@vaultflow/backup-repository';
import type { Stores } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { conflict } from '@vaultflow/errors';
import type { PruneResponse } from '@vaultflow/schemas';
import { repositoryById, repositoryProblem, type BackupRepositories } from './backup-repositories.service.js';

/**
 * Prunes a repository now (synchronously): chunks no restore point uses any more are removed, their
 * packs deleted or rewritten. The backup worker does the same by itself after flow backups; this is
 * for repositories no flow writes to, or space wanted back at once. A repository held by a backup,
 * restore or verify answers 409 REPOSITORY_BUSY.
 */
export class RepositoryPruneService {
  constructor(
    private readonly stores: Stores,
    private readonly repositories: BackupRepositories,
  ) {}

  async prune(repositoryId: number, op: Operation): Promise<PruneResponse> {
    const { row, repo } = await repositoryById(this.stores, this.repositories, repositoryId);
    const out: PruneResponse = { repository_id: repositoryId, points: 0, chunks_removed: 0, packs_deleted: 0, packs_rewritten: 0, bytes_freed: 0 };
    if (repo) {
      const r = await repo.prune().catch((err: unknown) => {
        if (isRepositoryError(err, 'LOCKED')) {
          const busy = conflict('REPOSITORY_BUSY', `Repository "${row.name}" is in use by a backup, restore, verify or prune: try again once it ends`);
          busy.retryAfter = 60;
          throw busy;
        }
        throw repositoryProblem(row, err, `Repository "${row.name}"`);
      });
      Object.assign(out, { points: r.points, chunks_removed: r.chunks_removed, packs_deleted: r.packs_deleted, packs_rewritten: r.packs_rewritten, bytes_freed: r.bytes_freed });
    }
    await this.stores.audit.record({ actor: op.actor.username, action: 'repository.prune', entity_type: 'repository', entity_id: repositoryId, details: { ...out }, request_id: op.requestId });
    return out;
  }
}
