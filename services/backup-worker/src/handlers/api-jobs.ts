import { UnrecoverableError } from 'bullmq';
import type { Stores } from '@vaultflow/db';
import type { Logger } from '@vaultflow/logging';
import { JOBS, type BackupAdhocPayload, type BackupJobQueue, type BackupRestorePayload } from '@vaultflow/queue';
import { BackupJobSweeper } from '../services/backup-job-sweeper.js';
import type { RestoreService } from '../services/restore.service.js';
import type { VmBackupService } from '../services/vm-backup.service.js';
import { BackupAdhocHandler, type VmReleaser } from './backup-adhoc.handler.js';
import { BackupRestoreHandler } from './backup-restore.handler.js';
import type { RowJobOutcome } from './row-job.js';

export interface ApiJobDeps {
  stores: Stores;
  backups: VmBackupService;
  restores: RestoreService;
  releaser: VmReleaser;
  jobs: BackupJobQueue;
  logger: Logger;
  workerId: string;
  /** How often progress is saved; default 2000 ms. */
  checkEveryMs?: number;
  /** How often open rows are checked against their jobs; default 30 s (0: never). */
  sweepEveryMs?: number;
  /** Rows younger than this are not swept; default 60 s. */
  sweepGraceMs?: number;
}

/** What the handlers use of a BullMQ job. */
interface BullJob<P> {
  data: P;
  attemptsMade: number;
  opts: { attempts?: number };
  updateProgress(p: object): Promise<void>;
}

/** A retry is an error BullMQ retries; a failure is final (UnrecoverableError); the rest is the job's result. */
function settle(out: RowJobOutcome): RowJobOutcome {
  if (out.state === 'retry') throw out.error;
  if (out.state === 'failed') throw new UnrecoverableError(out.error);
  return out;
}

/**
 * The jobs the API queues on `vm-backups` (`backup.adhoc`, `backup.restore`) and the sweep that
 * keeps their rows from staying open when a job is lost or given up.
 */
export function apiJobs(d: ApiJobDeps) {
  const adhoc = new BackupAdhocHandler(d.stores, d.backups, d.releaser, d.logger, d.workerId, d.checkEveryMs);
  const restore = new BackupRestoreHandler(d.stores, d.restores, d.logger, d.workerId, d.checkEveryMs);
  const sweeper = new BackupJobSweeper(d.stores, d.jobs, d.releaser, d.sweepGraceMs);
  const input = <P>(job: BullJob<P>, max: number) => ({
    data: job.data,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? max,
    reportProgress: (p: object) => void job.updateProgress(p).catch(() => undefined),
  });
  return {
    handlers: {
      'backup.adhoc': async (job: BullJob<BackupAdhocPayload>) => settle(await adhoc.handle(input(job, JOBS['backup.adhoc'].attempts))),
      'backup.restore': async (job: BullJob<BackupRestorePayload>) => settle(await restore.handle(input(job, JOBS['backup.restore'].attempts))),
    },
    sweeper,
    /** Sweeps now and every `sweepEveryMs`; returns the stop function. */
    startSweeps(): () => void {
      const every = d.sweepEveryMs ?? 30_000;
      if (every <= 0) return () => undefined;
      let running = false;
      const tick = async () => {
        if (running) return;
        running = true;
        try {
          const r = await sweeper.sweep();
          if (r.requeued || r.failed) d.logger.warn(r, 'repaired backups and restores whose jobs were lost or given up');
        } catch (err) {
          d.logger.warn({ err: (err as Error).message }, 'backup job sweep failed');
        } finally {
          running = false;
        }
      };
      void tick();
      const timer = setInterval(() => void tick(), every);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
