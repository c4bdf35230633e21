import { statfs as fsStatfs } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from './permanent-error.js';

/** What one disk of a planned backup will read (a full: its allocated areas; an incremental: its changed areas). */
export interface PlannedDiskRead {
  disk: number | string;
  mode: 'full' | 'incremental';
  bytes: number;
}

/** The most a backup can add to its repository, worst case. */
export interface BackupEstimate {
  /** Bytes the backup will read from the disks. */
  bytes_to_read: number;
  /** Worst-case growth of the repository: incompressible, unshared data plus its records. */
  bytes_needed: number;
}

/** Free space of the file system that holds a repository (statfs, in bytes). */
export interface FileSystemSpace {
  total: number;
  /** What an unprivileged writer may still use (statfs bavail). */
  available: number;
}

/** The smallest unit a changed area is stored in (the repository's zero block), and the records per chunk. */
const BLOCK = 64 * 1024;
/** Pack trailer entry, index entry and manifest extent of one chunk (48 + 48 + 56 bytes), rounded up. */
const RECORD_BYTES = 160;
/** Manifest header, pack and index file headers, and the extent table kept from the parent, per disk. */
const PER_DISK_SLACK = 1024 * 1024;

/**
 * Worst case of what a backup adds to its repository: every byte read stored uncompressed and not
 * shared with any other point (the repository stores a chunk raw when compression does not pay),
 * cut into 64 KiB chunks, each with its pack, index and manifest records, plus some slack per disk.
 * Pure.
 */
export function estimateBackup(reads: readonly PlannedDiskRead[]): BackupEstimate {
  let toRead = 0;
  let needed = 0;
  for (const r of reads) {
    toRead += r.bytes;
    needed += r.bytes + Math.ceil(r.bytes / BLOCK) * RECORD_BYTES + PER_DISK_SLACK;
  }
  return { bytes_to_read: toRead, bytes_needed: needed };
}

/**
 * The free space a backup must leave untouched: 1% of the file system, at most 1 GiB, so a full
 * repository still has room for prune and for the hub's own files.
 */
export function reserveOf(space: FileSystemSpace): number {
  return Math.min(1024 ** 3, Math.ceil(space.total * 0.01));
}

/** Whether the estimate fits in the space (keeping the reserve free), and by how much it does not. Pure. */
export function checkFits(estimate: BackupEstimate, space: FileSystemSpace): { fits: boolean; reserve: number; shortfall: number } {
  const reserve = reserveOf(space);
  const shortfall = estimate.bytes_needed + reserve - space.available;
  return { fits: shortfall <= 0, reserve, shortfall: Math.max(0, shortfall) };
}

/** `1.5 GiB`, `300 KiB`, `12 B`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** The repository a backup writes to, as the error names it. */
export interface RepositoryRef {
  id: number;
  name: string;
  path: string;
}

/** A backup does not fit in its repository: permanent (a retry would not fit either). */
export class RepositoryFullError extends PermanentError {
  readonly code = 'REPOSITORY_FULL';
  constructor(
    message: string,
    readonly figures: { repository_id: number; available: number; needed: number; reserve: number; bytes_to_read: number },
  ) {
    super(message);
    this.name = 'RepositoryFullError';
  }
}

/** statfs of a path, in bytes. */
export type StatFs = (p: string) => Promise<FileSystemSpace>;

export const statfsSpace: StatFs = async (p) => {
  const s = await fsStatfs(p);
  return { total: s.blocks * s.bsize, available: s.bavail * s.bsize };
};

/**
 * Checks, before a backup writes anything, that its worst-case size fits in the free space of its
 * repository's file system; the statfs is injectable for tests.
 */
export class CapacityGuard {
  constructor(private readonly statfs: StatFs = statfsSpace) {}

  /** Throws RepositoryFullError (naming the repository and the figures) when the backup may not fit. */
  async assertFits(repo: RepositoryRef, reads: readonly PlannedDiskRead[]): Promise<BackupEstimate> {
    const estimate = estimateBackup(reads);
    const space = await this.spaceOf(repo.path);
    const { fits, reserve } = checkFits(estimate, space);
    if (!fits) {
      throw new RepositoryFullError(
        `Repository "${repo.name}" (${repo.path}) has ${formatBytes(space.available)} free; this backup needs up to ${formatBytes(estimate.bytes_needed)} ` +
          `(${formatBytes(estimate.bytes_to_read)} to read from ${reads.length} disk(s)) and ${formatBytes(reserve)} must stay free: free some space, prune, or use another repository`,
        { repository_id: repo.id, available: space.available, needed: estimate.bytes_needed, reserve, bytes_to_read: estimate.bytes_to_read },
      );
    }
    return estimate;
  }

  /** statfs of the path, or of its nearest existing parent (a repository not created yet). */
  private async spaceOf(p: string): Promise<FileSystemSpace> {
    for (let at = path.resolve(p); ; at = path.dirname(at)) {
      try {
        return await this.statfs(at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(at) === at) throw err;
      }
    }
  }
}
