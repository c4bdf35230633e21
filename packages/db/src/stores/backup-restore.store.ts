import type { Knex } from 'knex';
import { bool, json, num, numOrNull, type Queryable } from '../rows.js';

export type RestoreStatus = 'pending' | 'running' | 'success' | 'failed';
/** Not ended yet: queued (`pending`) or `running`. */
export const OPEN_RESTORE: RestoreStatus[] = ['pending', 'running'];

/** Where restored images go: files in a folder of the hub, or files on a vCenter datastore. */
export type RestoreTarget =
  | { type: 'file'; path: string }
  | { type: 'datastore'; vcenter_id: string; datacenter: string; datastore: string; folder: string };

/** One restored disk: where its image is and how many bytes it has. */
export interface RestoreDiskResult {
  disk_key: number;
  /** A file path, or a datastore path `[ds] folder/file`. */
  location: string;
  bytes: number;
}

export interface RestoreRecord {
  id: string;
  backup_id: string;
  target: RestoreTarget;
  disk_keys: number[];
  overwrite: boolean;
  status: RestoreStatus;
  phase: string | null;
  progress_disk: number | null;
  bytes_done: number;
  bytes_total: number;
  progress_at: Date | null;
  attempts: number;
  worker_id: string | null;
  results: RestoreDiskResult[];
  error_message: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  created_by: string;
}

export interface NewRestore {
  id: string;
  backup_id: string;
  target: RestoreTarget;
  disk_keys: number[];
  overwrite: boolean;
  bytes_total: number;
  created_by: string;
}

function toRecord(r: Record<string, unknown>): RestoreRecord {
  return {
    ...(r as unknown as RestoreRecord),
    target: json<RestoreTarget>(r.target)!,
    disk_keys: json<number[]>(r.disk_keys) ?? [],
    overwrite: bool(r.overwrite),
    progress_disk: numOrNull(r.progress_disk),
    bytes_done: num(r.bytes_done),
    bytes_total: num(r.bytes_total),
    attempts: num(r.attempts),
    results: json<RestoreDiskResult[]>(r.results) ?? [],
  };
}

/** SQL for backup_restores: restores of restore points to files or datastores, run as jobs. */
export class BackupRestoreStore {
  constructor(private readonly db: Knex) {}

  async insert(r: NewRestore, q: Queryable = this.db): Promise<void> {
    await q('backup_restores').insert({
      id: r.id,
      backup_id: r.backup_id,
      target_type: r.target.type,
      target: JSON.stringify(r.target),
      disk_keys: JSON.stringify(r.disk_keys),
      overwrite: r.overwrite,
      bytes_total: r.bytes_total,
      status: 'pending',
      phase: 'queued',
      created_by: r.created_by,
    });
  }

  async get(id: string, q: Queryable = this.db): Promise<RestoreRecord | undefined> {
    const row = await q('backup_restores').where({ id }).first();
    return row ? toRecord(row) : undefined;
  }

  /** Restores of one backup, newest first. */
  async ofBackup(backupId: string, limit = 100, q: Queryable = this.db): Promise<RestoreRecord[]> {
    const rows = (await q('backup_restores').where({ backup_id: backupId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit)) as Record<string, unknown>[];
    return rows.map(toRecord);
  }

  /** Open restores of a backup (a delete waits for them). */
  async openOf(backupId: string, q: Queryable = this.db): Promise<RestoreRecord[]> {
    return ((await q('backup_restores').where({ backup_id: backupId }).whereIn('status', OPEN_RESTORE)) as Record<string, unknown>[]).map(toRecord);
  }

  /** Open file restores anywhere (two restores never write the same file). */
  async openFileRestores(q: Queryable = this.db): Promise<RestoreRecord[]> {
    return ((await q('backup_restores').where({ target_type: 'file' }).whereIn('status', OPEN_RESTORE)) as Record<string, unknown>[]).map(toRecord);
  }

  /** A worker takes the restore: pending (or running, after a crash) becomes running. False when it has ended. */
  async take(id: string, workerId: string, q: Queryable = this.db): Promise<boolean> {
    const n = await q('backup_restores')
      .where({ id })
      .whereIn('status', OPEN_RESTORE)
      .update({ status: 'running', phase: 'starting', started_at: q.raw('COALESCE(started_at, CURRENT_TIMESTAMP(3))'), attempts: q.raw('attempts + 1'), worker_id: workerId, progress_at: q.fn.now(3) });
    return n > 0;
  }

  async progress(id: string, p: { phase: string; disk?: number | null; bytes_done: number; bytes_total: number }, q: Queryable = this.db): Promise<void> {
    await q('backup_restores')
      .where({ id, status: 'running' })
      .update({ phase: p.phase.slice(0, 32), progress_disk: p.disk ?? null, bytes_done: p.bytes_done, bytes_total: p.bytes_total, progress_at: q.fn.now(3) });
  }

  /** The images written or being written so far (a retry may replace the ones its restore began). */
  async recordResults(id: string, results: RestoreDiskResult[], q: Queryable = this.db): Promise<void> {
    await q('backup_restores').where({ id }).whereIn('status', OPEN_RESTORE).update({ results: JSON.stringify(results) });
  }

  async succeed(id: string, results: RestoreDiskResult[], q: Queryable = this.db): Promise<void> {
    await q('backup_restores')
      .where({ id })
      .whereIn('status', OPEN_RESTORE)
      .update({ status: 'success', phase: 'done', progress_disk: null, bytes_done: q.raw('bytes_total'), results: JSON.stringify(results), error_message: null, completed_at: q.fn.now(3) });
  }

  /** Ends an open restore as failed. Idempotent. */
  async fail(id: string, error: string, q: Queryable = this.db): Promise<void> {
    await q('backup_restores').where({ id }).whereIn('status', OPEN_RESTORE).update({ status: 'failed', phase: 'failed', error_message: error.slice(0, 60_000), completed_at: q.fn.now(3) });
  }

  /** After a failed attempt that will be retried: queued again, with what went wrong. */
  async backToQueue(id: string, error: string, q: Queryable = this.db): Promise<void> {
    await q('backup_restores').where({ id, status: 'running' }).update({ status: 'pending', phase: 'retry-wait', error_message: error.slice(0, 60_000) });
  }

  /** Open restores created before `before`: the sweeper checks their jobs. */
  async openBefore(before: Date, limit = 500, q: Queryable = this.db): Promise<RestoreRecord[]> {
    const rows = (await q('backup_restores').whereIn('status', OPEN_RESTORE).where('created_at', '<', before).orderBy('created_at').limit(limit)) as Record<string, unknown>[];
    return rows.map(toRecord);
  }
}
