import type { Knex } from 'knex';
import type { ExecutionStatus, ExecutionType } from '@vaultflow/domain';
import { json, num, numOrNull, type Queryable } from '../rows.js';

/** A protection flow execution with its flow's name. */
export interface ExecutionRecord {
  id: string;
  flow_id: string;
  flow_name: string;
  status: ExecutionStatus;
  execution_type: ExecutionType;
  jobs_created: number;
  jobs_completed: number;
  jobs_failed: number;
  jobs_skipped: number;
  started_at: Date | null;
  completed_at: Date | null;
  execution_time_seconds: number | null;
  vms_processed: number;
  bytes_transferred: number;
  error_message: string | null;
  execution_metadata: unknown;
  created_job_ids: string[];
  schedule_execution_id: string | null;
  scheduled_for: Date | null;
  created_at: Date;
  triggered_by: string;
  cancel_requested_at: Date | null;
}

export interface NewExecution {
  id: string;
  flow_id: string;
  execution_type: ExecutionType;
  triggered_by: string;
  scheduled_for?: Date | null;
  schedule_execution_id?: string | null;
  execution_metadata?: Record<string, unknown> | null;
}

function toRecord(r: Record<string, unknown>): ExecutionRecord {
  const ids = json<unknown>(r.created_job_ids);
  return {
    ...(r as unknown as ExecutionRecord),
    jobs_created: num(r.jobs_created),
    jobs_completed: num(r.jobs_completed),
    jobs_failed: num(r.jobs_failed),
    jobs_skipped: num(r.jobs_skipped),
    vms_processed: num(r.vms_processed),
    bytes_transferred: num(r.bytes_transferred),
    execution_time_seconds: numOrNull(r.execution_time_seconds),
    execution_metadata: json(r.execution_metadata),
    created_job_ids: Array.isArray(ids) ? ids.map(String) : [],
  };
}

/** SQL for protection_flow_executions. */
export class ExecutionStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('protection_flow_executions as e').join('protection_flows as f', 'f.id', 'e.flow_id').select('e.*', 'f.name as flow_name');
  }

  async insert(e: NewExecution, q: Queryable = this.db): Promise<void> {
    await q('protection_flow_executions').insert({
      ...e,
      status: 'pending',
      execution_metadata: e.execution_metadata ? JSON.stringify(e.execution_metadata) : null,
      created_job_ids: JSON.stringify([]),
    });
  }

  /** Returns undefined when missing, or when it belongs to another flow than `flowId` (if given). */
  async get(id: string, flowId?: string, q: Queryable = this.db): Promise<ExecutionRecord | undefined> {
    const b = this.select(q).where('e.id', id);
    if (flowId) b.where('e.flow_id', flowId);
    const row = await b.first();
    return row ? toRecord(row) : undefined;
  }

  async listForFlow(flowId: string, page: { limit: number; offset: number; status?: ExecutionStatus }): Promise<{ rows: ExecutionRecord[]; total: number }> {
    const base = this.select().where('e.flow_id', flowId);
    if (page.status) base.where('e.status', page.status);
    const c = (await base.clone().clearSelect().count({ n: '*' }).first()) as { n: number } | undefined;
    const rows = (await base
      .orderByRaw('COALESCE(e.started_at, e.created_at) DESC')
      .orderBy('e.created_at', 'desc')
      .orderBy('e.id', 'desc')
      .limit(page.limit)
      .offset(page.offset)) as Record<string, unknown>[];
    return { rows: rows.map(toRecord), total: num(c?.n) };
  }

  /** The pending or running execution of a flow, if any (oldest first). */
  async active(flowId: string, q: Queryable = this.db): Promise<{ id: string; status: ExecutionStatus } | undefined> {
    return (await q('protection_flow_executions')
      .where({ flow_id: flowId })
      .whereIn('status', ['pending', 'running'])
      .orderBy('created_at', 'asc')
      .first('id', 'status')) as { id: string; status: ExecutionStatus } | undefined;
  }

  /**
   * Creates the execution of a scheduler fire, or finds the one that exists: the unique
   * (flow_id, scheduled_for) key makes a fire one execution however often its job runs.
   * Returns the execution's id and whether this call created it.
   */
  async insertForFire(e: NewExecution & { scheduled_for: Date }, q: Queryable = this.db): Promise<{ id: string; created: boolean }> {
    const [res] = (await q.raw(
      `INSERT IGNORE INTO protection_flow_executions (id, flow_id, execution_type, triggered_by, scheduled_for, schedule_execution_id, status, created_job_ids)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', '[]')`,
      [e.id, e.flow_id, e.execution_type, e.triggered_by, e.scheduled_for, e.schedule_execution_id ?? null],
    )) as [{ affectedRows: number }];
    if (res.affectedRows === 1) return { id: e.id, created: true };
    const row = (await q('protection_flow_executions').where({ flow_id: e.flow_id, scheduled_for: e.scheduled_for }).first('id')) as { id: string };
    return { id: row.id, created: false };
  }

  /** The execution of one scheduler fire, if it exists. */
  async forFire(flowId: string, scheduledFor: Date, q: Queryable = this.db): Promise<string | undefined> {
    const r = (await q('protection_flow_executions').where({ flow_id: flowId, scheduled_for: scheduledFor }).first('id')) as { id: string } | undefined;
    return r?.id;
  }

  /** Executions of fires that exist, keyed `${flow_id}|${scheduled_for ms}`. */
  async forFires(fires: { flow_id: string; scheduled_for: Date }[], q: Queryable = this.db): Promise<Map<string, string>> {
    if (!fires.length) return new Map();
    const rows = (await q('protection_flow_executions')
      .whereIn(['flow_id', 'scheduled_for'], fires.map((f) => [f.flow_id, f.scheduled_for]))
      .select('id', 'flow_id', 'scheduled_for')) as { id: string; flow_id: string; scheduled_for: Date }[];
    return new Map(rows.map((r) => [`${r.flow_id}|${new Date(r.scheduled_for).getTime()}`, r.id]));
  }

  /** The open (pending or running) execution of each of these flows, if any. */
  async activeOf(flowIds: string[], q: Queryable = this.db): Promise<Map<string, { id: string; status: ExecutionStatus }>> {
    if (!flowIds.length) return new Map();
    const rows = (await q('protection_flow_executions').whereIn('flow_id', [...new Set(flowIds)]).whereIn('status', ['pending', 'running']).orderBy('created_at').select('id', 'flow_id', 'status')) as { id: string; flow_id: string; status: ExecutionStatus }[];
    const out = new Map<string, { id: string; status: ExecutionStatus }>();
    for (const r of rows) if (!out.has(r.flow_id)) out.set(r.flow_id, { id: r.id, status: r.status });
    return out;
  }

  /** Inserts the executions of several fires; rows for fires that have one already are left alone. */
  async insertFires(rows: (NewExecution & { scheduled_for: Date })[], q: Queryable): Promise<void> {
    if (!rows.length) return;
    await q('protection_flow_executions')
      .insert(rows.map((e) => ({ id: e.id, flow_id: e.flow_id, execution_type: e.execution_type, triggered_by: e.triggered_by, scheduled_for: e.scheduled_for, schedule_execution_id: e.schedule_execution_id ?? null, status: 'pending', created_job_ids: '[]' })))
      .onConflict(['flow_id', 'scheduled_for'])
      .ignore();
  }

  /** Ids of executions still pending that were created before `before` (at most 500). */
  async pendingBefore(before: Date, q: Queryable = this.db): Promise<string[]> {
    const rows = (await q('protection_flow_executions').where({ status: 'pending' }).where('created_at', '<', before).orderBy('created_at').limit(500).select('id')) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Locks several executions in id order and returns them. */
  async lockMany(ids: string[], q: Queryable): Promise<{ id: string; flow_id: string; status: ExecutionStatus; cancel_requested_at: Date | null }[]> {
    if (!ids.length) return [];
    return (await q('protection_flow_executions').whereIn('id', [...new Set(ids)].sort()).orderBy('id').forUpdate().select('id', 'flow_id', 'status', 'cancel_requested_at')) as never;
  }

  /** Locks the execution row for the rest of the transaction (results of one execution serialise here). */
  async lock(id: string, q: Queryable): Promise<{ id: string; flow_id: string; status: ExecutionStatus; cancel_requested_at: Date | null; jobs_created: number } | undefined> {
    const r = (await q('protection_flow_executions').where({ id }).forUpdate().first('id', 'flow_id', 'status', 'cancel_requested_at', 'jobs_created')) as Record<string, unknown> | undefined;
    return r ? { ...(r as { id: string; flow_id: string; status: ExecutionStatus; cancel_requested_at: Date | null }), jobs_created: num(r.jobs_created) } : undefined;
  }

  /** pending -> running, with the fan-out's counts; false when it was not pending. */
  async markRunning(id: string, counts: { jobs_created: number; jobs_skipped: number; metadata?: Record<string, unknown> }, q: Queryable): Promise<boolean> {
    const n = await q('protection_flow_executions')
      .where({ id, status: 'pending' })
      .update({
        status: 'running',
        started_at: q.fn.now(),
        jobs_created: counts.jobs_created,
        jobs_skipped: counts.jobs_skipped,
        ...(counts.metadata ? { execution_metadata: JSON.stringify(counts.metadata) } : {}),
      });
    return n > 0;
  }

  /**
   * pending -> running for several executions in one single-table statement, with the counts and
   * metadata the caller computed (it holds the rows it just wrote). No join: a join would read and
   * lock flow and VM rows out of order and deadlock with concurrent fires. Returns how many moved.
   */
  async markRunningMany(starts: { id: string; jobs_created: number; jobs_skipped: number; metadata: Record<string, unknown> }[], q: Queryable): Promise<number> {
    if (!starts.length) return 0;
    const caseOf = () => `CASE id ${starts.map(() => 'WHEN ? THEN ?').join(' ')} END`;
    const bind = (val: (x: (typeof starts)[number]) => unknown) => starts.flatMap((x) => [x.id, val(x)]);
    const [res] = (await q.raw(
      `UPDATE protection_flow_executions
          SET status = 'running', started_at = CURRENT_TIMESTAMP,
              jobs_created = ${caseOf()}, jobs_skipped = ${caseOf()}, execution_metadata = ${caseOf()}
        WHERE id IN (${starts.map(() => '?').join(',')}) AND status = 'pending'`,
      [...bind((x) => x.jobs_created), ...bind((x) => x.jobs_skipped), ...bind((x) => JSON.stringify(x.metadata)), ...starts.map((x) => x.id)] as (string | number)[],
    )) as [{ affectedRows: number }];
    return res.affectedRows;
  }

  /** Adds one VM's result to the counters, in SQL (never read-modify-write). */
  async addResult(id: string, d: { completed: number; failed: number; skipped: number; processed: number; bytes: number }, q: Queryable): Promise<void> {
    await q('protection_flow_executions')
      .where({ id })
      .update({
        jobs_completed: q.raw('jobs_completed + ?', [d.completed]),
        jobs_failed: q.raw('jobs_failed + ?', [d.failed]),
        jobs_skipped: q.raw('jobs_skipped + ?', [d.skipped]),
        vms_processed: q.raw('vms_processed + ?', [d.processed]),
        bytes_transferred: q.raw('bytes_transferred + ?', [d.bytes]),
      });
  }

  /** Counters as they are now (inside the locking transaction). */
  async counters(id: string, q: Queryable): Promise<{ jobs_created: number; jobs_completed: number; jobs_failed: number; jobs_skipped: number }> {
    const r = (await q('protection_flow_executions').where({ id }).first('jobs_created', 'jobs_completed', 'jobs_failed', 'jobs_skipped')) as Record<string, unknown>;
    return { jobs_created: num(r.jobs_created), jobs_completed: num(r.jobs_completed), jobs_failed: num(r.jobs_failed), jobs_skipped: num(r.jobs_skipped) };
  }

  /** Sets the final state once: false when the execution was final already. */
  async finalize(id: string, f: { status: ExecutionStatus; error_message: string | null; created_job_ids: string[] }, q: Queryable): Promise<boolean> {
    const n = await q('protection_flow_executions')
      .where({ id })
      .whereIn('status', ['pending', 'running'])
      .update({
        status: f.status,
        error_message: f.error_message,
        created_job_ids: JSON.stringify(f.created_job_ids),
        started_at: q.raw('COALESCE(started_at, CURRENT_TIMESTAMP)'),
        completed_at: q.fn.now(),
        execution_time_seconds: q.raw('TIMESTAMPDIFF(SECOND, COALESCE(started_at, created_at), CURRENT_TIMESTAMP)'),
      });
    return n > 0;
  }

  /** True when someone asked to cancel the execution (or it is gone or final). */
  async shouldStop(id: string, q: Queryable = this.db): Promise<boolean> {
    const r = (await q('protection_flow_executions').where({ id }).first('status', 'cancel_requested_at')) as { status: ExecutionStatus; cancel_requested_at: Date | null } | undefined;
    return !r || r.cancel_requested_at !== null || !['pending', 'running'].includes(r.status);
  }

  /** Of these executions, the ones VM jobs may start for: pending or running, no cancel asked. */
  async liveOf(ids: string[], q: Queryable = this.db): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = (await q('protection_flow_executions').whereIn('id', [...new Set(ids)]).whereIn('status', ['pending', 'running']).whereNull('cancel_requested_at').select('id')) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  /** Records a cancellation request; false when the execution is final or unknown. */
  async requestCancel(id: string, by: string, q: Queryable = this.db): Promise<boolean> {
    const n = await q('protection_flow_executions').where({ id }).whereIn('status', ['pending', 'running']).whereNull('cancel_requested_at').update({ cancel_requested_at: q.fn.now(), cancel_requested_by: by });
    return n > 0;
  }

  /** Executions stuck open: pending ones whose job may be lost, running ones with nothing open. */
  async open(q: Queryable = this.db): Promise<{ id: string; flow_id: string; status: ExecutionStatus; created_at: Date; cancel_requested_at: Date | null }[]> {
    return (await q('protection_flow_executions').whereIn('status', ['pending', 'running']).select('id', 'flow_id', 'status', 'created_at', 'cancel_requested_at').limit(10_000)) as never;
  }

  /** What each execution was started with (its execution_metadata), by id. */
  async metadataOf(ids: string[], q: Queryable = this.db): Promise<Map<string, Record<string, unknown>>> {
    if (!ids.length) return new Map();
    const rows = (await q('protection_flow_executions').whereIn('id', [...new Set(ids)]).select('id', 'execution_metadata')) as { id: string; execution_metadata: unknown }[];
    return new Map(rows.map((r) => [r.id, json<Record<string, unknown>>(r.execution_metadata) ?? {}]));
  }

  async countByStatus(): Promise<{ status: ExecutionStatus; n: number }[]> {
    const rows = (await this.db('protection_flow_executions').select('status').count({ n: '*' }).groupBy('status')) as { status: ExecutionStatus; n: number }[];
    return rows.map((r) => ({ status: r.status, n: num(r.n) }));
  }

  /** Execution counts since `since`, and how many run now. */
  async countsSince(since: Date): Promise<{ total: number; success: number; failed: number; running: number; bytes: number }> {
    const r = (await this.db('protection_flow_executions')
      .select(
        this.db.raw('COALESCE(SUM(created_at >= ?), 0) AS total', [since]),
        this.db.raw("COALESCE(SUM(created_at >= ? AND status = 'success'), 0) AS success", [since]),
        this.db.raw("COALESCE(SUM(created_at >= ? AND status = 'error'), 0) AS failed", [since]),
        this.db.raw("COALESCE(SUM(status IN ('pending', 'running')), 0) AS running"),
        this.db.raw('COALESCE(SUM(CASE WHEN created_at >= ? THEN bytes_transferred ELSE 0 END), 0) AS bytes', [since]),
      )
      .first()) as Record<string, unknown>;
    return { total: num(r.total), success: num(r.success), failed: num(r.failed), running: num(r.running), bytes: num(r.bytes) };
  }
}
