import type { Direct, DirectTx } from '../direct.js';
import { stmt } from '../direct.js';
import { num } from '../rows.js';
import type { LockedExecution } from './execution.store.js';
import { OPEN_VM_RUN, scopesOf, type VmRunResult, type WaitingScopes } from './vm-run.store.js';

/** What a batch of results adds to its execution's counters. */
export interface ResultSums {
  completed: number;
  failed: number;
  skipped: number;
  processed: number;
  bytes: number;
}

/**
 * SQL for writing a batch of VM results of one execution in two round trips, on the engine's hot
 * path (statements straight to the connection, see Direct): lock the execution and move the VM
 * rows, then add the counters and commit. The rules (when to go this way, when to finalize) are
 * the ResultRecorder's.
 */
export class VmResultStore {
  constructor(private readonly direct: Direct) {}

  transaction<T>(fn: (tx: DirectTx) => Promise<T>): Promise<T> {
    return this.direct.transaction(fn);
  }

  /**
   * Begins the transaction: locks the execution row (undefined when it is gone) and moves every
   * given row to its final state, assuming all are open; `allMoved` is false when one was final
   * already (the caller then rolls back).
   */
  async begin(tx: DirectTx, executionId: string, results: { id: number; r: VmRunResult }[]): Promise<{ execution: LockedExecution | undefined; allMoved: boolean }> {
    const caseOf = (val: (x: (typeof results)[number]) => unknown) => ({
      sql: `CASE id ${results.map(() => 'WHEN ? THEN ?').join(' ')} END`,
      values: results.flatMap((x) => [x.id, val(x)]),
    });
    const cols = [
      ['status', caseOf((x) => x.r.status)],
      ['bytes_transferred', caseOf((x) => x.r.bytes_transferred)],
      ['backup_job_id', caseOf((x) => x.r.backup_job_id ?? null)],
      ['error_message', caseOf((x) => x.r.error_message ?? null)],
    ] as const;
    const [locked, moved] = await tx.trip([
      stmt('SELECT id, flow_id, status, cancel_requested_at, jobs_created, jobs_completed, jobs_failed, jobs_skipped FROM protection_flow_executions WHERE id = ? FOR UPDATE', [executionId]),
      stmt(
        `UPDATE protection_flow_vm_runs SET ${cols.map(([c, v]) => `${c} = ${v.sql}`).join(', ')}, completed_at = CURRENT_TIMESTAMP(3) WHERE id IN (?) AND status IN (?)`,
        [...cols.flatMap(([, v]) => v.values), results.map((x) => x.id), OPEN_VM_RUN],
      ),
      stmt('SELECT ROW_COUNT() AS n'),
    ]);
    const r = locked?.[0];
    const execution: LockedExecution | undefined = r
      ? {
          id: r.id as string,
          flow_id: r.flow_id as string,
          status: r.status as LockedExecution['status'],
          cancel_requested_at: (r.cancel_requested_at as Date | null) ?? null,
          jobs_created: num(r.jobs_created),
          jobs_completed: num(r.jobs_completed),
          jobs_failed: num(r.jobs_failed),
          jobs_skipped: num(r.jobs_skipped),
        }
      : undefined;
    return { execution, allMoved: num(moved?.[0]?.n) === results.length };
  }

  /**
   * Adds the batch to the execution's counters and commits; then, in the same round trip, reads
   * where rows wait for these VMs in any execution (what the release after a result needs; read
   * after the commit, so a row that started waiting for one of them meanwhile is seen).
   */
  async commit(tx: DirectTx, executionId: string, d: ResultSums, vmIds: string[]): Promise<WaitingScopes> {
    const [waiters] = await tx.commit(
      [
        stmt(
          'UPDATE protection_flow_executions SET jobs_completed = jobs_completed + ?, jobs_failed = jobs_failed + ?, jobs_skipped = jobs_skipped + ?, vms_processed = vms_processed + ?, bytes_transferred = bytes_transferred + ? WHERE id = ?',
          [d.completed, d.failed, d.skipped, d.processed, d.bytes, executionId],
        ),
      ],
      [stmt("SELECT DISTINCT group_id, execution_id FROM protection_flow_vm_runs WHERE vm_context_id IN (?) AND status = 'waiting'", [vmIds.length ? [...new Set(vmIds)] : [null]])],
    );
    return scopesOf((waiters ?? []) as { group_id: string | null; execution_id: string }[]);
  }
}
