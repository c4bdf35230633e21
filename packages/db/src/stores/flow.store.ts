import type { Knex } from 'knex';
import type { DestinationType, FlowLastStatus, FlowType, TargetType } from '@vaultflow/domain';
import { bool, json, likeContains, num, numOrNull, paged, type Page, type Queryable } from '../rows.js';

/** A protection flow with the names of what it refers to. */
export interface FlowRecord {
  id: string;
  name: string;
  description: string | null;
  flow_type: FlowType;
  target_type: TargetType;
  target_id: string;
  target_name: string | null;
  repository_id: number | null;
  repository_name: string | null;
  policy_id: number | null;
  policy_name: string | null;
  destination_type: DestinationType | null;
  destination_config: Record<string, unknown> | null;
  schedule_id: string | null;
  schedule_name: string | null;
  schedule_cron: string | null;
  schedule_timezone: string | null;
  schedule_enabled: boolean | null;
  enabled: boolean;
  vm_start_window_minutes: number;
  last_execution_id: string | null;
  last_execution_status: FlowLastStatus;
  last_execution_time: Date | null;
  next_execution_time: Date | null;
  total_executions: number;
  successful_executions: number;
  failed_executions: number;
  created_at: Date;
  updated_at: Date;
  created_by: string;
}

/** The columns a caller may write. */
export interface FlowWrite {
  name?: string;
  description?: string | null;
  flow_type?: FlowType;
  target_type?: TargetType;
  target_id?: string;
  repository_id?: number | null;
  policy_id?: number | null;
  destination_type?: DestinationType | null;
  destination_config?: Record<string, unknown> | null;
  schedule_id?: string | null;
  enabled?: boolean;
  vm_start_window_minutes?: number;
  next_execution_time?: Date | null;
}

export interface FlowFilters extends Page {
  flow_type?: FlowType;
  target_type?: TargetType;
  target_id?: string;
  enabled?: boolean;
  last_status?: FlowLastStatus;
  schedule_id?: string;
  repository_id?: number;
  search?: string;
}

const SORT: Record<string, string> = {
  name: 'f.name',
  created_at: 'f.created_at',
  updated_at: 'f.updated_at',
  last_execution_time: 'f.last_execution_time',
  next_execution_time: 'f.next_execution_time',
  flow_type: 'f.flow_type',
};

function toRecord(r: Record<string, unknown>): FlowRecord {
  return {
    ...(r as unknown as FlowRecord),
    destination_config: json<Record<string, unknown>>(r.destination_config),
    enabled: bool(r.enabled),
    schedule_enabled: r.schedule_enabled === null || r.schedule_enabled === undefined ? null : bool(r.schedule_enabled),
    repository_id: numOrNull(r.repository_id),
    policy_id: numOrNull(r.policy_id),
    vm_start_window_minutes: num(r.vm_start_window_minutes),
    total_executions: num(r.total_executions),
    successful_executions: num(r.successful_executions),
    failed_executions: num(r.failed_executions),
  };
}

function serialise(w: FlowWrite): Record<string, unknown> {
  const out: Record<string, unknown> = { ...w };
  if ('destination_config' in w) out.destination_config = w.destination_config === null ? null : JSON.stringify(w.destination_config);
  return out;
}

/** SQL for protection_flows. Every read joins the names the API shows. */
export class FlowStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('protection_flows as f')
      .leftJoin('vm_contexts as vm', function () {
        this.on('f.target_type', '=', q.raw('?', ['vm'])).andOn('vm.context_id', '=', 'f.target_id');
      })
      .leftJoin('machine_groups as g', function () {
        this.on('f.target_type', '=', q.raw('?', ['group'])).andOn('g.id', '=', 'f.target_id');
      })
      .leftJoin('backup_repositories as r', 'r.id', 'f.repository_id')
      .leftJoin('backup_policies as p', 'p.id', 'f.policy_id')
      .leftJoin('replication_schedules as s', 's.id', 'f.schedule_id')
      .select(
        'f.*',
        q.raw('COALESCE(vm.vm_name, g.name) AS target_name'),
        'r.name as repository_name',
        'p.name as policy_name',
        's.name as schedule_name',
        's.cron_expression as schedule_cron',
        's.timezone as schedule_timezone',
        's.enabled as schedule_enabled',
      );
  }

  /** Returns undefined when the flow does not exist. */
  async get(id: string, q: Queryable = this.db): Promise<FlowRecord | undefined> {
    const row = await this.select(q).where('f.id', id).first();
    return row ? toRecord(row) : undefined;
  }

  /** Several flows by id (missing ones are absent from the map). */
  async getMany(ids: string[], q: Queryable = this.db): Promise<Map<string, FlowRecord>> {
    if (!ids.length) return new Map();
    const rows = (await this.select(q).whereIn('f.id', [...new Set(ids)])) as Record<string, unknown>[];
    return new Map(rows.map((r) => [String(r.id), toRecord(r)]));
  }

  /** Locks the flows' rows in id order (no deadlocks between batches). */
  async lockMany(ids: string[], q: Queryable): Promise<void> {
    if (ids.length) await q('protection_flows').whereIn('id', [...new Set(ids)].sort()).orderBy('id').forUpdate().select('id');
  }

  async list(f: FlowFilters): Promise<{ rows: FlowRecord[]; total: number }> {
    const base = this.select();
    if (f.flow_type) base.where('f.flow_type', f.flow_type);
    if (f.target_type) base.where('f.target_type', f.target_type);
    if (f.target_id) base.where('f.target_id', f.target_id);
    if (f.enabled !== undefined) base.where('f.enabled', f.enabled);
    if (f.last_status) base.where('f.last_execution_status', f.last_status);
    if (f.schedule_id) base.where('f.schedule_id', f.schedule_id);
    if (f.repository_id) base.where('f.repository_id', f.repository_id);
    if (f.search) base.where((w) => w.whereILike('f.name', likeContains(f.search!)).orWhereILike('f.description', likeContains(f.search!)));
    const { rows, total } = await paged<Record<string, unknown>>(base, f, SORT, 'f.id');
    return { rows: rows.map(toRecord), total };
  }

  async insert(id: string, w: FlowWrite & { created_by: string }, q: Queryable = this.db): Promise<void> {
    await q('protection_flows').insert({ id, ...serialise(w) });
  }

  /** Updates the given columns; returns false when the flow does not exist. */
  async update(id: string, w: FlowWrite, q: Queryable = this.db): Promise<boolean> {
    if (Object.keys(w).length === 0) return (await q('protection_flows').where({ id }).first('id')) !== undefined;
    const n = await q('protection_flows').where({ id }).update(serialise(w));
    return n > 0 || (await q('protection_flows').where({ id }).first('id')) !== undefined;
  }

  async delete(ids: string[], q: Queryable = this.db): Promise<number> {
    return q('protection_flows').whereIn('id', ids).delete();
  }

  /** Locks and returns the ids of `ids` that exist (for all-or-nothing bulk changes). */
  async lockExisting(ids: string[], q: Queryable): Promise<string[]> {
    const rows = (await q('protection_flows').whereIn('id', ids).forUpdate().select('id')) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async setEnabled(ids: string[], enabled: boolean, q: Queryable = this.db): Promise<void> {
    await q('protection_flows').whereIn('id', ids).update({ enabled });
  }

  async setNextExecution(id: string, at: Date | null, q: Queryable = this.db): Promise<void> {
    await q('protection_flows').where({ id }).update({ next_execution_time: at });
  }

  async nameTaken(name: string, exceptId?: string, q: Queryable = this.db): Promise<boolean> {
    const row = await q('protection_flows').where({ name }).modify((b) => (exceptId ? b.whereNot({ id: exceptId }) : b)).first('id');
    return row !== undefined;
  }

  /** Flows (id, name) that refer to a repository, a schedule, a policy, or target one VM or group. */
  async referencing(column: 'repository_id' | 'schedule_id' | 'policy_id', value: string | number, q: Queryable = this.db): Promise<{ id: string; name: string; enabled: boolean; schedule_id: string | null }[]> {
    const rows = (await q('protection_flows').where(column, value).select('id', 'name', 'enabled', 'schedule_id').orderBy('name')) as Record<string, unknown>[];
    return rows.map((r) => ({ id: String(r.id), name: String(r.name), enabled: bool(r.enabled), schedule_id: (r.schedule_id as string | null) ?? null }));
  }

  async targeting(targetType: TargetType, targetId: string, q: Queryable = this.db): Promise<{ id: string; name: string }[]> {
    return (await q('protection_flows').where({ target_type: targetType, target_id: targetId }).select('id', 'name').orderBy('name')) as { id: string; name: string }[];
  }

  /** Counts for the summary and the metrics. */
  async counts(): Promise<{ total: number; enabled: number; backup: number; replication: number; last_failed: number }> {
    const r = (await this.db('protection_flows')
      .select(
        this.db.raw('COUNT(*) AS total'),
        this.db.raw('COALESCE(SUM(enabled = 1), 0) AS enabled'),
        this.db.raw("COALESCE(SUM(flow_type = 'backup'), 0) AS backup"),
        this.db.raw("COALESCE(SUM(flow_type = 'replication'), 0) AS replication"),
        this.db.raw("COALESCE(SUM(last_execution_status = 'error'), 0) AS last_failed"),
      )
      .first()) as Record<string, unknown>;
    return { total: num(r.total), enabled: num(r.enabled), backup: num(r.backup), replication: num(r.replication), last_failed: num(r.last_failed) };
  }

  /** Flows grouped by type and enabled state, for the vaultflow_flows gauge. */
  async countByTypeAndState(): Promise<{ flow_type: FlowType; enabled: boolean; n: number }[]> {
    const rows = (await this.db('protection_flows').select('flow_type', 'enabled').count({ n: '*' }).groupBy('flow_type', 'enabled')) as Record<string, unknown>[];
    return rows.map((r) => ({ flow_type: r.flow_type as FlowType, enabled: bool(r.enabled), n: num(r.n) }));
  }

  /** The flow's schedule became active or changed now: earlier fires are not backfilled. */
  async rearm(id: string, q: Queryable = this.db): Promise<void> {
    await q('protection_flows').where({ id }).update({ schedule_armed_at: q.fn.now() });
  }

  /** An execution started: the flow shows it running. */
  async recordStart(flowId: string, executionId: string, q: Queryable): Promise<void> {
    await q('protection_flows').where({ id: flowId }).update({ last_execution_id: executionId, last_execution_status: 'running', last_execution_time: q.fn.now() });
  }

  /** Several executions started: each flow shows its execution running (one statement). */
  async recordStartMany(starts: { flowId: string; executionId: string }[], q: Queryable): Promise<void> {
    if (!starts.length) return;
    // One execution per flow wins (the last); single-table, so only the flows' own rows are locked.
    const byFlow = new Map(starts.map((x) => [x.flowId, x.executionId]));
    await q.raw(
      `UPDATE protection_flows
          SET last_execution_id = CASE id ${[...byFlow].map(() => 'WHEN ? THEN ?').join(' ')} END,
              last_execution_status = 'running', last_execution_time = CURRENT_TIMESTAMP
        WHERE id IN (${[...byFlow].map(() => '?').join(',')})`,
      [...[...byFlow].flat(), ...byFlow.keys()],
    );
  }

  /** An execution ended: counters move (in SQL) and the last status follows if it is the latest run. */
  async recordFinish(flowId: string, executionId: string, status: FlowLastStatus, q: Queryable): Promise<void> {
    await q('protection_flows')
      .where({ id: flowId })
      .update({
        total_executions: q.raw('total_executions + 1'),
        successful_executions: q.raw('successful_executions + ?', [status === 'success' ? 1 : 0]),
        failed_executions: q.raw('failed_executions + ?', [status === 'error' ? 1 : 0]),
        last_execution_status: q.raw('IF(last_execution_id = ? OR last_execution_id IS NULL, ?, last_execution_status)', [executionId, status]),
        last_execution_id: q.raw('COALESCE(last_execution_id, ?)', [executionId]),
        last_execution_time: q.raw('COALESCE(last_execution_time, CURRENT_TIMESTAMP)'),
      });
  }

  /** Enabled flows on these schedules whose schedule was armed before `at`: those due to fire at `at`. */
  async dueAt(scheduleIds: string[], at: Date, q: Queryable = this.db): Promise<string[]> {
    if (!scheduleIds.length) return [];
    const rows = (await q('protection_flows')
      .whereIn('schedule_id', scheduleIds)
      .where('enabled', true)
      .whereRaw('COALESCE(schedule_armed_at, created_at) < ?', [at])
      .orderBy('id')
      .select('id')) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** How many enabled flows each schedule has. */
  async enabledCountBySchedule(q: Queryable = this.db): Promise<Map<string, number>> {
    const rows = (await q('protection_flows').where('enabled', true).whereNotNull('schedule_id').groupBy('schedule_id').select('schedule_id').count({ n: '*' })) as { schedule_id: string; n: number }[];
    return new Map(rows.map((r) => [r.schedule_id, num(r.n)]));
  }

  /** Moves next_execution_time of these flows to `next` unless it is later already (after a fire). */
  async advanceNext(ids: string[], next: Date, q: Queryable = this.db): Promise<void> {
    if (!ids.length) return;
    await q('protection_flows')
      .whereIn('id', ids)
      .where((b) => b.whereNull('next_execution_time').orWhere('next_execution_time', '<', next))
      .update({ next_execution_time: next });
  }

  /** Enabled flows whose schedule is enabled: what should have a job scheduler. */
  async withActiveSchedules(q: Queryable = this.db): Promise<{ id: string; cron: string; timezone: string; misfire_grace_seconds: number; schedule_id: string; next_execution_time: Date | null; schedule_armed_at: Date | null; created_at: Date }[]> {
    return (await q('protection_flows as f')
      .join('replication_schedules as s', 's.id', 'f.schedule_id')
      .where('f.enabled', true)
      .where('s.enabled', true)
      .select('f.id', 's.cron_expression as cron', 's.timezone', 's.misfire_grace_seconds', 's.id as schedule_id', 'f.next_execution_time', 'f.schedule_armed_at', 'f.created_at')) as never;
  }

  /** Enabled flows on a schedule, with the schedule's cron: used to recompute next_execution_time. */
  async scheduledFlows(scheduleId: string, q: Queryable = this.db): Promise<{ id: string; enabled: boolean }[]> {
    const rows = (await q('protection_flows').where({ schedule_id: scheduleId }).select('id', 'enabled')) as Record<string, unknown>[];
    return rows.map((r) => ({ id: String(r.id), enabled: bool(r.enabled) }));
  }
}
