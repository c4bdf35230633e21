import { READ_COMMITTED } from './tx.js';
import type { Db, Stores } from '@vaultflow/db';
import type { ExecutionStatus } from '@vaultflow/domain';
import { finalizeLocked } from './finalizer.js';
import type { JobLog } from './job-log.js';
import type { Releaser } from './releaser.js';
import { TargetResolver } from './target-resolver.js';

export type StartOutcome =
  | { state: 'missing' }
  | { state: 'resumed'; status: ExecutionStatus }
  | { state: 'started'; vms: number; skipped: number }
  | { state: 'finished'; status: ExecutionStatus };

/**
 * Starts an execution: resolves its target now, writes one row per VM, moves it to running and
 * releases the first VMs. Runs once per execution: a job that runs again (retry, second
 * orchestrator) finds it running and only releases what may be released.
 */
export class ExecutionStarter {
  private readonly resolver: TargetResolver;

  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly releaser: Releaser,
    private readonly log: JobLog,
  ) {
    this.resolver = new TargetResolver(stores);
  }

  async start(executionId: string): Promise<StartOutcome> {
    const outcome = await this.db.transaction(async (trx): Promise<StartOutcome & { flowId?: string; reasons?: string[] }> => {
      const ex = await this.stores.executions.lock(executionId, trx);
      if (!ex) return { state: 'missing' };
      if (ex.status !== 'pending') return { state: 'resumed', status: ex.status };
      const flow = await this.stores.flows.get(ex.flow_id, trx);
      if (!flow) return { state: 'missing' };
      if (ex.cancel_requested_at) {
        await this.stores.executions.markRunning(executionId, { jobs_created: 0, jobs_skipped: 0 }, trx);
        await this.stores.flows.recordStart(flow.id, executionId, trx);
        return { state: 'finished', status: (await finalizeLocked(this.stores, trx, { id: executionId, flow_id: flow.id, cancelled: true }))!, flowId: flow.id };
      }
      const resolved = await this.resolver.resolve(flow, trx);
      const rows = resolved.rows.map((r) => ({ ...r, execution_id: executionId }));
      const skipped = rows.filter((r) => r.status === 'skipped');
      await this.stores.vmRuns.insertMany(rows, trx);
      await this.stores.executions.markRunning(executionId, {
        jobs_created: rows.length,
        jobs_skipped: skipped.length,
        metadata: { repository_id: flow.repository_id, policy_id: flow.policy_id, target_type: flow.target_type, target_id: flow.target_id, target_name: flow.target_name },
      }, trx);
      await this.stores.flows.recordStart(flow.id, executionId, trx);
      const reasons = skipped.map((r) => `${r.vm_name}: ${r.error_message}`);
      if (resolved.flowError || skipped.length === rows.length) {
        const status = await finalizeLocked(this.stores, trx, { id: executionId, flow_id: flow.id, cancelled: false, flowError: resolved.flowError });
        return { state: 'finished', status: status!, flowId: flow.id, reasons: resolved.flowError ? [resolved.flowError] : reasons };
      }
      return { state: 'started', vms: rows.length, skipped: skipped.length, flowId: flow.id, reasons };
    }, READ_COMMITTED);

    if (outcome.flowId) {
      const ids = { flow_id: outcome.flowId, execution_id: executionId };
      for (const r of outcome.reasons ?? []) await this.log.warn(ids, 'fan-out', `Skipped ${r}`);
      if (outcome.state === 'started') await this.log.info(ids, 'fan-out', `Execution started: ${outcome.vms} VM(s), ${outcome.skipped} skipped`, { vms: outcome.vms, skipped: outcome.skipped });
      if (outcome.state === 'finished') await this.log.write({ ...ids, level: outcome.status === 'error' ? 'error' : 'info', step: 'finish', message: `Execution ended ${outcome.status}` });
    }
    if (outcome.state === 'started' || (outcome.state === 'resumed' && outcome.status === 'running')) {
      await this.releaser.release({ executionIds: [executionId] });
    }
    const { flowId: _f, reasons: _r, ...result } = outcome as StartOutcome & { flowId?: string; reasons?: string[] };
    return result as StartOutcome;
  }
}
