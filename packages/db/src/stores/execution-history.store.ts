import type { Knex } from 'knex';
import type { ExecutionStatus, ExecutionType } from '@vaultflow/domain';
import { num, type Page } from '../rows.js';

/** An execution as the list across flows shows it: outcome and counters, no metadata. */
export interface ExecutionSummaryRecord {
  id: string;
  flow_id: string;
  flow_name: string;
  status: ExecutionStatus;
  execution_type: ExecutionType;
  started_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
  vms_processed: number;
  jobs_created: number;
  jobs_completed: number;
  jobs_failed: number;
  jobs_skipped: number;
  bytes_transferred: number;
}

export interface ExecutionHistoryFilters extends Page {
  /** Executions that started (or, not started yet, were created) at or after this instant. */
  since?: Date;
  status?: ExecutionStatus;
  flow_id?: string;
}

/** When an execution happened: its start, or its creation while it waits to start. */
const WHEN = 'COALESCE(e.started_at, e.created_at)';

/** SQL for the execution history across all flows (read only). */
export class ExecutionHistoryStore {
  constructor(private readonly db: Knex) {}

  /** One page of executions of every flow, newest first unless `order` is asc, and how many match. */
  async list(f: ExecutionHistoryFilters): Promise<{ rows: ExecutionSummaryRecord[]; total: number }> {
    const base = this.db('protection_flow_executions as e').join('protection_flows as f', 'f.id', 'e.flow_id');
    if (f.since) base.whereRaw(`${WHEN} >= ?`, [f.since]);
    if (f.status) base.where('e.status', f.status);
    if (f.flow_id) base.where('e.flow_id', f.flow_id);
    const counted = (await base.clone().count({ n: '*' }).first()) as { n: unknown } | undefined;
    const dir = f.order === 'asc' ? 'ASC' : 'DESC';
    const rows = (await base
      .select(
        'e.id', 'e.flow_id', 'f.name as flow_name', 'e.status', 'e.execution_type', 'e.started_at', 'e.completed_at', 'e.created_at',
        'e.vms_processed', 'e.jobs_created', 'e.jobs_completed', 'e.jobs_failed', 'e.jobs_skipped', 'e.bytes_transferred',
      )
      .orderByRaw(`${WHEN} ${dir}, e.created_at ${dir}, e.id ${dir}`)
      .limit(f.limit)
      .offset(f.offset)) as Record<string, unknown>[];
    return {
      rows: rows.map((r) => ({
        ...(r as unknown as ExecutionSummaryRecord),
        vms_processed: num(r.vms_processed),
        jobs_created: num(r.jobs_created),
        jobs_completed: num(r.jobs_completed),
        jobs_failed: num(r.jobs_failed),
        jobs_skipped: num(r.jobs_skipped),
        bytes_transferred: num(r.bytes_transferred),
      })),
      total: num(counted?.n),
    };
  }
}
