import type { Knex } from 'knex';
import type { Direct, Ok } from '../direct.js';
import { num, type Queryable } from '../rows.js';

export const VM_RUN_STATUSES = ['waiting', 'queued', 'running', 'success', 'failed', 'skipped', 'cancelled'] as const;
export type VmRunStatus = (typeof VM_RUN_STATUSES)[number];
export const OPEN_VM_RUN: VmRunStatus[] = ['waiting', 'queued', 'running'];
export const ACTIVE_VM_RUN: VmRunStatus[] = ['queued', 'running'];

export interface VmRunRecord {
  id: number;
  execution_id: string;
  flow_id: string;
  vm_context_id: string;
  vm_name: string;
  group_id: string | null;
  priority: number;
  status: VmRunStatus;
  attempts: number;
  bytes_transferred: number;
  bytes_done: number;
  bytes_total: number;
  phase: string | null;
  backup_job_id: string | null;
  error_message: string | null;
  worker_id: string | null;
  created_at: Date;
  queued_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  progress_at: Date | null;
}

export interface NewVmRun {
  execution_id: string;
  flow_id: string;
  vm_context_id: string;
  vm_name: string;
  group_id: string | null;
  priority: number;
  status: 'waiting' | 'skipped';
  error_message?: string | null;
}

/** The outcome a worker reports for one VM. */
export interface VmRunResult {
  status: 'success' | 'failed' | 'skipped' | 'cancelled';
  bytes_transferred: number;
  backup_job_id?: string | null;
  error_message?: string | null;
  /** The start, when it was not written on its own (a VM job that ended quickly): written with the result. */
  started?: { at: Date; worker_id: string };
}

/**
 * The SET clause that moves rows to their results, with per-row values (one CASE per column), the
 * starts that results carry (started_at kept when set, one more attempt, the worker) and
 * completed_at. Every value is a bound parameter (`?`), listed in `values` in the order of the SQL.
 */
export function resultColumns(results: { id: number; r: VmRunResult }[]): { sql: string; values: unknown[] } {
  const when = (rows: typeof results) => rows.map(() => 'WHEN ? THEN ?').join(' ');
  const pairs = (rows: typeof results, val: (x: (typeof results)[number]) => unknown) => rows.flatMap((x) => [x.id, val(x)]);
  const caseOf = (col: string, val: (x: (typeof results)[number]) => unknown) => ({ sql: `${col} = CASE id ${when(results)} ELSE ${col} END`, values: pairs(results, val) });
  const cols = [
    caseOf('status', (x) => x.r.status),
    caseOf('bytes_transferred', (x) => x.r.bytes_transferred),
    caseOf('backup_job_id', (x) => x.r.backup_job_id ?? null),
    caseOf('error_message', (x) => x.r.error_message ?? null),
  ];
  const started = results.filter((x) => x.r.started);
  if (started.length) {
    cols.push(
      { sql: `started_at = COALESCE(started_at, CASE id ${when(started)} END)`, values: pairs(started, (x) => x.r.started!.at) },
      { sql: `attempts = attempts + CASE id ${when(started)} ELSE 0 END`, values: pairs(started, () => 1) },
      { sql: `worker_id = CASE id ${when(started)} ELSE worker_id END`, values: pairs(started, (x) => x.r.started!.worker_id) },
    );
  }
  return { sql: `${cols.map((c) => c.sql).join(', ')}, completed_at = CURRENT_TIMESTAMP(3)`, values: cols.flatMap((c) => c.values) };
}

const toRecord = (r: Record<string, unknown>): VmRunRecord => ({
  ...(r as unknown as VmRunRecord),
  id: num(r.id),
  priority: num(r.priority),
  attempts: num(r.attempts),
  bytes_transferred: num(r.bytes_transferred),
  bytes_done: num(r.bytes_done),
  bytes_total: num(r.bytes_total),
});

/** Where waiting rows are: their groups, and the executions of those without a group. */
export interface WaitingScopes {
  groupIds: string[];
  executionIds: string[];
}

export function scopesOf(rows: { group_id: string | null; execution_id: string }[]): WaitingScopes {
  const groupIds = new Set<string>();
  const executionIds = new Set<string>();
  for (const r of rows) {
    if (r.group_id) groupIds.add(r.group_id);
    else executionIds.add(r.execution_id);
  }
  return { groupIds: [...groupIds], executionIds: [...executionIds] };
}

/** SQL for protection_flow_vm_runs: one row per VM of an execution. */
export class VmRunStore {
  constructor(
    private readonly db: Knex,
    private readonly direct: Direct,
  ) {}

  /** Inserts the rows; rows that exist (same execution and VM) are left as they are. */
  async insertMany(rows: NewVmRun[], q: Queryable = this.db): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500).map((r) => ({ ...r, completed_at: r.status === 'skipped' ? q.fn.now(3) : null }));
      await q('protection_flow_vm_runs').insert(chunk).onConflict(['execution_id', 'vm_context_id']).ignore();
    }
  }

  async get(id: number, q: Queryable = this.db): Promise<VmRunRecord | undefined> {
    const r = await q('protection_flow_vm_runs').where({ id }).first();
    return r ? toRecord(r) : undefined;
  }

  async getMany(ids: number[], q: Queryable = this.db): Promise<VmRunRecord[]> {
    if (!ids.length) return [];
    return ((await q('protection_flow_vm_runs').whereIn('id', [...new Set(ids)])) as Record<string, unknown>[]).map(toRecord);
  }

  async byExecutionAndVm(executionId: string, vmId: string, q: Queryable = this.db): Promise<VmRunRecord | undefined> {
    const r = await q('protection_flow_vm_runs').where({ execution_id: executionId, vm_context_id: vmId }).first();
    return r ? toRecord(r) : undefined;
  }

  async forExecution(executionId: string, q: Queryable = this.db): Promise<VmRunRecord[]> {
    const rows = (await q('protection_flow_vm_runs').where({ execution_id: executionId }).orderBy('priority', 'desc').orderBy('id')) as Record<string, unknown>[];
    return rows.map(toRecord);
  }

  async countsByStatus(executionId: string, q: Queryable = this.db): Promise<Record<VmRunStatus, number>> {
    const rows = (await q('protection_flow_vm_runs').where({ execution_id: executionId }).select('status').count({ n: '*' }).groupBy('status')) as { status: VmRunStatus; n: number }[];
    const out = Object.fromEntries(VM_RUN_STATUSES.map((s) => [s, 0])) as Record<VmRunStatus, number>;
    for (const r of rows) out[r.status] = num(r.n);
    return out;
  }

  /** True while any row of the execution is open (stops at the first one). */
  async hasOpen(executionId: string, q: Queryable = this.db): Promise<boolean> {
    return (await q('protection_flow_vm_runs').where({ execution_id: executionId }).whereIn('status', OPEN_VM_RUN).first(q.raw('1 AS open'))) !== undefined;
  }

  /** Locks the VMs' inventory rows in a fixed order (no deadlocks between releases). */
  async lockVms(vmIds: string[], q: Queryable): Promise<void> {
    if (!vmIds.length) return;
    await q('vm_contexts').whereIn('context_id', [...new Set(vmIds)].sort()).orderBy('context_id').forUpdate().select('context_id');
  }

  /**
   * Where waiting rows that may start now are, in one statement: rows of these executions, and rows
   * anywhere that wait for these VMs. Each comes back as its group, or as its execution when it has
   * no group.
   */
  async waitingScopes(scope: { executionIds: string[]; vmIds: string[] }, q: Queryable = this.db): Promise<WaitingScopes> {
    const parts: Knex.QueryBuilder[] = [];
    if (scope.executionIds.length) parts.push(q('protection_flow_vm_runs').whereIn('execution_id', [...new Set(scope.executionIds)]).where({ status: 'waiting' }).distinct('group_id', 'execution_id'));
    if (scope.vmIds.length) parts.push(q('protection_flow_vm_runs').whereIn('vm_context_id', [...new Set(scope.vmIds)]).where({ status: 'waiting' }).distinct('group_id', 'execution_id'));
    if (!parts.length) return { groupIds: [], executionIds: [] };
    return scopesOf((await (parts.length === 1 ? parts[0]! : q.union(parts, true))) as { group_id: string | null; execution_id: string }[]);
  }

  /**
   * A worker takes rows: queued (or running, after a crash) become running, started when the
   * work began (`at`; a row started before keeps its time), and attempts grow, in one
   * autocommitted statement for many starts. Returns the ids taken; a row that is final or not
   * released is not taken and its job must not run. Whether the executions are live is the caller's
   * check (VmJobRunner). Usually every row moves; when some did not, the rows now running for this
   * worker are the ones taken.
   */
  async startMany(marks: { id: number; at: Date }[], workerId: string): Promise<Set<number>> {
    if (!marks.length) return new Set();
    const byId = new Map(marks.map((m) => [m.id, m.at]));
    const ids = [...byId.keys()];
    const moved = await this.direct.query<Ok>(
      `UPDATE protection_flow_vm_runs SET status = 'running', started_at = COALESCE(started_at, CASE id ${ids.map(() => 'WHEN ? THEN ?').join(' ')} END), attempts = attempts + 1, worker_id = ? WHERE id IN (?) AND status IN (?)`,
      [...[...byId].flat(), workerId, ids, ACTIVE_VM_RUN],
    );
    if (moved.affectedRows === ids.length) return new Set(ids);
    const rows = await this.direct.query<{ id: number }[]>('SELECT id FROM protection_flow_vm_runs WHERE id IN (?) AND status = ? AND worker_id = ?', [ids, 'running', workerId]);
    return new Set(rows.map((r) => num(r.id)));
  }

  async progress(id: number, p: { phase?: string; bytes_done: number; bytes_total: number }, q: Queryable = this.db): Promise<void> {
    await q('protection_flow_vm_runs').where({ id, status: 'running' }).update({ phase: p.phase ?? null, bytes_done: p.bytes_done, bytes_total: p.bytes_total, progress_at: q.fn.now(3) });
  }

  /** Moves an open row to its final state; false when it was final already (a replayed result). */
  async finish(id: number, r: VmRunResult, q: Queryable): Promise<boolean> {
    const n = await q('protection_flow_vm_runs')
      .where({ id })
      .whereIn('status', OPEN_VM_RUN)
      .update({
        status: r.status,
        bytes_transferred: r.bytes_transferred,
        backup_job_id: r.backup_job_id ?? null,
        error_message: r.error_message ?? null,
        completed_at: q.fn.now(3),
      });
    return n > 0;
  }

  /**
   * Moves several open rows to their final states in two statements (lock the open ones, then one
   * UPDATE with per-row values); returns the ids that moved. Rows final already are left alone.
   */
  async finishMany(results: { id: number; r: VmRunResult }[], q: Queryable): Promise<Set<number>> {
    if (!results.length) return new Set();
    const open = (await q('protection_flow_vm_runs').whereIn('id', results.map((x) => x.id)).whereIn('status', OPEN_VM_RUN).forUpdate().select('id')) as { id: number }[];
    const moving = new Set(open.map((o) => num(o.id)));
    const rows = results.filter((x) => moving.has(x.id));
    if (!rows.length) return moving;
    const set = resultColumns(rows);
    await q.raw(`UPDATE protection_flow_vm_runs SET ${set.sql} WHERE id IN (${rows.map(() => '?').join(', ')})`, [...set.values, ...rows.map((x) => x.id)] as Knex.RawBinding[]);
    return moving;
  }

  /** Running executions with waiting rows (at most 1000). */
  async executionsWaiting(q: Queryable = this.db): Promise<string[]> {
    const rows = (await q('protection_flow_executions as e')
      .join('protection_flow_vm_runs as r', (j) => j.on('r.execution_id', 'e.id').andOnVal('r.status', 'waiting'))
      .where('e.status', 'running')
      .whereNull('e.cancel_requested_at')
      .distinct('e.id')
      .limit(1000)) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /**
   * Waiting rows older than their flow's start window (vm_start_window_minutes). Open rows belong
   * to running executions only, so the look starts there (no index on status alone to keep up).
   */
  async staleWaiting(q: Queryable = this.db): Promise<(VmRunRecord & { window_minutes: number })[]> {
    const rows = (await q('protection_flow_executions as e')
      .join('protection_flow_vm_runs as r', (j) => j.on('r.execution_id', 'e.id').andOnVal('r.status', 'waiting'))
      .join('protection_flows as f', 'f.id', 'r.flow_id')
      .where('e.status', 'running')
      .whereRaw('r.created_at < CURRENT_TIMESTAMP(3) - INTERVAL f.vm_start_window_minutes MINUTE')
      .select('r.*', 'f.vm_start_window_minutes as window_minutes')
      .limit(1000)) as Record<string, unknown>[];
    return rows.map((r) => ({ ...toRecord(r), window_minutes: num(r.window_minutes) }));
  }

  /** Running executions whose VM rows are all final (finalization was interrupted). */
  async executionsWithNothingOpen(q: Queryable = this.db): Promise<{ id: string; flow_id: string }[]> {
    return (await q('protection_flow_executions as e')
      .where('e.status', 'running')
      .whereNotExists((s) => s.select(q.raw('1')).from('protection_flow_vm_runs as r').whereRaw('r.execution_id = e.id').whereIn('r.status', OPEN_VM_RUN))
      .select('e.id', 'e.flow_id')
      .limit(1000)) as { id: string; flow_id: string }[];
  }

  /** Open rows of an execution that no worker holds (waiting or queued). */
  async unstarted(executionId: string, q: Queryable): Promise<VmRunRecord[]> {
    return ((await q('protection_flow_vm_runs').where({ execution_id: executionId }).whereIn('status', ['waiting', 'queued'])) as Record<string, unknown>[]).map(toRecord);
  }

  async backupJobIds(executionId: string, q: Queryable): Promise<string[]> {
    const rows = (await q('protection_flow_vm_runs').where({ execution_id: executionId }).whereNotNull('backup_job_id').orderBy('id').select('backup_job_id')) as { backup_job_id: string }[];
    return rows.map((r) => r.backup_job_id);
  }

  /** Queued rows whose job may have been lost (queued longer than `olderThan`). */
  async queuedBefore(olderThan: Date, q: Queryable = this.db): Promise<VmRunRecord[]> {
    const rows = (await q('protection_flow_executions as e')
      .join('protection_flow_vm_runs as r', (j) => j.on('r.execution_id', 'e.id').andOnVal('r.status', 'queued'))
      .where('e.status', 'running')
      .where('r.queued_at', '<', olderThan)
      .select('r.*')
      .limit(1000)) as Record<string, unknown>[];
    return rows.map(toRecord);
  }
}
