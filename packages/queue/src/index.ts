export * from './catalog.js';
export * from './connection.js';
export * from './producer.js';
export * from './vm-backup-queue.js';
export * from './flow-schedulers.js';
export * from './backup-jobs.js';
