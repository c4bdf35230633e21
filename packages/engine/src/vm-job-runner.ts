import type { Stores } from '@vaultflow/db';
import { isTransient } from '@vaultflow/errors';
import type { BackupVmPayload } from '@vaultflow/queue';
import { Batcher } from './batcher.js';
import type { JobLog } from './job-log.js';
import type { ResultRecorder } from './result-recorder.js';

export interface VmProgress {
  phase: string;
  bytes_done: number;
  bytes_total: number;
  disk?: number;
}

/** What the work of one VM gets: where to report progress, and a signal that fires on cancel. */
export interface VmWorkContext {
  payload: BackupVmPayload;
  attempt: number;
  signal: AbortSignal;
  progress(p: VmProgress): void;
}

export interface VmWorkResult {
  bytes_transferred: number;
  backup_job_id?: string | null;
}

const START_BATCH = { windowMs: 1, max: 200 };

export type VmWork = (ctx: VmWorkContext) => Promise<VmWorkResult>;

export type RunOutcome =
  | { state: 'dropped'; reason: string }
  | { state: 'recorded'; status: 'success' | 'failed' | 'cancelled'; error?: string }
  | { state: 'retry'; error: Error };

export interface RunOptions {
  workerId: string;
  /** 1 for the first try. */
  attempt: number;
  maxAttempts: number;
  /** Reports progress to the queue (BullMQ updateProgress), for the live view; at most once per `checkEveryMs`. */
  onProgress?: (p: VmProgress) => void;
  /** How often progress is written to MariaDB and the cancel flag is read. */
  checkEveryMs?: number;
}

/**
 * The lifecycle of one VM job, the same for every worker: take the VM row (or drop the job when the
 * row is final or the execution cancelled), run the work with progress and a cancel signal, then
 * record the result through the ResultRecorder. Transient errors are retried while attempts remain;
 * permanent ones and the last attempt are recorded as failed.
 */
export class VmJobRunner {
  /** VM starts of one worker that arrive together share one transaction (a burst of released VMs). */
  private readonly starts = new Map<string, Batcher<number, boolean>>();

  constructor(
    private readonly stores: Stores,
    private readonly recorder: ResultRecorder,
    private readonly log: JobLog,
  ) {}

  private start(vmRunId: number, workerId: string): Promise<boolean> {
    let b = this.starts.get(workerId);
    if (!b) {
      b = new Batcher(async (ids) => {
        const taken = await this.stores.vmRuns.startMany(ids, workerId);
        return ids.map((id) => taken.has(id));
      }, START_BATCH);
      this.starts.set(workerId, b);
    }
    return b.run(vmRunId);
  }

  async run(payload: BackupVmPayload, opts: RunOptions, work: VmWork): Promise<RunOutcome> {
    const ids = { flow_id: payload.flow_id, execution_id: payload.execution_id, job_id: `vm-${payload.execution_id}-${payload.vm_context_id}` };
    if (!(await this.start(payload.vm_run_id, opts.workerId))) {
      if (!(await this.stores.executions.shouldStop(payload.execution_id))) return { state: 'dropped', reason: 'VM row is final or not released' };
      const rec = await this.recorder.record(payload.vm_run_id, { status: 'cancelled', bytes_transferred: 0, error_message: 'cancelled before it started' });
      return { state: 'dropped', reason: rec.recorded ? 'execution cancelled' : 'execution final' };
    }
    await this.log.info(ids, 'vm-start', `Worker ${opts.workerId} started the VM (attempt ${opts.attempt} of ${opts.maxAttempts})`);

    const abort = new AbortController();
    let last: VmProgress = { phase: 'starting', bytes_done: 0, bytes_total: 0 };
    let stopCheck = false;
    const every = opts.checkEveryMs ?? 2000;
    let reportedAt = Date.now();
    const check = async () => {
      if (stopCheck) return;
      await this.stores.vmRuns.progress(payload.vm_run_id, last).catch(() => undefined);
      if (await this.stores.executions.shouldStop(payload.execution_id).catch(() => false)) abort.abort(new Error('cancelled'));
    };
    const timer = setInterval(() => void check(), every);
    try {
      const result = await work({
        payload,
        attempt: opts.attempt,
        signal: abort.signal,
        progress: (p) => {
          last = p;
          if (opts.onProgress && Date.now() - reportedAt >= every) {
            reportedAt = Date.now();
            opts.onProgress(p);
          }
        },
      });
      stopCheck = true;
      clearInterval(timer);
      if (abort.signal.aborted) return this.finish(payload, 'cancelled', { bytes_transferred: result.bytes_transferred, backup_job_id: result.backup_job_id, error_message: 'cancelled while running' });
      return this.finish(payload, 'success', result);
    } catch (err) {
      stopCheck = true;
      clearInterval(timer);
      const e = err as Error;
      if (abort.signal.aborted) return this.finish(payload, 'cancelled', { bytes_transferred: 0, error_message: 'cancelled while running' });
      if (isTransient(e) && opts.attempt < opts.maxAttempts) {
        await this.log.warn(ids, 'vm-retry', `Attempt ${opts.attempt} failed, will retry: ${e.message}`);
        return { state: 'retry', error: e };
      }
      return this.finish(payload, 'failed', { bytes_transferred: 0, error_message: e.message });
    }
  }

  private async finish(payload: BackupVmPayload, status: 'success' | 'failed' | 'cancelled', r: { bytes_transferred: number; backup_job_id?: string | null; error_message?: string | null }): Promise<RunOutcome> {
    const rec = await this.recorder.record(payload.vm_run_id, { status, bytes_transferred: r.bytes_transferred, backup_job_id: r.backup_job_id ?? null, error_message: r.error_message ?? null });
    if (!rec.recorded) return { state: 'dropped', reason: 'VM row was final already' };
    return { state: 'recorded', status, ...(r.error_message && status === 'failed' ? { error: r.error_message } : {}) };
  }
}
