import type { Stores } from '@vaultflow/db';
import type { ReleaseScope } from '@vaultflow/engine';
import type { Logger } from '@vaultflow/logging';
import type { BackupAdhocPayload } from '@vaultflow/queue';
import type { VmBackupService } from '../services/vm-backup.service.js';
import { runRowJob, type JobRows, type QueueJobInput, type RowJobOutcome } from './row-job.js';

/** Starts flow VMs that waited for a VM (the engine's Releaser fits). */
export interface VmReleaser {
  release(scope: ReleaseScope): Promise<number>;
}

/**
 * `backup.adhoc`: one VM backed up outside any flow (POST /backups), into the backups row the API
 * queued, with the same VmBackupService as flow backups. Progress is saved on the row; a crashed
 * worker's job is taken again (BullMQ stalled jobs) and the row with it. When it ends, flow VMs that
 * waited for this VM may start.
 */
export class BackupAdhocHandler {
  private readonly rows: JobRows;

  constructor(
    stores: Stores,
    private readonly backups: VmBackupService,
    private readonly releaser: VmReleaser,
    private readonly logger: Logger,
    private readonly workerId: string,
    private readonly checkEveryMs = 2000,
  ) {
    this.rows = {
      take: (id, worker) => stores.backupRuns.take(id, worker),
      progress: (id, p) => stores.backupRuns.progress(id, p),
      backToQueue: (id, error) => stores.backupRuns.backToQueue(id, error),
      fail: (id, error) => stores.backups.fail(id, 'failed', error),
    };
  }

  async handle(job: QueueJobInput<BackupAdhocPayload>): Promise<RowJobOutcome> {
    const d = job.data;
    const attempt = job.attemptsMade + 1;
    try {
      return await runRowJob(this.rows, d.backup_id, { workerId: this.workerId, attempt, maxAttempts: job.maxAttempts, checkEveryMs: this.checkEveryMs, onProgress: (p) => job.reportProgress(p) }, async (progress) => {
        // no flow, no execution: the service fills the row instead (run.backupId)
        const payload = { execution_id: '', flow_id: '', vm_run_id: 0, vm_context_id: d.vm_context_id, repository_id: d.repository_id, backup_type: d.backup_type };
        await this.backups.backup({ payload, attempt, signal: new AbortController().signal, progress }, { backupId: d.backup_id });
      });
    } finally {
      // the VM is free again (unless a retry is queued): flow VMs that waited for it may start
      await this.releaser.release({ vmIds: [d.vm_context_id] }).catch((err: Error) => this.logger.warn({ err: err.message, vm: d.vm_context_id }, 'release after an API backup failed'));
    }
  }
}
