import { READ_COMMITTED } from './tx.js';
import type { Db, Stores, VmRunResult } from '@vaultflow/db';
import type { ExecutionStatus } from '@vaultflow/domain';
import { finalizeLocked } from './finalizer.js';
import type { JobLog } from './job-log.js';
import type { Releaser } from './releaser.js';

export type RecordOutcome =
  | { recorded: false; reason: 'unknown' | 'already-final' }
  | { recorded: true; finalized?: ExecutionStatus };

const DELTAS: Record<VmRunResult['status'], { completed: number; failed: number; skipped: number; processed: number }> = {
  success: { completed: 1, failed: 0, skipped: 0, processed: 1 },
  failed: { completed: 0, failed: 1, skipped: 0, processed: 1 },
  skipped: { completed: 0, failed: 0, skipped: 1, processed: 0 },
  cancelled: { completed: 0, failed: 0, skipped: 0, processed: 0 },
};

/**
 * Writes one VM's result: the VM row and the execution's counters move in one transaction with
 * atomic SQL increments, serialised on the execution's row lock. A replayed result finds the row
 * final and changes nothing. The last VM to end finalizes the execution in the same transaction;
 * then the VM's group (and anything waiting for this VM) may release the next VMs.
 */
export class ResultRecorder {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly releaser: Releaser,
    private readonly log: JobLog,
  ) {}

  async record(vmRunId: number, result: VmRunResult): Promise<RecordOutcome> {
    const outcome = await this.db.transaction(async (trx) => {
      const run = await this.stores.vmRuns.get(vmRunId, trx);
      if (!run) return { recorded: false as const, reason: 'unknown' as const };
      const ex = await this.stores.executions.lock(run.execution_id, trx);
      if (!ex) return { recorded: false as const, reason: 'unknown' as const };
      if (!(await this.stores.vmRuns.finish(vmRunId, result, trx))) return { recorded: false as const, reason: 'already-final' as const, run };
      await this.stores.executions.addResult(run.execution_id, { ...DELTAS[result.status], bytes: result.bytes_transferred }, trx);
      let finalized: ExecutionStatus | undefined;
      if ((await this.stores.vmRuns.countOpen(run.execution_id, trx)) === 0) {
        finalized = await finalizeLocked(this.stores, trx, { id: run.execution_id, flow_id: run.flow_id, cancelled: ex.cancel_requested_at !== null });
      }
      return { recorded: true as const, finalized, run };
    }, READ_COMMITTED);
    if (!('run' in outcome) || !outcome.run) return outcome;
    const { run, ...rest } = outcome;
    if (rest.recorded) {
      const ids = { flow_id: run.flow_id, execution_id: run.execution_id, job_id: `vm-${run.execution_id}-${run.vm_context_id}` };
      const level = result.status === 'failed' ? 'error' : result.status === 'success' ? 'info' : 'warn';
      await this.log.write({ ...ids, level, step: 'vm-result', message: `VM ${run.vm_name}: ${result.status}${result.error_message ? ` (${result.error_message})` : ''}`, context: { bytes_transferred: result.bytes_transferred, backup_job_id: result.backup_job_id ?? null } });
      if (rest.finalized) await this.log.write({ flow_id: run.flow_id, execution_id: run.execution_id, level: rest.finalized === 'error' ? 'error' : 'info', step: 'finish', message: `Execution ended ${rest.finalized}` });
      await this.releaser.release({ groupIds: [run.group_id], vmIds: [run.vm_context_id], executionIds: [run.execution_id] });
    }
    return rest as RecordOutcome;
  }
}
