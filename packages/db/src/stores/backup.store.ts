import type { Knex } from 'knex';
import { num, numOrNull, paged, type Page, type Queryable } from '../rows.js';

export type BackupStatus = 'pending' | 'running' | 'success' | 'failed' | 'cancelled';
/** Not ended yet: `pending` (queued, no worker has it) or `running`. */
export const OPEN_BACKUP: BackupStatus[] = ['pending', 'running'];

/** Live progress of a running backup, as the worker reports it. */
export interface BackupProgress {
  phase: string;
  disk?: number | null;
  bytes_done: number;
  bytes_total: number;
}

export interface BackupRecord {
  id: string;
  vm_context_id: string;
  vm_name: string | null;
  repository_id: number;
  repository_name: string | null;
  /** The repository's immutability period in days now; null when it is not immutable. */
  repository_immutable_days: number | null;
  policy_id: number | null;
  flow_execution_id: string | null;
  backup_type: 'full' | 'incremental';
  requested_type: 'auto' | 'full' | 'incremental';
  status: BackupStatus;
  consistency: 'quiesced' | 'crash' | null;
  /** The restore point's id in the repository; null until committed. */
  manifest_ref: string | null;
  /** Progress of an open backup: phase, the disk being read, bytes read of bytes to read. */
  phase: string | null;
  progress_disk: number | null;
  bytes_done: number;
  bytes_to_read: number;
  progress_at: Date | null;
  attempts: number;
  worker_id: string | null;
  bytes_total: number;
  bytes_transferred: number;
  bytes_stored: number;
  locked_until: Date | null;
  error_message: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
  created_by: string;
}

export interface BackupDiskRecord {
  disk_key: number;
  disk_uuid: string | null;
  capacity_bytes: number;
  backup_mode: 'full' | 'incremental';
  change_id: string | null;
  bytes_transferred: number;
  status: 'pending' | 'running' | 'success' | 'failed' | 'skipped';
  error_message: string | null;
}

export interface BackupFilters extends Page {
  vm_context_id?: string;
  repository_id?: number;
  flow_execution_id?: string;
  status?: BackupRecord['status'];
  backup_type?: BackupRecord['backup_type'];
}

const SORT: Record<string, string> = { created_at: 'b.created_at', completed_at: 'b.completed_at', bytes_transferred: 'b.bytes_transferred' };

function toRecord(r: Record<string, unknown>): BackupRecord {
  return {
    ...(r as unknown as BackupRecord),
    repository_id: num(r.repository_id),
    policy_id: numOrNull(r.policy_id),
    repository_immutable_days: numOrNull(r.repository_immutable_days),
    progress_disk: numOrNull(r.progress_disk),
    bytes_done: num(r.bytes_done),
    bytes_to_read: num(r.bytes_to_read),
    attempts: num(r.attempts),
    bytes_total: num(r.bytes_total),
    bytes_transferred: num(r.bytes_transferred),
    bytes_stored: num(r.bytes_stored),
  };
}

/** SQL for backup_jobs and backup_disks (restore points). */
export class BackupStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('backup_jobs as b')
      .leftJoin('vm_contexts as v', 'v.context_id', 'b.vm_context_id')
      .leftJoin('backup_repositories as r', 'r.id', 'b.repository_id')
      .select('b.*', 'v.vm_name', 'r.name as repository_name', q.raw('CASE WHEN r.immutable_enabled THEN r.immutable_retention_days END AS repository_immutable_days'));
  }

  async get(id: string, q: Queryable = this.db): Promise<BackupRecord | undefined> {
    const row = await this.select(q).where('b.id', id).first();
    return row ? toRecord(row) : undefined;
  }

  async list(f: BackupFilters): Promise<{ rows: BackupRecord[]; total: number }> {
    const base = this.select();
    if (f.vm_context_id) base.where('b.vm_context_id', f.vm_context_id);
    if (f.repository_id) base.where('b.repository_id', f.repository_id);
    if (f.flow_execution_id) base.where('b.flow_execution_id', f.flow_execution_id);
    if (f.status) base.where('b.status', f.status);
    if (f.backup_type) base.where('b.backup_type', f.backup_type);
    const { rows, total } = await paged<Record<string, unknown>>(base, { ...f, order: f.order ?? 'desc' }, SORT, 'b.id');
    return { rows: rows.map(toRecord), total };
  }

  async disks(id: string, q: Queryable = this.db): Promise<BackupDiskRecord[]> {
    const rows = (await q('backup_disks').where({ backup_job_id: id }).orderBy('disk_key').select('disk_key', 'disk_uuid', 'capacity_bytes', 'backup_mode', 'change_id', 'bytes_transferred', 'status', 'error_message')) as Record<string, unknown>[];
    return rows.map((r) => ({ ...(r as unknown as BackupDiskRecord), disk_key: num(r.disk_key), capacity_bytes: num(r.capacity_bytes), bytes_transferred: num(r.bytes_transferred) }));
  }

  /** Inserts a backup that starts now (status running). */
  async insertRunning(b: { id: string; vm_context_id: string; repository_id: number; flow_execution_id: string | null; backup_type: BackupRecord['backup_type']; requested_type: BackupRecord['requested_type']; consistency: BackupRecord['consistency']; created_by: string }, q: Queryable = this.db): Promise<void> {
    await q('backup_jobs').insert({ ...b, status: 'running', started_at: new Date() });
  }

  /**
   * The disks of the VM's newest successful backup, or [] when it has none: what an incremental is
   * planned against.
   */
  async lastSuccessfulDisks(vmContextId: string, repositoryId: number, q: Queryable = this.db): Promise<{ backup_id: string; manifest_ref: string | null; disks: BackupDiskRecord[] } | undefined> {
    const last = (await q('backup_jobs').where({ vm_context_id: vmContextId, repository_id: repositoryId, status: 'success' }).orderBy([{ column: 'completed_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('id', 'manifest_ref')) as { id: string; manifest_ref: string | null } | undefined;
    if (!last) return undefined;
    return { backup_id: last.id, manifest_ref: last.manifest_ref, disks: await this.disks(last.id, q) };
  }

  /**
   * Records a committed restore point in one transaction: its disks, the backup as success (locked
   * until the end of its repository's immutability period, if the repository is immutable), and the
   * VM's last backup. Call only after the point is committed to the repository.
   */
  async complete(id: string, r: { backup_type: BackupRecord['backup_type']; bytes_total: number; bytes_transferred: number; bytes_stored: number; manifest_ref: string; disks: (Omit<BackupDiskRecord, 'status' | 'error_message'> & { previous_change_id: string | null })[] }): Promise<void> {
    await this.db.transaction(async (tx) => {
      const at = new Date();
      if (r.disks.length) await tx('backup_disks').insert(r.disks.map((d) => ({ ...d, backup_job_id: id, status: 'success' })));
      await tx('backup_jobs').where({ id }).update({ status: 'success', phase: 'done', progress_disk: null, backup_type: r.backup_type, bytes_total: r.bytes_total, bytes_transferred: r.bytes_transferred, bytes_stored: r.bytes_stored, manifest_ref: r.manifest_ref, completed_at: at });
      await lockIfImmutable(tx, id);
      const row = (await tx('backup_jobs').where({ id }).first('vm_context_id')) as { vm_context_id: string };
      await tx('vm_contexts').where({ context_id: row.vm_context_id }).update({ last_backup_at: at, last_backup_id: id });
    });
  }

  /**
   * The successful backups of one VM in one repository that runs of a flow made (a retention
   * policy's scope): backups made outside the flow, by other flows or by hand, are not among them.
   */
  async successfulOfFlow(flowId: string, vmContextId: string, repositoryId: number, q: Queryable = this.db): Promise<BackupRecord[]> {
    const rows = await this.select(q)
      .where({ 'b.vm_context_id': vmContextId, 'b.repository_id': repositoryId, 'b.status': 'success' })
      .whereNotNull('b.manifest_ref')
      .whereIn('b.flow_execution_id', q('protection_flow_executions').where({ flow_id: flowId }).select('id'));
    return rows.map(toRecord);
  }

  /**
   * Records a copy of a successful backup's restore point in another repository (a policy's copy
   * rule): a successful backup of the same VM, execution, type and disks, in `repositoryId`, locked
   * like any point of that repository. The VM's last backup stays the original.
   */
  async insertCopy(source: BackupRecord, c: { id: string; repository_id: number; bytes_stored: number; created_by: string }): Promise<void> {
    await this.db.transaction(async (tx) => {
      const at = new Date();
      await tx('backup_jobs').insert({
        id: c.id, vm_context_id: source.vm_context_id, repository_id: c.repository_id, flow_execution_id: source.flow_execution_id, policy_id: source.policy_id,
        backup_type: source.backup_type, requested_type: source.requested_type, consistency: source.consistency, status: 'success', phase: 'done',
        manifest_ref: source.manifest_ref, bytes_total: source.bytes_total, bytes_transferred: source.bytes_transferred, bytes_stored: c.bytes_stored,
        started_at: source.started_at, completed_at: at, created_by: c.created_by,
      });
      const disks = (await tx('backup_disks').where({ backup_job_id: source.id }).select()) as Record<string, unknown>[];
      if (disks.length) await tx('backup_disks').insert(disks.map(({ id: _id, created_at: _at, ...d }) => ({ ...d, backup_job_id: c.id })));
      await lockIfImmutable(tx, c.id);
    });
  }

  /**
   * What the periodic copy pass works through: each flow whose policy has an enabled `scheduled` copy
   * rule, with every VM that has a successful backup of that flow in the flow's repository.
   */
  async scheduledCopySources(q: Queryable = this.db): Promise<Array<{ flow_id: string; repository_id: number; vm_context_id: string }>> {
    const rows = (await q('protection_flows as f')
      .join('backup_copy_rules as c', 'c.policy_id', 'f.policy_id')
      .join('protection_flow_executions as e', 'e.flow_id', 'f.id')
      .join('backup_jobs as b', function () {
        this.on('b.flow_execution_id', '=', 'e.id').andOn('b.repository_id', '=', 'f.repository_id');
      })
      .where({ 'c.enabled': true, 'c.copy_mode': 'scheduled', 'b.status': 'success' })
      .distinct('f.id as flow_id', 'f.repository_id', 'b.vm_context_id')
      .orderBy(['f.id', 'b.vm_context_id'])) as Array<{ flow_id: string; repository_id: number | string; vm_context_id: string }>;
    return rows.map((r) => ({ ...r, repository_id: num(r.repository_id) }));
  }

  /** Backups writing into a repository now (queued or running). */
  async openIn(repositoryId: number, q: Queryable = this.db): Promise<number> {
    const [row] = (await q('backup_jobs').where({ repository_id: repositoryId }).whereIn('status', OPEN_BACKUP).count({ n: '*' })) as { n: number | string }[];
    return Number(row?.n ?? 0);
  }

  /** The backup locked for update (a delete checks it, then removes it in the same transaction). */
  async lockForUpdate(id: string, tx: Queryable): Promise<BackupRecord | undefined> {
    const row = await tx('backup_jobs').where({ id }).forUpdate().first();
    if (!row) return undefined;
    return (await this.get(id, tx))!;
  }

  /**
   * Removes the backup's row (its disks go with it). A VM whose last backup it was points at its
   * newest remaining successful backup instead, or at none.
   */
  async remove(b: Pick<BackupRecord, 'id' | 'vm_context_id'>, tx: Queryable): Promise<void> {
    await tx('backup_jobs').where({ id: b.id }).delete();
    const newest = (await tx('backup_jobs').where({ vm_context_id: b.vm_context_id, status: 'success' }).orderBy([{ column: 'completed_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('id', 'completed_at')) as { id: string; completed_at: Date } | undefined;
    await tx('vm_contexts').where({ context_id: b.vm_context_id, last_backup_id: b.id }).update({ last_backup_id: newest?.id ?? null, last_backup_at: newest?.completed_at ?? null });
  }

  /** Which backups own these restore points of a repository (point id -> backup). */
  async byPoints(repositoryId: number, pointIds: string[], q: Queryable = this.db): Promise<Map<string, { id: string; vm_context_id: string }>> {
    const out = new Map<string, { id: string; vm_context_id: string }>();
    for (let i = 0; i < pointIds.length; i += 500) {
      const rows = (await q('backup_jobs').where({ repository_id: repositoryId }).whereIn('manifest_ref', pointIds.slice(i, i + 500)).select('id', 'vm_context_id', 'manifest_ref')) as { id: string; vm_context_id: string; manifest_ref: string }[];
      for (const r of rows) out.set(r.manifest_ref, { id: r.id, vm_context_id: r.vm_context_id });
    }
    return out;
  }

  /** Ends a backup that did not produce a point (failed or cancelled). Idempotent; never touches a successful one. */
  async fail(id: string, status: 'failed' | 'cancelled', error: string, q: Queryable = this.db): Promise<void> {
    await q('backup_jobs').where({ id }).whereIn('status', OPEN_BACKUP).update({ status, phase: status, error_message: error.slice(0, 60_000), completed_at: new Date() });
  }
}

/** An immutable repository locks a point for its period from the moment it exists (completed_at). */
async function lockIfImmutable(tx: Queryable, backupId: string): Promise<void> {
  await tx.raw(
    `UPDATE backup_jobs b JOIN backup_repositories r ON r.id = b.repository_id
        SET b.locked_until = b.completed_at + INTERVAL r.immutable_retention_days DAY
      WHERE b.id = ? AND r.immutable_enabled AND r.immutable_retention_days > 0`,
    [backupId],
  );
}
