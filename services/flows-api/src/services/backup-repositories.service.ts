import { Repository, isRepositoryError } from '@vaultflow/backup-repository';
import type { RepositoryRecord, Stores } from '@vaultflow/db';
import { AppError, conflict, notFound } from '@vaultflow/errors';

/** The part of a repository record needed to reach its data. */
export interface RepositoryRow {
  name: string;
  config: { path: string };
}

/**
 * Opens the backup repositories the API reads (restore points, images, verify, delete), one
 * Repository per path for the process; it never creates one (backup workers do). A repository
 * keeps its index fresh itself, so an instance may live as long as the process.
 */
export class BackupRepositories {
  private readonly opened = new Map<string, Promise<Repository>>();

  /** The repository of the record; undefined when nothing was ever written at its path. 503 when it cannot be read. */
  async of(row: RepositoryRow): Promise<Repository | undefined> {
    const p = row.config.path;
    let r = this.opened.get(p);
    if (!r) {
      r = Repository.open(p);
      this.opened.set(p, r);
      r.catch(() => this.opened.delete(p));
    }
    try {
      return await r;
    } catch (err) {
      if (isRepositoryError(err, 'NOT_A_REPOSITORY')) return undefined;
      throw unavailable(row, err);
    }
  }
}

/**
 * The record of repository `id` (404 REPOSITORY_NOT_FOUND) and its opened data, undefined when nothing
 * was ever written at its path: what the repository-wide operations (verify, prune) start from.
 */
export async function repositoryById(stores: Stores, repositories: BackupRepositories, id: number): Promise<{ row: RepositoryRecord; repo: Repository | undefined }> {
  const row = await stores.repositories.get(id);
  if (!row) throw notFound('REPOSITORY_NOT_FOUND', `Repository ${id} does not exist`);
  return { row, repo: await repositories.of(row) };
}

/** 503 REPOSITORY_UNAVAILABLE naming the repository and what went wrong. */
export function unavailable(row: RepositoryRow, err: unknown): AppError {
  const e = new AppError('unavailable', 'REPOSITORY_UNAVAILABLE', `Repository "${row.name}" (${row.config.path}) cannot be read: ${(err as Error).message}`);
  e.retryAfter = 30;
  return e;
}

/**
 * The API error for a repository error met while reading a restore point: a prune holding the
 * repository (409 REPOSITORY_BUSY), a point or disk the records know but the repository lacks, or
 * a damaged manifest (409 BACKUP_POINT_UNREADABLE); anything else is 503 REPOSITORY_UNAVAILABLE.
 */
export function repositoryProblem(row: RepositoryRow, err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  if (isRepositoryError(err, 'LOCKED')) {
    const e = conflict('REPOSITORY_BUSY', `Repository "${row.name}" is being pruned: try again in a minute`);
    e.retryAfter = 60;
    return e;
  }
  if (isRepositoryError(err, 'POINT_NOT_FOUND') || isRepositoryError(err, 'DISK_NOT_FOUND') || isRepositoryError(err, 'MANIFEST_CORRUPT')) {
    return conflict('BACKUP_POINT_UNREADABLE', `${what} cannot be read from repository "${row.name}": ${(err as Error).message}`);
  }
  return unavailable(row, err);
}
