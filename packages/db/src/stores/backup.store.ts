import type { Knex } from 'knex';
import { num, numOrNull, paged, type Page, type Queryable } from '../rows.js';

export interface BackupRecord {
  id: string;
  vm_context_id: string;
  vm_name: string | null;
  repository_id: number;
  repository_name: string | null;
  policy_id: number | null;
  flow_execution_id: string | null;
  backup_type: 'full' | 'incremental';
  requested_type: 'auto' | 'full' | 'incremental';
  status: 'pending' | 'running' | 'success' | 'failed' | 'cancelled';
  consistency: 'quiesced' | 'crash' | null;
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
      .select('b.*', 'v.vm_name', 'r.name as repository_name');
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
}
