import { READ_COMMITTED } from './tx.js';
import { randomUUID } from 'node:crypto';
import type { Db, Stores } from '@vaultflow/db';
import type { JobLog } from './job-log.js';

export type FireOutcome =
  | { outcome: 'run'; executionId: string; created: boolean }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'missed'; lateSeconds: number }
  | { outcome: 'inactive'; reason: string };

/**
 * Turns a scheduler fire into at most one execution. The flow's row is locked while deciding, so
 * two fires of one flow never both start; the unique (flow_id, scheduled_for) key makes the same
 * fire one execution however often its job runs. A fire later than the schedule's misfire grace is
 * recorded as missed; a fire while the previous execution still runs is recorded as skipped.
 */
export class FireHandler {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly log: JobLog,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(flowId: string, scheduledFor: Date): Promise<FireOutcome> {
    const res = await this.db.transaction(async (trx): Promise<FireOutcome & { scheduleId?: string }> => {
      const flow = await this.stores.flows.get(flowId, trx);
      if (!flow) return { outcome: 'inactive', reason: 'the flow does not exist' };
      await this.stores.flows.lockExisting([flowId], trx);
      if (!flow.schedule_id) return { outcome: 'inactive', reason: 'the flow has no schedule' };
      const schedule = await this.stores.schedules.timing(flow.schedule_id, trx);
      if (!flow.enabled || !schedule?.enabled) return { outcome: 'inactive', reason: 'the flow or its schedule is disabled' };
      const existing = await this.stores.executions.forFire(flowId, scheduledFor, trx);
      if (existing) return { outcome: 'run', executionId: existing, created: false };
      const prior = await this.stores.schedules.fireRecord(flowId, scheduledFor, trx);
      if (prior?.status === 'missed') return { outcome: 'missed', lateSeconds: -1 };
      if (prior) return { outcome: 'skipped', reason: prior.reason ?? prior.status };
      const base = { schedule_id: schedule.id, flow_id: flowId, scheduled_for: scheduledFor };
      const late = Math.round((this.now().getTime() - scheduledFor.getTime()) / 1000);
      if (late > schedule.misfire_grace_seconds) {
        await this.stores.schedules.recordFire({ ...base, id: randomUUID(), status: 'missed', reason: `the hub was not running: ${late} s late, grace ${schedule.misfire_grace_seconds} s` }, trx);
        return { outcome: 'missed', lateSeconds: late, scheduleId: schedule.id };
      }
      const active = await this.stores.executions.active(flowId, trx);
      if (active) {
        const reason = `execution ${active.id} is still ${active.status}`;
        await this.stores.schedules.recordFire({ ...base, id: randomUUID(), status: 'skipped', reason }, trx);
        return { outcome: 'skipped', reason, scheduleId: schedule.id };
      }
      const fireId = randomUUID();
      await this.stores.schedules.recordFire({ ...base, id: fireId, status: 'triggered', reason: null }, trx);
      const { id, created } = await this.stores.executions.insertForFire(
        { id: randomUUID(), flow_id: flowId, execution_type: 'scheduled', triggered_by: 'scheduler', scheduled_for: scheduledFor, schedule_execution_id: fireId },
        trx,
      );
      return { outcome: 'run', executionId: id, created, scheduleId: schedule.id };
    }, READ_COMMITTED);
    const ids = { flow_id: flowId, execution_id: res.outcome === 'run' ? res.executionId : '' };
    if (res.outcome === 'skipped') await this.log.write({ flow_id: flowId, level: 'warn', step: 'schedule', message: `Fire at ${scheduledFor.toISOString()} skipped: ${res.reason}` });
    if (res.outcome === 'missed') await this.log.write({ flow_id: flowId, level: 'warn', step: 'schedule', message: `Fire at ${scheduledFor.toISOString()} missed (${res.lateSeconds} s late)` });
    if (res.outcome === 'run' && res.created) await this.log.info(ids, 'schedule', `Scheduled fire at ${scheduledFor.toISOString()}`);
    const { scheduleId: _s, ...out } = res as FireOutcome & { scheduleId?: string };
    return out as FireOutcome;
  }
}
