import type { Knex } from 'knex';

/**
 * Statements sent straight to a pooled mysql2 connection, for the engine's hot paths (a VM start,
 * a batch of results, a release): no query builder and no pool round per statement, and several
 * statements in one round trip. Through Knex a primary-key lookup costs this process about five
 * times the CPU of the statement itself; on a busy hub that, not MariaDB, bounds how many VM jobs
 * a worker finishes per second.
 *
 * Values always travel as bound parameters (`?`, arrays expand to lists); the SQL text is the store's
 * own. Several statements go as one MariaDB compound statement (BEGIN NOT ATOMIC ... END), so the
 * connection never accepts multi-statement text.
 */
export type Row = Record<string, unknown>;

interface RawConnection {
  query(sql: string, values: unknown[], cb: (err: Error | null, result: unknown) => void): void;
  destroy(): void;
}

interface ClientPool {
  acquireConnection(): Promise<RawConnection>;
  releaseConnection(c: RawConnection): Promise<unknown>;
}

export interface Ok {
  affectedRows: number;
}

/** One statement of a trip, with its values. */
export interface Stmt {
  sql: string;
  values: unknown[];
}

export const stmt = (sql: string, values: unknown[] = []): Stmt => ({ sql, values });

export class DirectConnection {
  constructor(private readonly conn: RawConnection) {}

  /** Closes the connection (the pool then drops it): for a connection whose state is unknown. */
  destroy(): void {
    this.conn.destroy();
  }

  query<T = Row[]>(sql: string, values: unknown[] = []): Promise<T> {
    return new Promise((resolve, reject) => this.conn.query(sql, values, (err, res) => (err ? reject(err) : resolve(res as T))));
  }

  /**
   * The statements in one round trip; returns the rows of each statement that returns rows, in
   * order (a write can report its count with `SELECT ROW_COUNT() AS n` right after it).
   */
  async trip(statements: Stmt[]): Promise<Row[][]> {
    if (!statements.length) return [];
    if (statements.length === 1) {
      const res = await this.query<unknown>(statements[0]!.sql, statements[0]!.values);
      return Array.isArray(res) ? [res as Row[]] : [];
    }
    const sql = `BEGIN NOT ATOMIC ${statements.map((s) => s.sql).join('; ')}; END`;
    const res = await this.query<unknown>(sql, statements.flatMap((s) => s.values));
    return Array.isArray(res) ? (res.filter((r) => Array.isArray(r)) as Row[][]) : [];
  }
}

/**
 * A transaction on one held connection whose statements go in few trips: the first trip begins
 * it, `commit` ends it (optionally with the last statements). Leaving without commit, or an error,
 * rolls it back.
 */
export class DirectTx {
  private begun = false;
  done = false;

  constructor(private readonly c: DirectConnection) {}

  trip(statements: Stmt[]): Promise<Row[][]> {
    const all = this.begun ? statements : [stmt('START TRANSACTION'), ...statements];
    this.begun = true;
    return this.c.trip(all);
  }

  /** Commits after `statements`; `after` run in the same round trip once committed (autocommit). */
  async commit(statements: Stmt[] = [], after: Stmt[] = []): Promise<Row[][]> {
    const out = await this.trip([...statements, stmt('COMMIT'), ...after]);
    this.done = true;
    return out;
  }

  /** For a trip that committed itself (a COMMIT inside a condition): nothing is left to roll back. */
  committed(): void {
    this.done = true;
  }

  async rollback(): Promise<void> {
    if (!this.begun || this.done) return;
    this.done = true;
    try {
      await this.c.query('ROLLBACK');
    } catch (err) {
      this.c.destroy(); // never hand a connection with an open transaction back to the pool
      throw err;
    }
  }
}

export class Direct {
  constructor(private readonly db: Knex) {}

  private get pool(): ClientPool {
    return this.db.client as unknown as ClientPool;
  }

  async with<T>(fn: (c: DirectConnection) => Promise<T>): Promise<T> {
    const conn = await this.pool.acquireConnection();
    try {
      return await fn(new DirectConnection(conn));
    } finally {
      await this.pool.releaseConnection(conn);
    }
  }

  /** One autocommitted statement. */
  query<T = Row[]>(sql: string, values: unknown[] = []): Promise<T> {
    return this.with((c) => c.query<T>(sql, values));
  }

  async transaction<T>(fn: (tx: DirectTx) => Promise<T>): Promise<T> {
    return this.with(async (c) => {
      const tx = new DirectTx(c);
      try {
        const out = await fn(tx);
        await tx.rollback();
        return out;
      } catch (err) {
        await tx.rollback().catch(() => undefined);
        throw err;
      }
    });
  }
}
