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
