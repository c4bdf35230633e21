import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, ensureDatabase, migrateLatest, type Db } from '@vaultflow/db';

/** The repository's migrations folder. */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

/** The MariaDB server tests use (no database in the path). */
export const TEST_SERVER_URL = process.env.VAULTFLOW_TEST_DB_SERVER ?? 'mysql://root@127.0.0.1:3306/';

const PREFIX = 'vaultflow_test_';

export interface TestDatabase {
  name: string;
  url: string;
  db: Db;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A name unique to this run, with its creation time so stale ones can be recognised. */
export function uniqueTestName(tag = ''): string {
  return `${PREFIX}${Math.floor(Date.now() / 1000).toString(36)}_${tag ? tag + '_' : ''}${randomBytes(4).toString('hex')}`;
}

/** Creates an empty database of its own for a test run, optionally migrated to the newest schema. */
export async function createTestDatabase(opts: { migrate?: boolean; tag?: string } = {}): Promise<TestDatabase> {
  const name = uniqueTestName(opts.tag);
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  await ensureDatabase(url);
  const db = createDb(url, { poolMax: 8 });
  if (opts.migrate !== false) await migrateLatest(db, { directory: MIGRATIONS_DIR });
  return {
    name,
    url: url.toString(),
    db,
    async drop() {
      await db.destroy();
      await dropDatabase(name);
    },
  };
}

async function withServer<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = '/mysql';
  const db = createDb(url, { poolMax: 1 });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  if (!name.startsWith(PREFIX)) throw new Error(`Refusing to drop ${name}: not a test database`);
  await withServer((db) => db.raw('DROP DATABASE IF EXISTS ??', [name]));
}

/**
 * Drops test databases left behind by runs that were killed more than `olderThanMs` ago. Only
 * names made by uniqueTestName are touched.
 */
export async function dropStaleTestDatabases(olderThanMs = 6 * 3600_000): Promise<string[]> {
  return withServer(async (db) => {
    const [rows] = (await db.raw('SHOW DATABASES LIKE ?', [`${PREFIX}%`])) as [Record<string, string>[]];
    const dropped: string[] = [];
    for (const row of rows) {
      const name = Object.values(row)[0]!;
      const stamp = name.slice(PREFIX.length).split('_')[0]!;
      const created = parseInt(stamp, 36) * 1000;
      if (Number.isFinite(created) && Date.now() - created > olderThanMs) {
        await db.raw('DROP DATABASE IF EXISTS ??', [name]);
        dropped.push(name);
      }
    }
    return dropped;
  });
}
