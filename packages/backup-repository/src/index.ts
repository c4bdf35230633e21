/**
 * @vaultflow/backup-repository: the on-disk format of a local-path backup repository (content-
 * addressed, zstd-compressed chunks in pack files; one self-contained manifest per restore point)
 * and its API: write points, list, restore, read ranges, verify, delete, prune.
 * The format is described in docs/repository-format.md.
 */
export {
  Repository, type RepositoryConfig, type InitOptions, type OpenOptions, type BeginPointOptions, type RestoreOptions,
  type RepositoryStats,
} from './repository.js';
export { PointWriter, type DiskSpec, type WriteProgress } from './point-writer.js';
export type { PointInfo, PointManifest, PointDisk, DiskInfo, DiskMode, PointStats } from './manifest.js';
export { ExtentTable, type Extent } from './extent-table.js';
export { fileSink, writableSink, type RestoreSink, type RestoreProgress } from './disk-image.js';
export type { VerifyReport, VerifyProgress, DamagedChunk, DamagedPoint } from './verify.js';
export type { PruneReport, PruneOptions } from './prune.js';
export type { CopyReport } from './point-copy.js';
export { RepositoryError, isRepositoryError, type RepositoryErrorCode } from './repository-error.js';
export type { LockOptions } from './repository-lock.js';
export { restoredImageName, partialImageName } from './restore-files.js';
export { alignedBuffer, IO_ALIGN } from './direct-io.js';
