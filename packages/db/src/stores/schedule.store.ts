import type { Knex } from 'knex';
import { bool, likeContains, num, paged, type Page, type Queryable } from '../rows.js';

export interface ScheduleRecord {
  id: string;
  name: string;
  description: string | null;
  cron_expression: string;
  timezone: string;
  enabled: boolean;
  misfire_grace_seconds: number;
  flow_count: number;
  created_at: Date;
  updated_at: Date;
  created_by: string;
}

export interface ScheduleWrite {
  name?: string;
  description?: string | null;
  cron_expression?: string;
  timezone?: string;
  enabled?: boolean;
  misfire_grace_seconds?: number;
}

export interface ScheduleExecutionRecord {
  id: string;
  schedule_id: string;
  flow_id: string | null;
  scheduled_for: Date;
  status: 'triggered' | 'skipped' | 'missed' | 'failed';
  reason: string | null;
  created_at: Date;
}

const SORT: Record<string, string> = { name: 's.name', created_at: 's.created_at', updated_at: 's.updated_at' };

function toRecord(r: Record<string, unknown>): ScheduleRecord {
  return { ...(r as unknown as ScheduleRecord), enabled: bool(r.enabled), flow_count: num(r.flow_count), misfire_grace_seconds: num(r.misfire_grace_seconds) };
}

/** SQL for replication_schedules and schedule_executions. */
export class ScheduleStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('replication_schedules as s').select(
      's.*',
      q.raw('(SELECT COUNT(*) FROM protection_flows f WHERE f.schedule_id = s.id) AS flow_count'),
    );
  }

  async get(id: string, q: Queryable = this.db): Promise<ScheduleRecord | undefined> {
    const row = await this.select(q).where('s.id', id).first();
    return row ? toRecord(row) : undefined;
  }

  /** What firing needs (no counts): undefined when the schedule does not exist. */
  async timing(id: string, q: Queryable = this.db): Promise<{ id: string; enabled: boolean; misfire_grace_seconds: number; cron_expression: string; timezone: string } | undefined> {
    const r = (await q('replication_schedules').where({ id }).first('id', 'enabled', 'misfire_grace_seconds', 'cron_expression', 'timezone')) as Record<string, unknown> | undefined;
    return r ? { id: String(r.id), enabled: bool(r.enabled), misfire_grace_seconds: num(r.misfire_grace_seconds), cron_expression: String(r.cron_expression), timezone: String(r.timezone) } : undefined;
  }

  /** Every enabled schedule's cron and zone (to find those that fire at a given moment). */
  async enabledCrons(q: Queryable = this.db): Promise<{ id: string; cron_expression: string; timezone: string }[]> {
    const rows = (await q('replication_schedules').where({ enabled: true }).select('id', 'cron_expression', 'timezone')) as Record<string, unknown>[];
    return rows.map((r) => ({ id: String(r.id), cron_expression: String(r.cron_expression), timezone: String(r.timezone) }));
  }

  async list(f: Page & { enabled?: boolean; search?: string }): Promise<{ rows: ScheduleRecord[]; total: number }> {
    const base = this.select();
    if (f.enabled !== undefined) base.where('s.enabled', f.enabled);
    if (f.search) base.whereILike('s.name', likeContains(f.search));
    const { rows, total } = await paged<Record<string, unknown>>(base, f, SORT, 's.id');
    return { rows: rows.map(toRecord), total };
  }

  async insert(id: string, w: ScheduleWrite & { name: string; cron_expression: string; created_by: string }, q: Queryable = this.db): Promise<void> {
    await q('replication_schedules').insert({ id, ...w });
  }

  async update(id: string, w: ScheduleWrite, q: Queryable = this.db): Promise<void> {
    if (Object.keys(w).length) await q('replication_schedules').where({ id }).update(w);
  }

  async delete(id: string, q: Queryable = this.db): Promise<number> {
    return q('replication_schedules').where({ id }).delete();
  }

  async nameTaken(name: string, exceptId?: string, q: Queryable = this.db): Promise<boolean> {
    return (await q('replication_schedules').where({ name }).modify((b) => (exceptId ? b.whereNot({ id: exceptId }) : b)).first('id')) !== undefined;
  }

  /** Records a fire (triggered, skipped, missed); the same fire of the same flow is recorded once. */
  async recordFire(f: { id: string; schedule_id: string; flow_id: string; scheduled_for: Date; status: ScheduleExecutionRecord['status']; reason: string | null }, q: Queryable = this.db): Promise<void> {
    await q('schedule_executions').insert(f).onConflict(['schedule_id', 'flow_id', 'scheduled_for']).ignore();
  }

  /** Fire records of several fires, keyed `${flow_id}|${scheduled_for ms}`. */
  async fireRecords(fires: { flow_id: string; scheduled_for: Date }[], q: Queryable = this.db): Promise<Map<string, ScheduleExecutionRecord>> {
    if (!fires.length) return new Map();
    const rows = (await q('schedule_executions').whereIn(['flow_id', 'scheduled_for'], fires.map((f) => [f.flow_id, f.scheduled_for]))) as ScheduleExecutionRecord[];
    return new Map(rows.map((r) => [`${r.flow_id}|${new Date(r.scheduled_for).getTime()}`, r]));
  }

  async recordFires(fires: { id: string; schedule_id: string; flow_id: string; scheduled_for: Date; status: ScheduleExecutionRecord['status']; reason: string | null }[], q: Queryable): Promise<void> {
    if (fires.length) await q('schedule_executions').insert(fires).onConflict(['schedule_id', 'flow_id', 'scheduled_for']).ignore();
  }

  /** How one fire of a flow was recorded, if it was. */
  async fireRecord(flowId: string, scheduledFor: Date, q: Queryable = this.db): Promise<ScheduleExecutionRecord | undefined> {
    return (await q('schedule_executions').where({ flow_id: flowId, scheduled_for: scheduledFor }).first()) as ScheduleExecutionRecord | undefined;
  }

  /** The newest fire recorded for every flow that has one (any status). */
  async lastFires(q: Queryable = this.db): Promise<Map<string, Date>> {
    const rows = (await q('schedule_executions').whereNotNull('flow_id').groupBy('flow_id').select('flow_id').max({ at: 'scheduled_for' })) as { flow_id: string; at: Date }[];
    return new Map(rows.map((r) => [r.flow_id, r.at]));
  }

  /** The newest fire recorded for a flow (any status). */
  async lastFire(flowId: string, q: Queryable = this.db): Promise<Date | undefined> {
    const r = (await q('schedule_executions').where({ flow_id: flowId }).max({ at: 'scheduled_for' }).first()) as { at: Date | null } | undefined;
    return r?.at ?? undefined;
  }

  async listExecutions(scheduleId: string, f: { limit: number; offset: number; status?: string; flow_id?: string }): Promise<{ rows: ScheduleExecutionRecord[]; total: number }> {
    const base = this.db('schedule_executions').where({ schedule_id: scheduleId });
    if (f.status) base.where('status', f.status);
    if (f.flow_id) base.where('flow_id', f.flow_id);
    const c = (await base.clone().count({ n: '*' }).first()) as { n: number } | undefined;
    const rows = (await base.orderBy('scheduled_for', 'desc').orderBy('id').limit(f.limit).offset(f.offset).select('*')) as ScheduleExecutionRecord[];
    return { rows, total: num(c?.n) };
  }
}
