export * from './types.js';
export * from './roles.js';
export * from './cron.js';
