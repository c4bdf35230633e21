import type { Knex } from 'knex';
import type { Role } from '@vaultflow/domain';
import { bool, num, paged, type Page, type Queryable } from '../rows.js';

export interface UserRecord {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  enabled: boolean;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
  created_by: string;
}

const SORT: Record<string, string> = { username: 'username', created_at: 'created_at' };
const toRecord = (r: Record<string, unknown>): UserRecord => ({ ...(r as unknown as UserRecord), enabled: bool(r.enabled) });

/** SQL for users. */
export class UserStore {
  constructor(private readonly db: Knex) {}

  async get(id: string, q: Queryable = this.db): Promise<UserRecord | undefined> {
    const r = await q('users').where({ id }).first();
    return r ? toRecord(r) : undefined;
  }

  async byUsername(username: string, q: Queryable = this.db): Promise<UserRecord | undefined> {
    const r = await q('users').where({ username }).first();
    return r ? toRecord(r) : undefined;
  }

  async list(f: Page & { role?: Role }): Promise<{ rows: UserRecord[]; total: number }> {
    const base = this.db('users').select('*');
    if (f.role) base.where({ role: f.role });
    const { rows, total } = await paged<Record<string, unknown>>(base, f, SORT, 'id');
    return { rows: rows.map(toRecord), total };
  }

  async count(q: Queryable = this.db): Promise<number> {
    const r = (await q('users').count({ n: '*' }).first()) as { n: number } | undefined;
    return num(r?.n);
  }

  /**
   * Enabled admins other than `exceptId` (to refuse removing the last one). Run it in the transaction
   * of the change: it locks the rows it reads, so two admins demoting each other at once cannot both
   * see the other one still enabled.
   */
  async otherEnabledAdmins(exceptId: string, q: Queryable = this.db): Promise<number> {
    const rows = await q('users').where({ role: 'admin', enabled: true }).whereNot({ id: exceptId }).select('id').forUpdate();
    return rows.length;
  }

  async insert(u: { id: string; username: string; password_hash: string; role: Role; created_by: string }, q: Queryable = this.db): Promise<void> {
    await q('users').insert(u);
  }

  async update(id: string, w: { password_hash?: string; role?: Role; enabled?: boolean; last_login_at?: Date }, q: Queryable = this.db): Promise<void> {
    if (Object.keys(w).length) await q('users').where({ id }).update(w);
  }

  async delete(id: string, q: Queryable = this.db): Promise<number> {
    return q('users').where({ id }).delete();
  }
}
