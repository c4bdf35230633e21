import type { Db, ResultSums, Stores, Tx, VmRunRecord, VmRunResult, WaitingScopes } from '@vaultflow/db';
import type { ExecutionStatus } from '@vaultflow/domain';
import { finalizeLocked } from './finalizer.js';
import type { JobLog } from './job-log.js';
import type { ReleaseScope, Releaser } from './releaser.js';

export type RecordOutcome =
  | { recorded: false; reason: 'unknown' | 'already-final' }
  | { recorded: true; finalized?: ExecutionStatus };

const DELTAS: Record<VmRunResult['status'], { completed: number; failed: number; skipped: number; processed: number }> = {
  success: { completed: 1, failed: 0, skipped: 0, processed: 1 },
  failed: { completed: 0, failed: 1, skipped: 0, processed: 1 },
  skipped: { completed: 0, failed: 0, skipped: 1, processed: 0 },
  cancelled: { completed: 0, failed: 0, skipped: 0, processed: 0 },
};

/** What the recorder needs of a VM row; a worker knows it from the job and saves the read. */
export type KnownRun = Pick<VmRunRecord, 'id' | 'execution_id' | 'flow_id' | 'vm_context_id' | 'vm_name' | 'group_id'>;

interface Pending {
  vmRunId: number;
  result: VmRunResult;
  known?: KnownRun;
  resolve: (o: RecordOutcome) => void;
  reject: (e: unknown) => void;
}

/** The same VM reported twice in one batch counts once: the first report wins. */
function firstReports(items: Pending[]): Pending[] {
  const seen = new Set<number>();
  return items.filter((p) => !seen.has(p.vmRunId) && seen.add(p.vmRunId));
}

function sumOf(recorded: Pending[]): ResultSums {
  const sum = { completed: 0, failed: 0, skipped: 0, processed: 0, bytes: 0 };
  for (const p of recorded) {
    const d = DELTAS[p.result.status];
    sum.completed += d.completed;
    sum.failed += d.failed;
    sum.skipped += d.skipped;
    sum.processed += d.processed;
    sum.bytes += p.result.bytes_transferred;
  }
  return sum;
}

const FLUSHES_AT_ONCE = 3;

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
  /**
   * Flushes in flight, at most FLUSHES_AT_ONCE: results that arrive meanwhile wait and go into the
   * next, larger one. Two overlap the client's round trips (the second's lock request already waits
   * at the server when the first commits).
   */
  private flushing = 0;

  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly releaser: Releaser,
    private readonly log: JobLog,
  ) {}

  record(vmRunId: number, result: VmRunResult, known?: KnownRun): Promise<RecordOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ vmRunId, result, known, resolve, reject });
      if (this.queue.length >= BATCH_MAX && this.flushing < FLUSHES_AT_ONCE) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), BATCH_WINDOW_MS);
    });
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing >= FLUSHES_AT_ONCE) return;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    this.flushing++;
    try {
      await this.write(batch);
    } finally {
      this.flushing--;
      if (this.queue.length) setImmediate(() => void this.flush());
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    const runs = new Map<number, KnownRun>();
    for (const p of batch) if (p.known) runs.set(p.vmRunId, p.known);
    const unknown = batch.filter((p) => !p.known).map((p) => p.vmRunId);
    try {
      for (const r of await this.stores.vmRuns.getMany(unknown)) runs.set(r.id, r);
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
    // What a result frees: a slot in the VM's group, and the VM itself. Rows wait for nothing else
    // once their execution started (ungrouped rows only for their VM), so that is all to look at.
    const scope: Required<Omit<ReleaseScope, 'executionIds' | 'vmWaiters'>> = { groupIds: [], vmIds: [] };
    // Where rows wait for these VMs, when every execution's commit read it (else the releaser reads it).
    const waiters: WaitingScopes[] = [];
    let waitersComplete = true;
    await Promise.all(
      [...byExecution].map(async ([executionId, items]) => {
        try {
          const outcome = await this.writeExecutionTx(executionId, items, runs);
          for (const [p, o] of outcome.results) p.resolve(o);
          const recorded = outcome.results.filter(([, o]) => o.recorded).map(([p]) => runs.get(p.vmRunId)!);
          for (const run of recorded) {
            scope.groupIds.push(run.group_id);
            scope.vmIds.push(run.vm_context_id);
          }
          if (outcome.waitingForVms) waiters.push(outcome.waitingForVms);
          else if (recorded.length) waitersComplete = false;
          this.logResults(recorded, batch, outcome.finalized);
        } catch (err) {
          for (const p of items) p.reject(err);
        }
      }),
    );
    // Not awaited: the next batch need not wait for it (releases of a group are coalesced).
    const vmWaiters = waitersComplete ? { groupIds: waiters.flatMap((w) => w.groupIds), executionIds: waiters.flatMap((w) => w.executionIds) } : undefined;
    if (scope.vmIds.length) void this.releaser.release({ ...scope, vmWaiters }).catch(() => undefined);
  }

  /**
   * The results of one execution in one transaction. The usual case takes one round trip: lock the
   * execution, move the VM rows assuming all are open, add the counters and commit, provided the
   * counters show rows left open after these (VmResultStore.writeUnlessLast). When a row was final
   * already (a replayed result), when these may be the execution's last rows (it may end here), or
   * when one is cancelled (not counted), that is rolled back and the careful way taken: lock the
   * open rows first, count exactly those, and finalize when nothing is left open. Should the
   * counters ever disagree with the rows, the sweeper finalizes executions with nothing open.
   */
  private async writeExecutionTx(executionId: string, items: Pending[], runs: Map<number, KnownRun>): Promise<{ results: [Pending, RecordOutcome][]; finalized: ExecutionStatus | undefined; waitingForVms?: WaitingScopes }> {
    const firsts = firstReports(items);
    // Cancelled rows are not counted: a batch with one is counted the careful way.
    const fast = firsts.some((p) => p.result.status === 'cancelled')
      ? undefined
      : await this.stores.vmResults.transaction(async (tx) => {
          const out = await this.stores.vmResults.writeUnlessLast(tx, executionId, firsts.map((p) => ({ id: p.vmRunId, r: p.result })), sumOf(firsts), firsts.map((p) => runs.get(p.vmRunId)!.vm_context_id));
          if (!out.committed) return undefined;
          return { results: items.map((p): [Pending, RecordOutcome] => [p, firsts.includes(p) ? { recorded: true } : { recorded: false, reason: 'already-final' }]), finalized: undefined, waitingForVms: out.waitingForVms };
        });
    return fast ?? (await this.db.transaction((trx) => this.writeExecution(trx, executionId, items)));
  }

  private async writeExecution(trx: Tx, executionId: string, items: Pending[]) {
    const ex = await this.stores.executions.lock(executionId, trx);
    const results: [Pending, RecordOutcome][] = [];
    if (!ex) return { results: items.map((p) => [p, { recorded: false, reason: 'unknown' }] as [Pending, RecordOutcome]), finalized: undefined };
    const firsts = firstReports(items);
    const moved = await this.stores.vmRuns.finishMany(firsts.map((p) => ({ id: p.vmRunId, r: p.result })), trx);
    const recorded = firsts.filter((p) => moved.has(p.vmRunId));
    for (const p of items) results.push([p, recorded.includes(p) ? { recorded: true } : { recorded: false, reason: 'already-final' }]);
    let finalized: ExecutionStatus | undefined;
    if (recorded.length) {
      await this.stores.executions.addResult(executionId, sumOf(recorded), trx);
      if (!(await this.stores.vmRuns.hasOpen(executionId, trx))) {
        finalized = await finalizeLocked(this.stores, trx, { id: executionId, flow_id: ex.flow_id, cancelled: ex.cancel_requested_at !== null });
      }
    }
    if (finalized) for (const r of results) if (r[1].recorded) r[1] = { recorded: true, finalized };
    return { results, finalized };
  }

  private logResults(recorded: KnownRun[], batch: Pending[], finalized: ExecutionStatus | undefined): void {
    for (const run of recorded) {
      const result = batch.find((p) => p.vmRunId === run.id)!.result;
      const level = result.status === 'failed' ? 'error' : result.status === 'success' ? 'info' : 'warn';
      void this.log.write({
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
    if (finalized && first) void this.log.write({ flow_id: first.flow_id, execution_id: first.execution_id, level: finalized === 'error' ? 'error' : 'info', step: 'finish', message: `Execution ended ${finalized}` });
  }
}
