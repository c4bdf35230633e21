import { faultFromLocalizedMethodFault, vimFault, VsphereError } from './errors.js';
import { parseMoRef } from './moref.js';
import { retrieveOne } from './property-collector.js';
import type { VsphereSession } from './session.js';
import type { MoRef } from './types.js';
import { xsiType } from './xml.js';

/** Options of {@link waitTask}. */
export interface WaitTaskOptions {
  /** Give up after this long (`TASK_TIMEOUT`, transient: the task may still finish). Default 30 minutes. */
  timeoutMs?: number;
  /** First pause between polls; doubles up to `maxDelayMs`. Default 100 ms. */
  initialDelayMs?: number;
  /** Longest pause between polls. Default 2 s. */
  maxDelayMs?: number;
  /** Stops waiting (`ABORTED`); the task itself goes on. */
  signal?: AbortSignal;
  /** `info.progress` (0-100) when the server reports it. */
  onProgress?: (percent: number) => void;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new VsphereError('ABORTED', 'wait aborted', { cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new VsphereError('ABORTED', 'wait aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls a task's `info` (state, result, error) with exponential backoff until it ends. Resolves with
 * the moref in `info.result` when the result is one (CreateSnapshot_Task's snapshot), else undefined.
 * A failed task rejects with its typed fault (FileFault, TaskInProgressFault, ...) and its localized
 * message; a timeout with `TASK_TIMEOUT` naming the task.
 */
export async function waitTask(session: VsphereSession, task: MoRef, opts: WaitTaskOptions = {}): Promise<MoRef | undefined> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const deadline = Date.now() + timeoutMs;
  let delay = opts.initialDelayMs ?? 100;
  const maxDelay = opts.maxDelayMs ?? 2000;
  for (;;) {
    if (opts.signal?.aborted) throw new VsphereError('ABORTED', `wait for ${task.value} aborted`, { cause: opts.signal.reason });
    const oc = await retrieveOne(session, task, ['info.state', 'info.result', 'info.error', 'info.progress']);
    const state = oc.props.get('info.state')?.text.trim();
    if (state === 'success') {
      const result = oc.props.get('info.result');
      return xsiType(result) === 'ManagedObjectReference' ? parseMoRef(result) : undefined;
    }
    if (state === 'error') {
      const error = oc.props.get('info.error');
      throw error ? faultFromLocalizedMethodFault(error) : vimFault({ faultType: 'TaskFailed', faultMessage: `task ${task.value} failed without an error` });
    }
    const progress = Number(oc.props.get('info.progress')?.text);
    if (Number.isFinite(progress)) opts.onProgress?.(progress);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new VsphereError('TASK_TIMEOUT', `task ${task.value} still ${state ?? 'unknown'} after ${timeoutMs} ms`, { transient: true });
    }
    await sleep(Math.min(delay, remaining), opts.signal);
    delay = Math.min(delay * 2, maxDelay);
  }
}
