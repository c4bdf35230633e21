export { startBackupWorker, type BackupWorker, type BackupWorkerDeps } from './worker.js';
export { loadWorkerConfig, DEFAULT_NBDKIT_PLUGIN, NBDKIT_PLACEHOLDERS, type WorkerConfig, type NbdkitPlaceholder } from './config.js';
export { DiskReaderFactory, type DiskReaderSettings, type SnapshotDiskSource, type SnapshotDiskReader } from './services/disk-reader-factory.js';
export { VmBackupService, connectVsphere, type VsphereConnect, type PasswordOpener } from './services/vm-backup.service.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
