import type { Knex } from 'knex';
import type { RepositoryType } from '@vaultflow/domain';
import { bool, json, likeContains, num, numOrNull, paged, type Page, type Queryable } from '../rows.js';

export interface RepositoryConfigRecord {
  path: string;
  server?: string;
  export?: string;
  share?: string;
}

export interface RepositoryRecord {
  id: number;
  name: string;
  description: string | null;
  repository_type: RepositoryType;
  config: RepositoryConfigRecord;
  enabled: boolean;
  immutable_enabled: boolean;
  immutable_retention_days: number | null;
  total_bytes: number | null;
  used_bytes: number | null;
  available_bytes: number | null;
  capacity_checked_at: Date | null;
  flow_count: number;
  backup_count: number;
  created_at: Date;
  updated_at: Date;
  created_by: string;
}

export interface RepositoryWrite {
  name?: string;
  description?: string | null;
  repository_type?: RepositoryType;
  config?: RepositoryConfigRecord;
  enabled?: boolean;
  immutable_enabled?: boolean;
  immutable_retention_days?: number | null;
}

const SORT: Record<string, string> = { name: 'r.name', created_at: 'r.created_at', repository_type: 'r.repository_type' };

function toRecord(r: Record<string, unknown>): RepositoryRecord {
  return {
    ...(r as unknown as RepositoryRecord),
    id: num(r.id),
    config: json<RepositoryConfigRecord>(r.config) ?? { path: '' },
    enabled: bool(r.enabled),
    immutable_enabled: bool(r.immutable_enabled),
    immutable_retention_days: numOrNull(r.immutable_retention_days),
    total_bytes: numOrNull(r.total_bytes),
    used_bytes: numOrNull(r.used_bytes),
    available_bytes: numOrNull(r.available_bytes),
    flow_count: num(r.flow_count),
    backup_count: num(r.backup_count),
  };
}

function serialise(w: RepositoryWrite): Record<string, unknown> {
  return w.config ? { ...w, config: JSON.stringify(w.config) } : { ...w };
}

/** SQL for backup_repositories. */
export class RepositoryStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('backup_repositories as r').select(
      'r.*',
      q.raw('(SELECT COUNT(*) FROM protection_flows f WHERE f.repository_id = r.id) AS flow_count'),
      q.raw('(SELECT COUNT(*) FROM backup_jobs b WHERE b.repository_id = r.id) AS backup_count'),
    );
  }

  async get(id: number, q: Queryable = this.db): Promise<RepositoryRecord | undefined> {
    const row = await this.select(q).where('r.id', id).first();
    return row ? toRecord(row) : undefined;
  }

  /** Name and enabled state only (no counts): undefined when the repository does not exist. */
  async state(id: number, q: Queryable = this.db): Promise<{ id: number; name: string; enabled: boolean } | undefined> {
    const r = (await q('backup_repositories').where({ id }).first('id', 'name', 'enabled')) as Record<string, unknown> | undefined;
    return r ? { id: num(r.id), name: String(r.name), enabled: bool(r.enabled) } : undefined;
  }

  async list(f: Page & { repository_type?: RepositoryType; enabled?: boolean; search?: string }): Promise<{ rows: RepositoryRecord[]; total: number }> {
    const base = this.select();
    if (f.repository_type) base.where('r.repository_type', f.repository_type);
    if (f.enabled !== undefined) base.where('r.enabled', f.enabled);
    if (f.search) base.whereILike('r.name', likeContains(f.search));
    const { rows, total } = await paged<Record<string, unknown>>(base, f, SORT, 'r.id');
    return { rows: rows.map(toRecord), total };
  }

  /** Returns the new id. */
  async insert(w: RepositoryWrite & { name: string; repository_type: RepositoryType; config: RepositoryConfigRecord; created_by: string }, q: Queryable = this.db): Promise<number> {
    const [id] = (await q('backup_repositories').insert(serialise(w))) as number[];
    return id!;
  }

  async update(id: number, w: RepositoryWrite, q: Queryable = this.db): Promise<void> {
    if (Object.keys(w).length) await q('backup_repositories').where({ id }).update(serialise(w));
  }

  async delete(id: number, q: Queryable = this.db): Promise<number> {
    return q('backup_repositories').where({ id }).delete();
  }

  async recordCapacity(id: number, c: { total: number; used: number; available: number; at: Date }, q: Queryable = this.db): Promise<void> {
    await q('backup_repositories').where({ id }).update({ total_bytes: c.total, used_bytes: c.used, available_bytes: c.available, capacity_checked_at: c.at });
  }

  async nameTaken(name: string, exceptId?: number, q: Queryable = this.db): Promise<boolean> {
    return (await q('backup_repositories').where({ name }).modify((b) => (exceptId ? b.whereNot({ id: exceptId }) : b)).first('id')) !== undefined;
  }

  /**
   * The configured path of every repository but `exceptId`. With `lock` (inside a transaction) the
   * rows and the gaps between them are locked FOR UPDATE, so a concurrent insert waits until this
   * transaction ends: a path check made under the lock cannot be raced by another repository.
   */
  async paths(exceptId?: number, q: Queryable = this.db, lock = false): Promise<{ id: number; name: string; path: string }[]> {
    const rows = (await q('backup_repositories')
      .modify((b) => (exceptId ? b.whereNot({ id: exceptId }) : b))
      .modify((b) => (lock ? b.forUpdate() : b))
      .select('id', 'name', 'config')) as { id: number; name: string; config: unknown }[];
    return rows.map((r) => ({ id: num(r.id), name: r.name, path: json<RepositoryConfigRecord>(r.config)?.path ?? '' })).filter((r) => r.path !== '');
  }

  /** The immutability settings of one repository, locked FOR UPDATE inside `q`; undefined when missing. */
  async immutabilityForUpdate(id: number, q: Queryable): Promise<{ enabled: boolean; retention_days: number | null } | undefined> {
    const row = (await q('backup_repositories').where({ id }).forUpdate().first('immutable_enabled', 'immutable_retention_days')) as Record<string, unknown> | undefined;
    return row ? { enabled: bool(row.immutable_enabled), retention_days: numOrNull(row.immutable_retention_days) } : undefined;
  }

  /** Policies whose copy rules send backups to this repository. */
  async copyRulePolicies(id: number, q: Queryable = this.db): Promise<{ id: number; name: string }[]> {
    return (await q('backup_copy_rules as c').join('backup_policies as p', 'p.id', 'c.policy_id').where('c.destination_repository_id', id).select('p.id', 'p.name')) as { id: number; name: string }[];
  }
}
