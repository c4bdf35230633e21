import type { Stores } from '@vaultflow/db';
import { isTransient } from '@vaultflow/errors';
import type { BackupVmPayload } from '@vaultflow/queue';
import { Batcher } from './batcher.js';
import type { JobLog } from './job-log.js';
import type { KnownRun, ResultRecorder } from './result-recorder.js';

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
/**
 * How long a VM start trusts that its execution is live (not cancelled, not final) without reading
 * it again. A cancel asked meanwhile is still seen: the canceller takes the rows not yet started,
 * and a VM that started anyway is stopped by its first check (checkEveryMs).
 */
const LIVE_TRUST_MS = 1000;

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
  /** VM starts of one worker that arrive together share one statement (a burst of released VMs). */
  private readonly starts = new Map<string, Batcher<{ vmRunId: number; executionId: string }, boolean>>();
  /** Executions seen live, and when. */
  private readonly live = new Map<string, number>();

  constructor(
    private readonly stores: Stores,
    private readonly recorder: ResultRecorder,
    private readonly log: JobLog,
  ) {}

  private start(vmRunId: number, executionId: string, workerId: string): Promise<boolean> {
    let b = this.starts.get(workerId);
    if (!b) {
      b = new Batcher(async (items) => {
        const live = await this.liveOf(items.map((i) => i.executionId));
        const taken = await this.stores.vmRuns.startMany(items.filter((i) => live.has(i.executionId)).map((i) => i.vmRunId), workerId);
        return items.map((i) => taken.has(i.vmRunId));
      }, START_BATCH);
      this.starts.set(workerId, b);
    }
    return b.run({ vmRunId, executionId });
  }

  /** The executions VM jobs may start for; reads only those not seen live within LIVE_TRUST_MS. */
  private async liveOf(executionIds: string[]): Promise<Set<string>> {
    const now = Date.now();
    const out = new Set<string>();
    const ask: string[] = [];
    for (const id of new Set(executionIds)) {
      const at = this.live.get(id);
      if (at !== undefined && now - at < LIVE_TRUST_MS) out.add(id);
      else ask.push(id);
    }
    if (!ask.length) return out;
    const fresh = await this.stores.executions.liveOf(ask);
    if (this.live.size > 10_000) for (const [id, at] of this.live) if (now - at >= LIVE_TRUST_MS) this.live.delete(id);
    for (const id of ask) {
      if (fresh.has(id)) {
        this.live.set(id, now);
        out.add(id);
      } else this.live.delete(id);
    }
    return out;
  }

  async run(payload: BackupVmPayload, opts: RunOptions, work: VmWork): Promise<RunOutcome> {
    const ids = { flow_id: payload.flow_id, execution_id: payload.execution_id, job_id: `vm-${payload.execution_id}-${payload.vm_context_id}` };
    if (!(await this.start(payload.vm_run_id, payload.execution_id, opts.workerId))) {
      if (!(await this.stores.executions.shouldStop(payload.execution_id))) return { state: 'dropped', reason: 'VM row is final or not released' };
      this.live.delete(payload.execution_id);
      const rec = await this.recorder.record(payload.vm_run_id, { status: 'cancelled', bytes_transferred: 0, error_message: 'cancelled before it started' }, knownRun(payload));
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
      if (await this.stores.executions.shouldStop(payload.execution_id).catch(() => false)) {
        this.live.delete(payload.execution_id);
        abort.abort(new Error('cancelled'));
      }
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
    const rec = await this.recorder.record(payload.vm_run_id, { status, bytes_transferred: r.bytes_transferred, backup_job_id: r.backup_job_id ?? null, error_message: r.error_message ?? null }, knownRun(payload));
    if (!rec.recorded) return { state: 'dropped', reason: 'VM row was final already' };
    return { state: 'recorded', status, ...(r.error_message && status === 'failed' ? { error: r.error_message } : {}) };
  }
}

/** What the job carries of its VM row: enough to record the result without reading the row (jobs queued before vm_name was carried are read). */
function knownRun(p: BackupVmPayload): KnownRun | undefined {
  if (p.vm_name === undefined || p.group_id === undefined) return undefined;
  return { id: p.vm_run_id, execution_id: p.execution_id, flow_id: p.flow_id, vm_context_id: p.vm_context_id, vm_name: p.vm_name, group_id: p.group_id };
}
