import type { Db } from './connection.js';

export interface MigrateOptions {
  /** Folder of the knex migrations (the repository's migrations/). */
  directory: string;
}

const config = (o: MigrateOptions) => ({
  directory: o.directory,
  loadExtensions: ['.ts', '.js'],
  tableName: 'knex_migrations',
});

/**
 * Brings the schema to the newest migration. Safe to run from several processes at once: knex
 * holds its migration lock while it works. Needs a TypeScript loader (tsx) for .ts migrations.
 */
export async function migrateLatest(db: Db, o: MigrateOptions): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(config(o))) as [number, string[]];
  return applied;
}

/** Rolls back every migration (the test of each `down`). */
export async function migrateRollbackAll(db: Db, o: MigrateOptions): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(config(o), true)) as [number, string[]];
  return reverted;
}
