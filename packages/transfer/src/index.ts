/**
 * @vaultflow/transfer: the pieces of a VM disk transfer that the backup worker composes. The CBT planner
 * (full or incremental per disk, the FileFault fallback, read plans), the `/folder` range reader (the
 * `https` transport beside NbdDiskReader), and transferDisk, which copies planned reads into a restore
 * point, skipping zeroes.
 */
export {
  planDisk, planVmDisks, planReads, fallbackToFull, queryPlannedAreas, parseChangeId, describeReason, ALL_AREAS, DEFAULT_MAX_READ, DEFAULT_READ_CONCURRENCY,
  type BackupRequest, type PreviousDiskRecord, type CurrentDisk, type FullReason, type PlanReason, type DiskPlan, type PlannedDisk,
  type ChangedAreasQuery, type ExtentLike, type ReadPlan,
} from './cbt-planner.js';
export { HttpFolderReader, type HttpFolderReaderOptions, type HttpRetryEvent, type FolderSession } from './http-folder-reader.js';
export {
  transferDisk, type TransferDiskOptions, type TransferResult, type TransferProgress, type ExtentReader, type ExtentWriter,
} from './disk-transfer.js';
export { ReadBufferPool } from './read-buffer-pool.js';
export { ReadStripes, DEFAULT_STRIPES } from './read-stripes.js';
export { TransferError, isTransferError, type TransferErrorCode, type TransferErrorDetails } from './transfer-error.js';
export { LocalFileDiskReader, allocatedFromMap, type LocalFileDiskReaderOptions, type AllocationMapSource } from './local-file-disk-reader.js';
export { planDiskReads, splitByAllocation, type DiskReadPlan, type AllocationSplit, type BlockStatusSource } from './disk-read-plan.js';
