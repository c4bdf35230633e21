export * from './connection.js';
export * from './migrate.js';
export * from './sql-errors.js';
