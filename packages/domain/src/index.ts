export * from './types.js';
export * from './roles.js';
export * from './cron.js';
export * from './flow-rules.js';
export * from './execution-rules.js';
export * from './retention.js';
export * from './backup-lock.js';
