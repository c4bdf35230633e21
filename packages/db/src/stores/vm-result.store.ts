import type { Direct, DirectTx } from '../direct.js';
import { stmt } from '../direct.js';
import { OPEN_VM_RUN, resultColumns, scopesOf, type VmRunResult, type WaitingScopes } from './vm-run.store.js';

/** What a batch of results adds to its execution's counters. */
export interface ResultSums {
  completed: number;
  failed: number;
  skipped: number;
  processed: number;
  bytes: number;
}

/**
 * SQL for writing a batch of VM results of one execution in one round trip, on the engine's hot
 * path (statements straight to the connection, see Direct). The careful way (replays, the last
 * rows, finalizing) is the ResultRecorder's, over the other stores.
 */
export class VmResultStore {
  constructor(private readonly direct: Direct) {}

  transaction<T>(fn: (tx: DirectTx) => Promise<T>): Promise<T> {
    return this.direct.transaction(fn);
  }

  /**
   * One round trip for the usual batch: begins, locks the execution row, moves every given row to
   * its final state, and commits with the counters added only when every row moved (none was final
   * already) and, by those counters, rows of the execution remain open after this batch (so it
   * cannot end here: the caller then needs no look at its rows). Returns whether it committed; if
   * not, the transaction is still open for the caller to roll back and take the careful way.
   * Committed, it also reads where rows wait for these VMs in any execution (after the commit, so a
   * row that started waiting for one of them meanwhile is seen): what the release needs.
   *
   * `ended` counts the rows this batch ends (completed, failed or skipped); cancelled results must
   * not come this way (cancelled rows are not counted).
   */
  async writeUnlessLast(tx: DirectTx, executionId: string, results: { id: number; r: VmRunResult }[], d: ResultSums, vmIds: string[]): Promise<{ committed: false } | { committed: true; waitingForVms: WaitingScopes }> {
    const set = resultColumns(results);
    const ended = d.completed + d.failed + d.skipped;
    const sets = await tx.trip([
      stmt('SELECT id FROM protection_flow_executions WHERE id = ? FOR UPDATE', [executionId]),
      stmt(
        `UPDATE protection_flow_vm_runs SET ${set.sql} WHERE id IN (?) AND status IN (?)`,
        [...set.values, results.map((x) => x.id), OPEN_VM_RUN],
      ),
      stmt(
        `IF ROW_COUNT() = ? AND (SELECT status = 'running' AND cancel_requested_at IS NULL AND jobs_completed + jobs_failed + jobs_skipped + ? < jobs_created FROM protection_flow_executions WHERE id = ?) THEN ` +
          'UPDATE protection_flow_executions SET jobs_completed = jobs_completed + ?, jobs_failed = jobs_failed + ?, jobs_skipped = jobs_skipped + ?, vms_processed = vms_processed + ?, bytes_transferred = bytes_transferred + ? WHERE id = ?; ' +
          'COMMIT; ' +
          'SELECT 1 AS committed; ' +
          "SELECT DISTINCT group_id, execution_id FROM protection_flow_vm_runs WHERE vm_context_id IN (?) AND status = 'waiting'; " +
          'END IF',
        [results.length, ended, executionId, d.completed, d.failed, d.skipped, d.processed, d.bytes, executionId, vmIds.length ? [...new Set(vmIds)] : [null]],
      ),
    ]);
    const at = sets.findIndex((rows) => rows[0] !== undefined && 'committed' in rows[0]);
    if (at < 0) return { committed: false };
    tx.committed();
    return { committed: true, waitingForVms: scopesOf((sets[at + 1] ?? []) as { group_id: string | null; execution_id: string }[]) };
  }
}
