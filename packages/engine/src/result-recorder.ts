import type { Db, Stores, Tx, VmRunRecord, VmRunResult } from '@vaultflow/db';
import type { ExecutionStatus } from '@vaultflow/domain';
import { finalizeLocked } from './finalizer.js';
import type { JobLog } from './job-log.js';
import type { ReleaseScope, Releaser } from './releaser.js';
import { READ_COMMITTED } from './tx.js';

export type RecordOutcome =
  | { recorded: false; reason: 'unknown' | 'already-final' }
  | { recorded: true; finalized?: ExecutionStatus };

const DELTAS: Record<VmRunResult['status'], { completed: number; failed: number; skipped: number; processed: number }> = {
  success: { completed: 1, failed: 0, skipped: 0, processed: 1 },
  failed: { completed: 0, failed: 1, skipped: 0, processed: 1 },
  skipped: { completed: 0, failed: 0, skipped: 1, processed: 0 },
  cancelled: { completed: 0, failed: 0, skipped: 0, processed: 0 },
};

interface Pending {
  vmRunId: number;
  result: VmRunResult;
  resolve: (o: RecordOutcome) => void;
  reject: (e: unknown) => void;
}

/** Results waiting this long, or this many, are written together. */
const BATCH_WINDOW_MS = 1;
const BATCH_MAX = 200;

/**
 * Writes VM results: each VM row and its execution's counters move in one transaction with atomic
 * SQL increments, serialised on the execution's row lock. A replayed result finds the row final
 * and changes nothing. The last VM to end finalizes the execution in the same transaction; then
 * the VMs' groups (and whatever waits for those VMs) may release the next VMs.
 *
 * Results that arrive together (many workers finishing at once) are written in one transaction
 * per execution, so a burst costs a few commits instead of one per VM; each caller still gets
 * its own outcome, and nothing is acknowledged before its transaction committed.
 */
export class ResultRecorder {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** One flush at a time: results that arrive meanwhile wait and go into the next, larger one. */
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly releaser: Releaser,
    private readonly log: JobLog,
  ) {}

  record(vmRunId: number, result: VmRunResult): Promise<RecordOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ vmRunId, result, resolve, reject });
      if (this.queue.length >= BATCH_MAX && !this.flushing) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), BATCH_WINDOW_MS);
    });
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing) return;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    this.flushing = true;
    try {
      await this.write(batch);
    } finally {
      this.flushing = false;
      if (this.queue.length) setImmediate(() => void this.flush());
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    const runs = new Map<number, VmRunRecord>();
    try {
      for (const r of await this.stores.vmRuns.getMany(batch.map((p) => p.vmRunId))) runs.set(r.id, r);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const byExecution = new Map<string, Pending[]>();
    for (const p of batch) {
      const run = runs.get(p.vmRunId);
      if (!run) {
        p.resolve({ recorded: false, reason: 'unknown' });
        continue;
      }
      const list = byExecution.get(run.execution_id) ?? [];
      list.push(p);
      byExecution.set(run.execution_id, list);
    }
    const scope: Required<ReleaseScope> = { groupIds: [], vmIds: [], executionIds: [] };
    await Promise.all(
      [...byExecution].map(async ([executionId, items]) => {
        try {
          const outcome = await this.db.transaction((trx) => this.writeExecution(trx, executionId, items), READ_COMMITTED);
          for (const [p, o] of outcome.results) p.resolve(o);
          const recorded = outcome.results.filter(([, o]) => o.recorded).map(([p]) => runs.get(p.vmRunId)!);
          for (const run of recorded) {
            scope.groupIds.push(run.group_id);
            scope.vmIds.push(run.vm_context_id);
          }
          if (recorded.length) scope.executionIds.push(executionId);
          await this.logResults(recorded, batch, outcome.finalized);
        } catch (err) {
          for (const p of items) p.reject(err);
        }
      }),
    );
    // Not awaited: the next batch need not wait for it (releases of a group are coalesced).
    if (scope.vmIds.length) void this.releaser.release(scope).catch(() => undefined);
  }

  private async writeExecution(trx: Tx, executionId: string, items: Pending[]) {
    const ex = await this.stores.executions.lock(executionId, trx);
    const results: [Pending, RecordOutcome][] = [];
    if (!ex) return { results: items.map((p) => [p, { recorded: false, reason: 'unknown' }] as [Pending, RecordOutcome]), finalized: undefined };
    const sum = { completed: 0, failed: 0, skipped: 0, processed: 0, bytes: 0 };
    // The same VM reported twice in one batch counts once: the first report wins.
    const firsts = items.filter((p, i) => items.findIndex((o) => o.vmRunId === p.vmRunId) === i);
    const moved = await this.stores.vmRuns.finishMany(firsts.map((p) => ({ id: p.vmRunId, r: p.result })), trx);
    for (const p of items) {
      if (!moved.has(p.vmRunId) || !firsts.includes(p)) {
        results.push([p, { recorded: false, reason: 'already-final' }]);
        continue;
      }
      const d = DELTAS[p.result.status];
      sum.completed += d.completed;
      sum.failed += d.failed;
      sum.skipped += d.skipped;
      sum.processed += d.processed;
      sum.bytes += p.result.bytes_transferred;
      results.push([p, { recorded: true }]);
    }
    let finalized: ExecutionStatus | undefined;
    if (results.some(([, o]) => o.recorded)) {
      await this.stores.executions.addResult(executionId, sum, trx);
      if ((await this.stores.vmRuns.countOpen(executionId, trx)) === 0) {
        finalized = await finalizeLocked(this.stores, trx, { id: executionId, flow_id: ex.flow_id, cancelled: ex.cancel_requested_at !== null });
      }
    }
    if (finalized) for (const r of results) if (r[1].recorded) r[1] = { recorded: true, finalized };
    return { results, finalized };
  }

  private async logResults(recorded: VmRunRecord[], batch: Pending[], finalized: ExecutionStatus | undefined): Promise<void> {
    for (const run of recorded) {
      const result = batch.find((p) => p.vmRunId === run.id)!.result;
      const level = result.status === 'failed' ? 'error' : result.status === 'success' ? 'info' : 'warn';
      await this.log.write({
        flow_id: run.flow_id,
        execution_id: run.execution_id,
        job_id: `vm-${run.execution_id}-${run.vm_context_id}`,
        level,
        step: 'vm-result',
        message: `VM ${run.vm_name}: ${result.status}${result.error_message ? ` (${result.error_message})` : ''}`,
        context: { bytes_transferred: result.bytes_transferred, backup_job_id: result.backup_job_id ?? null },
      });
    }
    const first = recorded[0];
    if (finalized && first) await this.log.write({ flow_id: first.flow_id, execution_id: first.execution_id, level: finalized === 'error' ? 'error' : 'info', step: 'finish', message: `Execution ended ${finalized}` });
  }
}
