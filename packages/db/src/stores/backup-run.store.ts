import type { Knex } from 'knex';
import { num, type Queryable } from '../rows.js';
import { OPEN_BACKUP, type BackupProgress, type BackupRecord } from './backup.store.js';

/** A backup asked for through the API, before a worker has it. */
export interface NewQueuedBackup {
  id: string;
  vm_context_id: string;
  repository_id: number;
  requested_type: BackupRecord['requested_type'];
  created_by: string;
}

/**
 * SQL for the life of a backup started outside a flow (POST /backups): queued by the API, taken by
 * a worker (again after a crash), progress, back to the queue between attempts. The end (success or
 * failure) is BackupStore.complete / fail, as for flow backups.
 */
export class BackupRunStore {
  constructor(private readonly db: Knex) {}

  /** Inserts the backup as `pending` (queued). The type is what was asked until the worker plans it. */
  async insertQueued(b: NewQueuedBackup, q: Queryable = this.db): Promise<void> {
    await q('backup_jobs').insert({
      ...b,
      flow_execution_id: null,
      backup_type: b.requested_type === 'incremental' ? 'incremental' : 'full',
      status: 'pending',
      phase: 'queued',
    });
  }

  /** Open backups of the VM started outside a flow (the VM's inventory row should be locked by the caller). */
  async openOutsideFlows(vmContextId: string, q: Queryable = this.db): Promise<{ id: string; status: string; created_by: string }[]> {
    return (await q('backup_jobs')
      .where({ vm_context_id: vmContextId })
      .whereNull('flow_execution_id')
      .whereIn('status', OPEN_BACKUP)
      .select('id', 'status', 'created_by')) as { id: string; status: string; created_by: string }[];
  }

  /** Flow runs of the VM that are queued or running (its inventory row should be locked by the caller). */
  async activeFlowRuns(vmContextId: string, q: Queryable = this.db): Promise<{ execution_id: string; flow_id: string; status: string }[]> {
    return (await q('protection_flow_vm_runs')
      .where({ vm_context_id: vmContextId })
      .whereIn('status', ['queued', 'running'])
      .select('execution_id', 'flow_id', 'status')) as { execution_id: string; flow_id: string; status: string }[];
  }

  /**
   * A worker takes the backup: pending (or running, after a crash) becomes running and attempts
   * grows. Returns false when the backup has ended (or does not exist): the job must not run.
   */
  async take(id: string, workerId: string, q: Queryable = this.db): Promise<boolean> {
    const n = await q('backup_jobs')
      .where({ id })
      .whereIn('status', OPEN_BACKUP)
      .update({
        status: 'running',
        phase: 'starting',
        started_at: q.raw('COALESCE(started_at, CURRENT_TIMESTAMP)'),
        attempts: q.raw('attempts + 1'),
        worker_id: workerId,
        progress_at: q.fn.now(3),
      });
    return n > 0;
  }

  async progress(id: string, p: BackupProgress, q: Queryable = this.db): Promise<void> {
    await q('backup_jobs')
      .where({ id, status: 'running' })
      .update({ phase: p.phase.slice(0, 32), progress_disk: p.disk ?? null, bytes_done: p.bytes_done, bytes_to_read: p.bytes_total, progress_at: q.fn.now(3) });
  }

  /** What the worker decided once the snapshot is taken: the type so far and the consistency. */
  async planned(id: string, p: { backup_type: BackupRecord['backup_type']; consistency: BackupRecord['consistency'] }, q: Queryable = this.db): Promise<void> {
    await q('backup_jobs').where({ id }).whereIn('status', OPEN_BACKUP).update(p);
  }

  /** After a failed attempt that will be retried: queued again, with what went wrong. */
  async backToQueue(id: string, error: string, q: Queryable = this.db): Promise<void> {
    await q('backup_jobs').where({ id, status: 'running' }).update({ status: 'pending', phase: 'retry-wait', error_message: error.slice(0, 60_000) });
  }

  /** Open backups started outside flows and created before `before`: the sweeper checks their jobs. */
  async openBefore(before: Date, limit = 500, q: Queryable = this.db): Promise<Pick<BackupRecord, 'id' | 'vm_context_id' | 'repository_id' | 'requested_type' | 'status'>[]> {
    const rows = (await q('backup_jobs')
      .whereIn('status', OPEN_BACKUP)
      .whereNull('flow_execution_id')
      .where('created_at', '<', before)
      .orderBy('created_at')
      .limit(limit)
      .select('id', 'vm_context_id', 'repository_id', 'requested_type', 'status')) as Record<string, unknown>[];
    return rows.map((r) => ({ ...(r as unknown as BackupRecord), repository_id: num(r.repository_id) }));
  }
}
