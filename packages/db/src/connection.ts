import knexImport, { type Knex } from 'knex';

const knex = knexImport as unknown as typeof knexImport.default;

export type Db = Knex;
export type Tx = Knex.Transaction;

/**
 * Opens a pool to the MariaDB database named in `url` (mysql://user:pass@host:port/db). Every
 * connection runs in UTC so TIMESTAMP columns round-trip as the instants they were written, and
 * READ COMMITTED: transactions serialise on row locks and must then see what others committed
 * before they got the lock (under REPEATABLE READ a count taken after the lock reads an older
 * snapshot). Set once per connection, it costs no statement per transaction.
 */
export function createDb(url: URL | string, opts: { poolMax?: number } = {}): Db {
  const u = typeof url === 'string' ? new URL(url) : url;
  return knex({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password),
      database: databaseName(u),
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
    },
    pool: {
      min: 0,
      max: opts.poolMax ?? 10,
      afterCreate: (conn: { query: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
        conn.query("SET time_zone = '+00:00', SESSION tx_isolation = 'READ-COMMITTED'", (err) => done(err, conn));
      },
    },
  });
}

/** The database name of a DATABASE_URL; throws when it has none. */
export function databaseName(u: URL): string {
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL must name a database, e.g. mysql://root@127.0.0.1:3306/vaultflow');
  return name;
}

/** Creates the database of `url` when it does not exist (the server must be reachable). Idempotent. */
export async function ensureDatabase(url: URL | string): Promise<void> {
  const u = new URL(String(url));
  const name = databaseName(u);
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(name)) throw new Error(`Unsafe database name "${name}"`);
  const server = new URL(u);
  server.pathname = '/';
  const admin = knex({
    client: 'mysql2',
    connection: {
      host: server.hostname,
      port: server.port ? Number(server.port) : 3306,
      user: decodeURIComponent(server.username || 'root'),
      password: decodeURIComponent(server.password),
    },
    pool: { min: 0, max: 1 },
  });
  try {
    await admin.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
  } finally {
    await admin.destroy();
  }
}
