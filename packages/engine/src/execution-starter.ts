import type { Db, FlowRecord, NewVmRun, Stores } from '@vaultflow/db';
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

interface Started {
  outcome: StartOutcome;
  flowId?: string;
  reasons?: string[];
}

/**
 * Starts executions: resolves each target now, writes one row per VM, moves the execution to
 * running and releases the first VMs. Runs once per execution: a job that runs again (retry, a
 * second orchestrator) finds it running and only releases what may be released. Executions that
 * start together (a burst of scheduler fires) share one transaction and one release.
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
    return (await this.startMany([executionId]))[0]!;
  }

  async startMany(executionIds: string[]): Promise<StartOutcome[]> {
    const results = await this.db.transaction(async (trx) => {
      const byId = new Map<string, Started>();
      // Executions, then their flows, each in id order: the fire handler locks flows in the same
      // order, so bursts of fires and starts never deadlock.
      const locked = await this.stores.executions.lockMany(executionIds, trx);
      await this.stores.flows.lockMany(locked.map((e) => e.flow_id), trx);
      const flows = await this.stores.flows.getMany(locked.map((e) => e.flow_id), trx);
      const pending: { id: string; flow: FlowRecord; cancelled: boolean }[] = [];
      for (const ex of locked) {
        const flow = flows.get(ex.flow_id);
        if (!flow) byId.set(ex.id, { outcome: { state: 'missing' } });
        else if (ex.status !== 'pending') byId.set(ex.id, { outcome: { state: 'resumed', status: ex.status } });
        else pending.push({ id: ex.id, flow, cancelled: ex.cancel_requested_at !== null });
      }
      const resolved = await this.resolver.resolveMany(pending.filter((p) => !p.cancelled).map((p) => p.flow), trx);
      const rows: NewVmRun[] = [];
      for (const p of pending) for (const r of p.cancelled ? [] : resolved.get(p.flow.id)!.rows) rows.push({ ...r, execution_id: p.id });
      await this.stores.vmRuns.insertMany(rows, trx);
      await this.stores.executions.markRunningMany(
        pending.map((p) => {
          const own = p.cancelled ? [] : resolved.get(p.flow.id)!.rows;
          const f = p.flow;
          return { id: p.id, jobs_created: own.length, jobs_skipped: own.filter((r) => r.status === 'skipped').length, metadata: { repository_id: f.repository_id, policy_id: f.policy_id, target_type: f.target_type, target_id: f.target_id } };
        }),
        trx,
      );
      await this.stores.flows.recordStartMany(pending.map((p) => ({ flowId: p.flow.id, executionId: p.id })), trx);
      for (const p of pending) {
        const target = p.cancelled ? { rows: [] } : resolved.get(p.flow.id)!;
        const skipped = target.rows.filter((r) => r.status === 'skipped');
        const reasons = skipped.map((r) => `${r.vm_name}: ${r.error_message}`);
        const flowError = 'flowError' in target ? target.flowError : undefined;
        if (p.cancelled || flowError || skipped.length === target.rows.length) {
          const status = await finalizeLocked(this.stores, trx, { id: p.id, flow_id: p.flow.id, cancelled: p.cancelled, flowError });
          byId.set(p.id, { outcome: { state: 'finished', status: status! }, flowId: p.flow.id, reasons: flowError ? [flowError] : reasons });
        } else {
          byId.set(p.id, { outcome: { state: 'started', vms: target.rows.length, skipped: skipped.length }, flowId: p.flow.id, reasons });
        }
      }
      return executionIds.map((id) => byId.get(id) ?? { outcome: { state: 'missing' } as StartOutcome });
    });

    const release: string[] = [];
    for (const [i, r] of results.entries()) {
      const executionId = executionIds[i]!;
      const o = r.outcome;
      if (r.flowId) {
        const ids = { flow_id: r.flowId, execution_id: executionId };
        for (const reason of r.reasons ?? []) await this.log.warn(ids, 'fan-out', `Skipped ${reason}`);
        if (o.state === 'started') await this.log.info(ids, 'fan-out', `Execution started: ${o.vms} VM(s), ${o.skipped} skipped`, { vms: o.vms, skipped: o.skipped });
        if (o.state === 'finished') await this.log.write({ ...ids, level: o.status === 'error' ? 'error' : 'info', step: 'finish', message: `Execution ended ${o.status}` });
      }
      if (o.state === 'started' || (o.state === 'resumed' && o.status === 'running')) release.push(executionId);
    }
    if (release.length) await this.releaser.release({ executionIds: release });
    return results.map((r) => r.outcome);
  }
}
