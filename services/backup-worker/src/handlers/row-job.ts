import { isRepositoryError } from '@vaultflow/backup-repository';
import { isTransient } from '@vaultflow/errors';

/** Progress as the API shows it. */
export interface JobProgress {
  phase: string;
  disk?: number | null;
  bytes_done: number;
  bytes_total: number;
}

/** What a handler needs of a queue job (a BullMQ Job fits, but handlers never see one). */
export interface QueueJobInput<P> {
  data: P;
  /** Attempts made before this one. */
  attemptsMade: number;
  maxAttempts: number;
  reportProgress(p: JobProgress): void;
}

/** The row a job works for (a backup or a restore started through the API). */
export interface JobRows {
  /** Takes the row for this worker; false when it has ended (the job must not run). */
  take(id: string, workerId: string): Promise<boolean>;
  progress(id: string, p: JobProgress): Promise<void>;
  /** Queued again after a failed attempt that will be retried. */
  backToQueue(id: string, error: string): Promise<void>;
  fail(id: string, error: string): Promise<void>;
}

export type RowJobOutcome =
  | { state: 'dropped'; reason: string }
  | { state: 'done' }
  | { state: 'retry'; error: Error }
  | { state: 'failed'; error: string };

export interface RowJobOptions {
  workerId: string;
  /** 1 for the first try. */
  attempt: number;
  maxAttempts: number;
  /** How often progress is written to the row (and reported to onProgress); default 2000 ms. */
  checkEveryMs?: number;
  onProgress?: (p: JobProgress) => void;
}

/** Failures worth another attempt: marked transient, or a repository busy with a prune. */
export function retryable(err: unknown): boolean {
  return isTransient(err) || isRepositoryError(err, 'LOCKED');
}

/**
 * The lifecycle of a job that works for one row: take the row (or drop the job when the row has
 * ended), run the work while its progress is saved every few seconds, then leave the row queued
 * again for a retry (transient failure, attempts left) or failed. The work records success itself.
 */
export async function runRowJob(rows: JobRows, id: string, opts: RowJobOptions, work: (progress: (p: JobProgress) => void) => Promise<void>): Promise<RowJobOutcome> {
  if (!(await rows.take(id, opts.workerId))) return { state: 'dropped', reason: 'the row has ended' };
  let last: JobProgress | undefined;
  let saved: JobProgress | undefined;
  const timer = setInterval(() => {
    if (!last || last === saved) return;
    saved = last;
    opts.onProgress?.(last);
    void rows.progress(id, last).catch(() => undefined);
  }, opts.checkEveryMs ?? 2000);
  try {
    await work((p) => {
      last = p;
    });
    return { state: 'done' };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    if (retryable(e) && opts.attempt < opts.maxAttempts) {
      await rows.backToQueue(id, `attempt ${opts.attempt} of ${opts.maxAttempts} failed, will retry: ${e.message}`);
      return { state: 'retry', error: e };
    }
    await rows.fail(id, e.message);
    return { state: 'failed', error: e.message };
  } finally {
    clearInterval(timer);
  }
}
