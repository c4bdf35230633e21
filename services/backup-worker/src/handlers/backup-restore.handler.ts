import type { Stores } from '@vaultflow/db';
import type { Logger } from '@vaultflow/logging';
import type { BackupRestorePayload } from '@vaultflow/queue';
import type { RestoreService } from '../services/restore.service.js';
import { runRowJob, type JobRows, type QueueJobInput, type RowJobOutcome } from './row-job.js';

/**
 * `backup.restore`: writes the disk images of a restore point to the restore's target (files on the
 * hub or a datastore), with progress on the restore row; a crashed worker's job is taken again and
 * starts the images over.
 */
export class BackupRestoreHandler {
  private readonly rows: JobRows;

  constructor(
    private readonly stores: Stores,
    private readonly restores: RestoreService,
    private readonly logger: Logger,
    private readonly workerId: string,
    private readonly checkEveryMs = 2000,
  ) {
    this.rows = {
      take: (id, worker) => stores.restores.take(id, worker),
      progress: (id, p) => stores.restores.progress(id, p),
      backToQueue: (id, error) => stores.restores.backToQueue(id, error),
      fail: (id, error) => stores.restores.fail(id, error),
    };
  }

  async handle(job: QueueJobInput<BackupRestorePayload>): Promise<RowJobOutcome> {
    const id = job.data.restore_id;
    const opts = { workerId: this.workerId, attempt: job.attemptsMade + 1, maxAttempts: job.maxAttempts, checkEveryMs: this.checkEveryMs, onProgress: job.reportProgress.bind(job) };
    const out = await runRowJob(this.rows, id, opts, async (progress) => {
      const r = await this.stores.restores.get(id);
      if (!r) throw new Error(`restore ${id} disappeared`);
      const results = await this.restores.restore(r, progress);
      await this.stores.restores.succeed(id, results);
    });
    if (out.state === 'failed' || out.state === 'retry') this.logger.warn({ restore: id, state: out.state, err: out.state === 'failed' ? out.error : out.error.message }, 'restore attempt failed');
    return out;
  }
}
