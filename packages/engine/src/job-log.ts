import type { JobLogEntry, JobLogStore } from '@vaultflow/db';
import type { Logger } from '@vaultflow/logging';

/** Where an entry belongs; jobs outside any flow (API backups, restores) have a job id only. */
type Ids = { flow_id: string | null; execution_id: string | null; job_id?: string };

/** Entries wait at most this long, or until this many gather, before one INSERT writes them. */
const FLUSH_MS = 50;
const FLUSH_MAX = 500;
/** Callers wait for the write only when this many entries are pending (the database is behind). */
const BACKLOG_MAX = 20_000;

/**
 * Writes steps of executions and VM jobs to job_logs (what users read in the GUI) and to the
 * service's pino log with the same ids. Entries are written in small batches (one INSERT per
 * 50 ms at most), so logging never costs a commit per step; `flush()` writes what is pending
 * (services call it when they stop). A failing log write never fails a job.
 */
export class JobLog {
  private pending: JobLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Entries queued and not yet written. */
  private backlog = 0;

  constructor(
    private readonly store: JobLogStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Queues the entry. Resolves at once: the entry is written in the background within FLUSH_MS
   * (a burst of fires or results never waits for its log lines), unless the backlog grew past
   * BACKLOG_MAX, when the caller waits for the write (backpressure instead of unbounded memory).
   */
  write(e: JobLogEntry): Promise<void> {
    const fields = { flowId: e.flow_id, executionId: e.execution_id, jobId: e.job_id, step: e.step, ...(e.context ?? {}) };
    this.logger[e.level](fields, e.message);
    this.pending.push(e);
    this.backlog++;
    if (this.backlog >= BACKLOG_MAX) return this.flush();
    if (this.pending.length >= FLUSH_MAX) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    return Promise.resolve();
  }

  /** Writes everything queued so far. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (!batch.length) return;
      await this.store.writeMany(batch).catch((err: Error) => this.logger.warn({ err: err.message, entries: batch.length }, 'job log write failed'));
      this.backlog -= batch.length;
    });
    return this.flushing;
  }

  info(ids: Ids, step: string, message: string, context?: Record<string, unknown>) {
    return this.write({ ...ids, level: 'info', step, message, context });
  }

  warn(ids: Ids, step: string, message: string, context?: Record<string, unknown>) {
    return this.write({ ...ids, level: 'warn', step, message, context });
  }

  error(ids: Ids, step: string, message: string, context?: Record<string, unknown>) {
    return this.write({ ...ids, level: 'error', step, message, context });
  }
}
