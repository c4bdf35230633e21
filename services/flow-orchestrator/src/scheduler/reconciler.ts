import { randomUUID } from 'node:crypto';
import type { Stores } from '@vaultflow/db';
import { nextFires } from '@vaultflow/domain';
import type { Logger } from '@vaultflow/logging';
import type { FlowRunPayload, FlowSchedulers } from '@vaultflow/queue';
import { mapLimit } from '@vaultflow/engine';

/** Places a `flow.run` job for a fire the scheduler did not produce (a misfire within grace). */
export interface FireQueue {
  enqueueFire(payload: Required<Pick<FlowRunPayload, 'flow_id' | 'scheduled_for'>>): Promise<void>;
}

export interface ReconcileReport {
  added: number;
  updated: number;
  rearmed: number;
  removed: number;
  misfiresRun: number;
  misfiresMissed: number;
}

/** Fires younger than this are left to the scheduler that is producing them now. */
const SETTLE_MS = 30_000;
/** Scheduler and database calls in flight at once. */
const IN_FLIGHT = 50;
/** Never look further back for missed fires than this. */
const MAX_LOOKBACK_MS = 7 * 86400_000;

/**
 * Makes Redis match MariaDB; idempotent, so every replica may run it at once. Adds missing job
 * schedulers, updates those whose cron or zone differ, re-registers those whose next fire lies in
 * the past, removes orphans, keeps next_execution_time equal to the scheduler's next fire, and
 * handles fires nobody produced (the hub or Redis was down): the newest one within the
 * schedule's misfire grace runs once, the others are recorded as missed.
 */
export class Reconciler {
  constructor(
    private readonly stores: Stores,
    private readonly schedulers: FlowSchedulers,
    private readonly fires: FireQueue,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async reconcile(): Promise<ReconcileReport> {
    const r: ReconcileReport = { added: 0, updated: 0, rearmed: 0, removed: 0, misfiresRun: 0, misfiresMissed: 0 };
    const desired = await this.stores.flows.withActiveSchedules();
    const actual = new Map((await this.schedulers.list()).map((s) => [s.flowId, s]));
    const now = this.now().getTime();
    const wanted = new Set(desired.map((d) => d.id));
    await mapLimit(desired, IN_FLIGHT, async (d) => {
      const a = actual.get(d.id);
      let next = a?.next;
      if (!a) r.added++;
      else if (a.pattern !== d.cron || a.tz !== d.timezone) r.updated++;
      else if (!a.next || a.next < now - 5_000) r.rearmed++;
      else return this.syncNext(d.id, d.next_execution_time, next);
      next = (await this.schedulers.upsert(d.id, d.cron, d.timezone))?.getTime();
      await this.syncNext(d.id, d.next_execution_time, next);
    });
    const orphans = [...actual.keys()].filter((id) => !wanted.has(id));
    await mapLimit(orphans, IN_FLIGHT, (id) => this.schedulers.remove(id));
    r.removed = orphans.length;
    const lastFires = await this.stores.schedules.lastFires();
    await mapLimit(desired, IN_FLIGHT, async (d) => {
      const m = await this.misfires(d, lastFires.get(d.id));
      r.misfiresRun += m.run;
      r.misfiresMissed += m.missed;
    });
    if (Object.values(r).some((n) => n > 0)) this.logger.info(r, 'reconciler repaired the job schedulers');
    return r;
  }

  private async syncNext(flowId: string, stored: Date | null, next: number | undefined): Promise<void> {
    const want = next ?? null;
    if ((stored ? new Date(stored).getTime() : null) !== want) await this.stores.flows.setNextExecution(flowId, want === null ? null : new Date(want));
  }

  /** Fires after the flow's schedule was armed, before now minus a settling time, that left no record. */
  private async misfires(d: { id: string; schedule_id: string; cron: string; timezone: string; misfire_grace_seconds: number; schedule_armed_at: Date | null; created_at: Date }, lastRecorded: Date | undefined): Promise<{ run: number; missed: number }> {
    const now = this.now().getTime();
    const floor = Math.max(new Date(d.schedule_armed_at ?? d.created_at).getTime(), lastRecorded ? new Date(lastRecorded).getTime() + 1 : 0, now - MAX_LOOKBACK_MS);
    const until = now - SETTLE_MS;
    if (floor >= until) return { run: 0, missed: 0 };
    // The usual case: the next fire after the last recorded one is still to come. No queries.
    const first = nextFires(d.cron, d.timezone, 1, new Date(floor - 1))[0];
    if (!first || first.getTime() > until) return { run: 0, missed: 0 };
    const graceStart = now - d.misfire_grace_seconds * 1000;
    const between = (from: number, to: number, max: number) => (from < to ? nextFires(d.cron, d.timezone, max, new Date(from - 1)).filter((f) => f.getTime() <= to) : []);
    // Within the grace only the newest fire runs (one run makes up for an outage); every other
    // unrecorded fire, older ones included (the last 100), is recorded as missed.
    const recent = await this.unrecorded(d.id, between(Math.max(floor, graceStart), until, 1000));
    const old = await this.unrecorded(d.id, between(floor, Math.min(graceStart, until), 100));
    const newest = recent.pop();
    for (const f of [...old, ...recent]) {
      await this.stores.schedules.recordFire({ id: randomUUID(), schedule_id: d.schedule_id, flow_id: d.id, scheduled_for: f, status: 'missed', reason: 'no scheduler fired it: the hub or Redis was down' });
    }
    if (newest) await this.fires.enqueueFire({ flow_id: d.id, scheduled_for: newest.toISOString() });
    return { run: newest ? 1 : 0, missed: old.length + recent.length };
  }

  private async unrecorded(flowId: string, fires: Date[]): Promise<Date[]> {
    const out: Date[] = [];
    for (const f of fires) if (!(await this.stores.executions.forFire(flowId, f)) && !(await this.stores.schedules.fireRecord(flowId, f))) out.push(f);
    return out;
  }
}
