import type { Stores } from '@vaultflow/db';
import { adhocBackupJobId, restoreJobId, type BackupJobQueue, type QueuedJob } from '@vaultflow/queue';
import type { VmReleaser } from '../handlers/backup-adhoc.handler.js';

export interface BackupSweepReport {
  /** Open rows whose job was gone (never added, or lost with Redis): queued again. */
  requeued: number;
  /** Open rows whose job ended without ending them (failed for good, e.g. stalled too often): failed. */
  failed: number;
}

/**
 * Makes sure no backup or restore started through the API stays open forever: an open row whose
 * job is missing gets its job again (job ids derive from rows, so this is idempotent), and an open
 * row whose job has ended for good (BullMQ gave up on it, e.g. after it stalled too often) is
 * failed with the queue's reason. Safe on every worker replica at once.
 */
export class BackupJobSweeper {
  constructor(
    private readonly stores: Stores,
    private readonly jobs: BackupJobQueue,
    private readonly releaser: VmReleaser,
    /** Rows younger than this are left alone (their job may be on its way). */
    private readonly graceMs = 60_000,
  ) {}

  async sweep(): Promise<BackupSweepReport> {
    const report: BackupSweepReport = { requeued: 0, failed: 0 };
    const before = new Date(Date.now() - this.graceMs);
    for (const b of await this.stores.backupRuns.openBefore(before)) {
      const job = await this.jobs.job(adhocBackupJobId(b.id));
      if (job.state === 'missing') {
        await this.jobs.enqueueBackup({ backup_id: b.id, vm_context_id: b.vm_context_id, repository_id: b.repository_id, backup_type: b.requested_type });
        report.requeued++;
      } else if (ended(job)) {
        await this.stores.backups.fail(b.id, 'failed', lostReason('backup', job));
        await this.releaser.release({ vmIds: [b.vm_context_id] });
        report.failed++;
      }
    }
    for (const r of await this.stores.restores.openBefore(before)) {
      const job = await this.jobs.job(restoreJobId(r.id));
      if (job.state === 'missing') {
        await this.jobs.enqueueRestore({ restore_id: r.id, backup_id: r.backup_id });
        report.requeued++;
      } else if (ended(job)) {
        await this.stores.restores.fail(r.id, lostReason('restore', job));
        report.failed++;
      }
    }
    return report;
  }
}

function ended(job: QueuedJob): boolean {
  return job.state === 'failed' || job.state === 'completed';
}

function lostReason(what: string, job: QueuedJob): string {
  return job.state === 'failed'
    ? `the ${what} job failed for good: ${job.failedReason ?? 'no reason given'}`
    : `the ${what} job ended without recording a result`;
}
