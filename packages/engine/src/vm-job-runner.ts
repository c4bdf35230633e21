import type { Stores } from '@vaultflow/db';
import { isTransient } from '@vaultflow/errors';
import type { BackupVmPayload } from '@vaultflow/queue';
import type { StartMark } from './deferred-starts.js';
import { ExecutionLiveness } from './execution-liveness.js';
import type { JobLog } from './job-log.js';
import type { KnownRun, ResultRecorder } from './result-recorder.js';
import { VmStarts } from './vm-starts.js';

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
  /**
   * The queue delivers the job for the first time (no attempt failed, it never stalled): its row
   * was queued just before, so the start is written a little later, or with the result of a job
   * that ends first. Otherwise the row is taken before the work begins.
   */
  firstDelivery?: boolean;
  /** Reports progress to the queue (BullMQ updateProgress), for the live view; at most once per `checkEveryMs`. */
  onProgress?: (p: VmProgress) => void;
  /** How often progress is written to MariaDB and the cancel flag is read. */
  checkEveryMs?: number;
}

type Finish = { bytes_transferred: number; backup_job_id?: string | null; error_message?: string | null };

/**
 * The lifecycle of one VM job, the same for every worker: take the VM row (or drop the job when the
 * row is final or the execution cancelled), run the work with progress and a cancel signal, then
 * record the result through the ResultRecorder. Transient errors are retried while attempts remain;
 * permanent ones and the last attempt are recorded as failed.
 *
 * A first delivery does not wait for its row to be taken: its execution is known live, the start
 * is written within 100 ms together with others (or carried by a result that comes first), and a
 * row found cancelled or ended by then stops the work.
 */
export class VmJobRunner {
  private readonly liveness: ExecutionLiveness;
  private readonly starts: VmStarts;

  constructor(
    private readonly stores: Stores,
    private readonly recorder: ResultRecorder,
    private readonly log: JobLog,
  ) {
    this.liveness = new ExecutionLiveness(stores);
    this.starts = new VmStarts(stores);
  }

  async run(payload: BackupVmPayload, opts: RunOptions, work: VmWork): Promise<RunOutcome> {
    const ids = { flow_id: payload.flow_id, execution_id: payload.execution_id, job_id: `vm-${payload.execution_id}-${payload.vm_context_id}` };
    const mark: StartMark = { vmRunId: payload.vm_run_id, at: new Date() };
    if (!(await this.liveness.isLive(payload.execution_id))) return this.notStarted(payload);
    const abort = new AbortController();
    /** The start went nowhere (a write error): the result carries it. */
    let carry = false;
    if (opts.firstDelivery) {
      this.starts.later(mark, opts.workerId).then(
        (taken) => taken || abort.abort(new Error('cancelled')),
        () => (carry = true),
      );
    } else if (!(await this.starts.now(mark, opts.workerId))) return this.notStarted(payload);
    void this.log.info(ids, 'vm-start', `Worker ${opts.workerId} started the VM (attempt ${opts.attempt} of ${opts.maxAttempts})`);

    let last: VmProgress = { phase: 'starting', bytes_done: 0, bytes_total: 0 };
    let stopCheck = false;
    const every = opts.checkEveryMs ?? 2000;
    let reportedAt = Date.now();
    const check = async () => {
      if (stopCheck) return;
      await this.stores.vmRuns.progress(payload.vm_run_id, last).catch(() => undefined);
      if (await this.stores.executions.shouldStop(payload.execution_id).catch(() => false)) {
        this.liveness.forget(payload.execution_id);
        abort.abort(new Error('cancelled'));
      }
    };
    const timer = setInterval(() => void check(), every);
    const finish = async (status: 'success' | 'failed' | 'cancelled', r: Finish) => {
      const carried = this.starts.withdraw(mark.vmRunId, opts.workerId) ?? (carry ? mark : undefined);
      if (!carried) await this.starts.settled(mark.vmRunId, opts.workerId);
      return this.finish(payload, status, r, carried && { at: carried.at, worker_id: opts.workerId });
    };
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
      if (abort.signal.aborted) return await finish('cancelled', { bytes_transferred: result.bytes_transferred, backup_job_id: result.backup_job_id, error_message: 'cancelled while running' });
      return await finish('success', result);
    } catch (err) {
      stopCheck = true;
      clearInterval(timer);
      const e = err as Error;
      if (abort.signal.aborted) return finish('cancelled', { bytes_transferred: 0, error_message: 'cancelled while running' });
      if (isTransient(e) && opts.attempt < opts.maxAttempts) {
        // The attempt counts: its start is written before the queue retries.
        const unwritten = this.starts.withdraw(mark.vmRunId, opts.workerId) ?? (carry ? mark : undefined);
        if (unwritten) await this.starts.now(unwritten, opts.workerId).catch(() => undefined);
        await this.starts.settled(mark.vmRunId, opts.workerId);
        void this.log.warn(ids, 'vm-retry', `Attempt ${opts.attempt} failed, will retry: ${e.message}`);
        return { state: 'retry', error: e };
      }
      return finish('failed', { bytes_transferred: 0, error_message: e.message });
    }
  }

  /** The row was not taken: the job ends here, recorded as cancelled when its execution is being cancelled. */
  private async notStarted(payload: BackupVmPayload): Promise<RunOutcome> {
    if (!(await this.stores.executions.shouldStop(payload.execution_id))) return { state: 'dropped', reason: 'VM row is final or not released' };
    this.liveness.forget(payload.execution_id);
    const rec = await this.recorder.record(payload.vm_run_id, { status: 'cancelled', bytes_transferred: 0, error_message: 'cancelled before it started' }, knownRun(payload));
    return { state: 'dropped', reason: rec.recorded ? 'execution cancelled' : 'execution final' };
  }

  private async finish(payload: BackupVmPayload, status: 'success' | 'failed' | 'cancelled', r: Finish, started?: { at: Date; worker_id: string }): Promise<RunOutcome> {
    const rec = await this.recorder.record(payload.vm_run_id, { status, bytes_transferred: r.bytes_transferred, backup_job_id: r.backup_job_id ?? null, error_message: r.error_message ?? null, ...(started ? { started } : {}) }, knownRun(payload));
    if (!rec.recorded) return { state: 'dropped', reason: 'VM row was final already' };
    return { state: 'recorded', status, ...(r.error_message && status === 'failed' ? { error: r.error_message } : {}) };
  }
}

/** What the job carries of its VM row: enough to record the result without reading the row (jobs queued before vm_name was carried are read). */
function knownRun(p: BackupVmPayload): KnownRun | undefined {
  if (p.vm_name === undefined || p.group_id === undefined) return undefined;
  return { id: p.vm_run_id, execution_id: p.execution_id, flow_id: p.flow_id, vm_context_id: p.vm_context_id, vm_name: p.vm_name, group_id: p.group_id };
}
