import { link, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Repository, fileSink, isRepositoryError, partialImageName, restoredImageName } from '@vaultflow/backup-repository';
import type { RestoreDiskResult, RestoreRecord, Stores } from '@vaultflow/db';
import { TransientError } from '@vaultflow/errors';
import { PermanentError } from './permanent-error.js';
import { DatastoreUploader } from './restore-upload.js';

/** Progress of a restore across its disks. */
export interface RestoreProgress {
  phase: string;
  disk: number;
  bytes_done: number;
  bytes_total: number;
}

/** The backup a restore reads: its point in its repository. */
interface Source {
  repo: Repository;
  pointId: string;
  capacities: Map<number, number>;
}

/**
 * Runs a restore: every chosen disk of a restore point as a raw image file, written in one pass
 * from the repository (every chunk re-hashed on the way), into a folder of the hub or onto a
 * vCenter datastore. A file is written under a temporary name, flushed, and renamed into place
 * only when complete (never over an existing file unless the restore says overwrite).
 */
export class RestoreService {
  constructor(
    private readonly stores: Stores,
    private readonly uploader: DatastoreUploader,
  ) {}

  async restore(r: RestoreRecord, progress: (p: RestoreProgress) => void): Promise<RestoreDiskResult[]> {
    const src = await this.source(r);
    const total = r.disk_keys.reduce((n, k) => n + (src.capacities.get(k) ?? 0), 0);
    let before = 0;
    const results: RestoreDiskResult[] = [];
    const target = r.target;
    const phase = target.type === 'file' ? 'write' : 'upload';
    const report = (disk: number, done: number) => progress({ phase, disk, bytes_done: before + done, bytes_total: total });
    const session = target.type === 'datastore' ? await this.uploader.open(target) : undefined;
    try {
      for (const key of r.disk_keys) {
        const capacity = src.capacities.get(key)!;
        const name = restoredImageName(r.backup_id, key);
        report(key, 0);
        if (target.type === 'file') {
          results.push(await this.toFile(src, key, path.join(target.path, name), r.overwrite, (done) => report(key, done)));
        } else {
          const location = `[${target.datastore}] ${target.folder}/${name}`;
          // a file this restore began in an earlier attempt is its own to replace
          const mine = r.results.some((x) => x.location === location);
          await this.recordStarted(r, results, { disk_key: key, location, bytes: 0 });
          const stream = await src.repo.readRange(src.pointId, String(key), 0, capacity);
          await session!.upload(location, stream, capacity, r.overwrite || mine, (done) => report(key, done));
          results.push({ disk_key: key, location, bytes: capacity });
        }
        before += capacity;
        report(key, 0);
      }
    } finally {
      await session?.close();
    }
    return results;
  }

  /** The point, its repository and its disks' capacities; permanent errors when they are gone. */
  private async source(r: RestoreRecord): Promise<Source> {
    const backup = await this.stores.backups.get(r.backup_id);
    if (!backup?.manifest_ref || backup.status !== 'success') throw new PermanentError(`Backup ${r.backup_id} has no restore point any more`);
    const repoRow = await this.stores.repositories.get(backup.repository_id);
    if (!repoRow) throw new PermanentError(`Repository ${backup.repository_id} of backup ${r.backup_id} does not exist`);
    let repo: Repository;
    try {
      repo = await Repository.open(repoRow.config.path);
    } catch (err) {
      if (isRepositoryError(err)) throw new PermanentError(`Repository "${repoRow.name}" (${repoRow.config.path}) cannot be opened: ${err.message}`, { cause: err });
      throw new TransientError(`Repository "${repoRow.name}" (${repoRow.config.path}) cannot be read: ${(err as Error).message}`, { cause: err });
    }
    const point = await repo.readPoint(backup.manifest_ref).catch((err: unknown) => {
      throw new PermanentError(`Restore point ${backup.manifest_ref} of backup ${r.backup_id} cannot be read: ${(err as Error).message}`, { cause: err });
    });
    const capacities = new Map(point.disks.map((d) => [Number(d.key), d.capacity]));
    for (const k of r.disk_keys) if (!capacities.has(k)) throw new PermanentError(`Restore point ${backup.manifest_ref} has no disk ${k}`);
    return { repo, pointId: backup.manifest_ref, capacities };
  }

  /** Writes one image to `final` through a temporary file; never replaces an existing file unless `overwrite`. */
  private async toFile(src: Source, key: number, final: string, overwrite: boolean, onBytes: (done: number) => void): Promise<RestoreDiskResult> {
    const dir = path.dirname(final);
    const s = await stat(dir).catch(() => undefined);
    if (!s?.isDirectory()) throw new PermanentError(`The restore folder ${dir} does not exist any more`);
    if (!overwrite && (await exists(final))) throw new PermanentError(`${final} exists already: restore with overwrite: true to replace it`);
    const tmp = path.join(dir, partialImageName(path.basename(final)));
    const sink = fileSink(tmp, { sync: true });
    try {
      const done = await src.repo.restoreDisk(src.pointId, String(key), sink, { onProgress: (p) => onBytes(p.bytes_done) });
      if (overwrite) await rename(tmp, final);
      else {
        // link refuses an existing name, so a file that appeared meanwhile is never replaced
        await link(tmp, final).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') throw new PermanentError(`${final} appeared while the image was written: restore with overwrite: true to replace it`);
          throw err;
        });
        await rm(tmp, { force: true });
      }
      await syncDir(dir);
      return { disk_key: key, location: final, bytes: done.capacity };
    } catch (err) {
      await sink.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  private async recordStarted(r: RestoreRecord, done: RestoreDiskResult[], started: RestoreDiskResult): Promise<void> {
    const earlier = r.results.filter((x) => x.location !== started.location && !done.some((d) => d.location === x.location));
    r.results = [...earlier, ...done, started];
    await this.stores.restores.recordResults(r.id, r.results);
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false;
    throw err;
  });
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
