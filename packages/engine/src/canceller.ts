
import type { Db, Stores } from '@vaultflow/db';
import type { ExecutionStatus } from '@vaultflow/domain';
import { finalizeLocked } from './finalizer.js';
import type { JobLog } from './job-log.js';

/** Withdraws jobs that no worker has taken yet. */
export interface VmJobWithdrawal {
  removeWaiting(executionId: string, vmContextIds: string[]): Promise<number>;
}

export type CancelOutcome = { state: 'missing' } | { state: 'final'; status: ExecutionStatus } | { state: 'cancelling'; cancelledVms: number; finalized?: ExecutionStatus };

/**
 * Cancels an execution: no more VMs are released, waiting and queued VMs end as cancelled and
 * their jobs are withdrawn, running VMs see the request at their next progress report and stop
 * (their cleanup still runs). The last VM to stop finalizes the execution as cancelled.
 */
export class Canceller {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly jobs: VmJobWithdrawal,
    private readonly log: JobLog,
  ) {}

  async cancel(executionId: string, by: string): Promise<CancelOutcome> {
    const res = await this.db.transaction(async (trx) => {
      const ex = await this.stores.executions.lock(executionId, trx);
      if (!ex) return { state: 'missing' as const };
      if (!['pending', 'running'].includes(ex.status)) return { state: 'final' as const, status: ex.status };
      await this.stores.executions.requestCancel(executionId, by, trx);
      const unstarted = await this.stores.vmRuns.unstarted(executionId, trx);
      for (const r of unstarted) await this.stores.vmRuns.finish(r.id, { status: 'cancelled', bytes_transferred: 0, error_message: `cancelled by ${by}` }, trx);
      let finalized: ExecutionStatus | undefined;
      if (ex.status === 'running' && !(await this.stores.vmRuns.hasOpen(executionId, trx))) {
        finalized = await finalizeLocked(this.stores, trx, { id: executionId, flow_id: ex.flow_id, cancelled: true });
      }
      return { state: 'cancelling' as const, cancelledVms: unstarted.length, finalized, flowId: ex.flow_id, vmIds: unstarted.filter((r) => r.status === 'queued').map((r) => r.vm_context_id) };
    });
    if (res.state !== 'cancelling') return res;
    await this.jobs.removeWaiting(executionId, res.vmIds);
    await this.log.warn({ flow_id: res.flowId, execution_id: executionId }, 'cancel', `Cancelled by ${by}: ${res.cancelledVms} VM(s) withdrawn before they started${res.finalized ? '; execution ended cancelled' : '; running VMs are stopping'}`);
    return { state: 'cancelling', cancelledVms: res.cancelledVms, finalized: res.finalized };
  }
}
