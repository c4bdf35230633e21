import { randomUUID } from 'node:crypto';
import type { Db, Stores } from '@vaultflow/db';
import { nextFires } from '@vaultflow/domain';
import type { JobLog } from './job-log.js';

export type FireOutcome =
  | { outcome: 'run'; executionId: string; created: boolean }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'missed'; lateSeconds: number }
  | { outcome: 'inactive'; reason: string };

export interface Fire {
  flowId: string;
  scheduledFor: Date;
}

const key = (flowId: string, at: Date) => `${flowId}|${at.getTime()}`;

/**
 * Turns scheduler fires into at most one execution each. The flows' rows are locked while deciding,
 * so two fires of one flow never both start; the unique (flow_id, scheduled_for) key makes the same
 * fire one execution however often its job runs. A fire later than the schedule's misfire grace is
 * recorded as missed; a fire while the flow's previous execution is still open is recorded as
 * skipped. Fires that arrive together are decided in one transaction.
 */
export class FireHandler {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly log: JobLog,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(flowId: string, scheduledFor: Date): Promise<FireOutcome> {
    return (await this.handleMany([{ flowId, scheduledFor }]))[0]!;
  }

  async handleMany(fires: Fire[]): Promise<FireOutcome[]> {
    const now = this.now().getTime();
    const graces = new Map<string, { enabled: boolean; grace: number; cron: string; timezone: string }>();
    /** Fired flows (run or skipped) by schedule and fire time: their next_execution_time moves on. */
    const fired = new Map<string, { scheduleId: string; at: Date; flowIds: string[] }>();
    const outcomes = await this.db.transaction(async (trx) => {
      const ids = fires.map((f) => f.flowId);
      await this.stores.flows.lockMany(ids, trx);
      const flows = await this.stores.flows.getMany(ids, trx);
      const pairs = fires.map((f) => ({ flow_id: f.flowId, scheduled_for: f.scheduledFor }));
      const existing = await this.stores.executions.forFires(pairs, trx);
      const prior = await this.stores.schedules.fireRecords(pairs, trx);
      const active = await this.stores.executions.activeOf(ids, trx);
      for (const f of flows.values()) {
        if (f.schedule_id && !graces.has(f.schedule_id)) {
          const t = await this.stores.schedules.timing(f.schedule_id, trx);
          if (t) graces.set(f.schedule_id, { enabled: t.enabled, grace: t.misfire_grace_seconds, cron: t.cron_expression, timezone: t.timezone });
        }
      }
      const records: Parameters<Stores['schedules']['recordFires']>[0] = [];
      const executions: Parameters<Stores['executions']['insertFires']>[0] = [];
      const out: FireOutcome[] = [];
      const order = fires.map((_, i) => i).sort((a, b) => fires[a]!.scheduledFor.getTime() - fires[b]!.scheduledFor.getTime());
      for (const i of order) {
        const fire = fires[i]!;
        const k = key(fire.flowId, fire.scheduledFor);
        const flow = flows.get(fire.flowId);
        const decide = (o: FireOutcome) => (out[i] = o);
        if (!flow) { decide({ outcome: 'inactive', reason: 'the flow does not exist' }); continue; }
        if (!flow.schedule_id) { decide({ outcome: 'inactive', reason: 'the flow has no schedule' }); continue; }
        const sched = graces.get(flow.schedule_id);
        if (!flow.enabled || !sched?.enabled) { decide({ outcome: 'inactive', reason: 'the flow or its schedule is disabled' }); continue; }
        const done = existing.get(k);
        if (done) { decide({ outcome: 'run', executionId: done, created: false }); continue; }
        const p = prior.get(k);
        if (p) { decide(p.status === 'missed' ? { outcome: 'missed', lateSeconds: -1 } : { outcome: 'skipped', reason: p.reason ?? p.status }); continue; }
        const base = { schedule_id: flow.schedule_id, flow_id: flow.id, scheduled_for: fire.scheduledFor };
        const late = Math.round((now - fire.scheduledFor.getTime()) / 1000);
        if (late > sched.grace) {
          records.push({ ...base, id: randomUUID(), status: 'missed', reason: `the hub was not running: ${late} s late, grace ${sched.grace} s` });
          decide({ outcome: 'missed', lateSeconds: late });
          continue;
        }
        const fk = `${flow.schedule_id}|${fire.scheduledFor.getTime()}`;
        if (!fired.has(fk)) fired.set(fk, { scheduleId: flow.schedule_id, at: fire.scheduledFor, flowIds: [] });
        fired.get(fk)!.flowIds.push(flow.id);
        const open = active.get(flow.id);
        if (open) {
          const reason = `execution ${open.id} is still ${open.status}`;
          records.push({ ...base, id: randomUUID(), status: 'skipped', reason });
          decide({ outcome: 'skipped', reason });
          continue;
        }
        const fireId = randomUUID();
        const id = randomUUID();
        records.push({ ...base, id: fireId, status: 'triggered', reason: null });
        executions.push({ id, flow_id: flow.id, execution_type: 'scheduled', triggered_by: 'scheduler', scheduled_for: fire.scheduledFor, schedule_execution_id: fireId });
        active.set(flow.id, { id, status: 'pending' });
        existing.set(k, id);
        decide({ outcome: 'run', executionId: id, created: true });
      }
      await this.stores.schedules.recordFires(records, trx);
      await this.stores.executions.insertFires(executions, trx);
      return out;
    });
    void this.advanceNext(fired, graces);
    for (const [i, o] of outcomes.entries()) {
      const f = fires[i]!;
      if (o.outcome === 'skipped') await this.log.write({ flow_id: f.flowId, level: 'warn', step: 'schedule', message: `Fire at ${f.scheduledFor.toISOString()} skipped: ${o.reason}` });
      if (o.outcome === 'missed') await this.log.write({ flow_id: f.flowId, level: 'warn', step: 'schedule', message: `Fire at ${f.scheduledFor.toISOString()} missed${o.lateSeconds >= 0 ? ` (${o.lateSeconds} s late)` : ''}` });
      if (o.outcome === 'run' && o.created) await this.log.info({ flow_id: f.flowId, execution_id: o.executionId }, 'schedule', `Scheduled fire at ${f.scheduledFor.toISOString()}`);
    }
    return outcomes;
  }

  /**
   * next_execution_time of fired flows moves to the schedule's next fire at once (what their job
   * scheduler now holds), rather than at the reconciler's next pass. Outside the deciding
   * transaction: it is display, not a decision, and a failure here changes nothing else.
   */
  private async advanceNext(fired: Map<string, { scheduleId: string; at: Date; flowIds: string[] }>, schedules: Map<string, { cron: string; timezone: string }>): Promise<void> {
    for (const f of fired.values()) {
      const s = schedules.get(f.scheduleId);
      const next = s ? nextFires(s.cron, s.timezone, 1, f.at)[0] : undefined;
      if (next) await this.stores.flows.advanceNext(f.flowIds, next).catch(() => undefined);
    }
  }
}
