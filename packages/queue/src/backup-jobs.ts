import type { Queue } from 'bullmq';
import { JOBS, adhocBackupJobId, restoreJobId, type BackupAdhocPayload, type BackupRestorePayload } from './catalog.js';

/** Where a job of the queue is; `missing` when the queue has no job of that id (never added, or lost with Redis). */
export type QueuedJobState = 'waiting' | 'delayed' | 'prioritized' | 'active' | 'completed' | 'failed' | 'waiting-children' | 'missing';

/** A job's state and, for a failed one, why it failed. */
export interface QueuedJob {
  state: QueuedJobState;
  failedReason?: string;
}

/**
 * Places backups started through the API (`backup.adhoc`) and restores (`backup.restore`) on
 * `vm-backups`. Job ids derive from the rows, so adding the same row twice adds one job.
 */
export class BackupJobQueue {
  constructor(private readonly queue: Queue) {}

  async enqueueBackup(payload: BackupAdhocPayload): Promise<void> {
    await this.add('backup.adhoc', payload, adhocBackupJobId(payload.backup_id));
  }

  async enqueueRestore(payload: BackupRestorePayload): Promise<void> {
    await this.add('backup.restore', payload, restoreJobId(payload.restore_id));
  }

  private async add(name: 'backup.adhoc' | 'backup.restore', payload: object, jobId: string): Promise<void> {
    const spec = JOBS[name];
    await this.queue.add(name, payload, {
      jobId,
      attempts: spec.attempts,
      backoff: { type: 'exponential', delay: spec.backoffMs },
      removeOnComplete: { age: 7 * 86400, count: 50_000 },
      removeOnFail: { age: 30 * 86400 },
    });
  }

  /** The state of job `jobId`. */
  async job(jobId: string): Promise<QueuedJob> {
    const job = await this.queue.getJob(jobId);
    if (!job) return { state: 'missing' };
    const state = (await job.getState()) as QueuedJobState | 'unknown';
    if (state === 'unknown') return { state: 'missing' };
    return state === 'failed' ? { state, failedReason: job.failedReason } : { state };
  }
}
