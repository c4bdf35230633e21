export { startBackupWorker, type BackupWorker, type BackupWorkerDeps } from './worker.js';
export { loadWorkerConfig, type WorkerConfig } from './config.js';
export { VmBackupService, connectVsphere, type VsphereConnect, type PasswordOpener } from './services/vm-backup.service.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
