import type { Knex } from 'knex';
import { bool, likeContains, num, numOrNull, paged, type Page, type Queryable } from '../rows.js';

export interface RetentionRecord {
  keep_last: number | null;
  keep_daily: number | null;
  keep_weekly: number | null;
  keep_monthly: number | null;
  keep_yearly: number | null;
}

export interface CopyRuleRecord {
  id: number;
  destination_repository_id: number;
  destination_repository_name: string | null;
  copy_mode: 'immediate' | 'scheduled';
  priority: number;
  verify_after_copy: boolean;
  enabled: boolean;
}

export interface PolicyRecord extends RetentionRecord {
  id: number;
  name: string;
  description: string | null;
  copy_rules: CopyRuleRecord[];
  flow_count: number;
  created_at: Date;
  updated_at: Date;
  created_by: string;
}

export interface CopyRuleWrite {
  destination_repository_id: number;
  copy_mode?: 'immediate' | 'scheduled';
  priority?: number;
  verify_after_copy?: boolean;
  enabled?: boolean;
}

export interface PolicyWrite extends Partial<RetentionRecord> {
  name?: string;
  description?: string | null;
}

const SORT: Record<string, string> = { name: 'p.name', created_at: 'p.created_at' };

/** SQL for backup_policies and backup_copy_rules. */
export class PolicyStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('backup_policies as p').select('p.*', q.raw('(SELECT COUNT(*) FROM protection_flows f WHERE f.policy_id = p.id) AS flow_count'));
  }

  private async withRules(rows: Record<string, unknown>[], q: Queryable = this.db): Promise<PolicyRecord[]> {
    const ids = rows.map((r) => num(r.id));
    const rules = ids.length
      ? ((await q('backup_copy_rules as c')
          .leftJoin('backup_repositories as r', 'r.id', 'c.destination_repository_id')
          .whereIn('c.policy_id', ids)
          .orderBy('c.priority', 'desc')
          .orderBy('c.id')
          .select('c.*', 'r.name as destination_repository_name')) as Record<string, unknown>[])
      : [];
    return rows.map((r) => ({
      ...(r as unknown as PolicyRecord),
      id: num(r.id),
      keep_last: numOrNull(r.keep_last),
      keep_daily: numOrNull(r.keep_daily),
      keep_weekly: numOrNull(r.keep_weekly),
      keep_monthly: numOrNull(r.keep_monthly),
      keep_yearly: numOrNull(r.keep_yearly),
      flow_count: num(r.flow_count),
      copy_rules: rules
        .filter((c) => num(c.policy_id) === num(r.id))
        .map((c) => ({
          id: num(c.id),
          destination_repository_id: num(c.destination_repository_id),
          destination_repository_name: (c.destination_repository_name as string | null) ?? null,
          copy_mode: c.copy_mode as 'immediate' | 'scheduled',
          priority: num(c.priority),
          verify_after_copy: bool(c.verify_after_copy),
          enabled: bool(c.enabled),
        })),
    }));
  }

  async get(id: number, q: Queryable = this.db): Promise<PolicyRecord | undefined> {
    const row = await this.select(q).where('p.id', id).first();
    return row ? (await this.withRules([row], q))[0] : undefined;
  }

  async list(f: Page & { search?: string }): Promise<{ rows: PolicyRecord[]; total: number }> {
    const base = this.select();
    if (f.search) base.whereILike('p.name', likeContains(f.search));
    const { rows, total } = await paged<Record<string, unknown>>(base, f, SORT, 'p.id');
    return { rows: await this.withRules(rows), total };
  }

  async insert(w: PolicyWrite & { name: string; created_by: string }, q: Queryable = this.db): Promise<number> {
    const [id] = (await q('backup_policies').insert(w)) as number[];
    return id!;
  }

  async update(id: number, w: PolicyWrite, q: Queryable = this.db): Promise<void> {
    if (Object.keys(w).length) await q('backup_policies').where({ id }).update(w);
  }

  /** Replaces every copy rule of the policy. */
  async replaceCopyRules(policyId: number, rules: CopyRuleWrite[], q: Queryable = this.db): Promise<void> {
    await q('backup_copy_rules').where({ policy_id: policyId }).delete();
    if (rules.length) await q('backup_copy_rules').insert(rules.map((r) => ({ ...r, policy_id: policyId })));
  }

  async delete(id: number, q: Queryable = this.db): Promise<number> {
    return q('backup_policies').where({ id }).delete();
  }

  async nameTaken(name: string, exceptId?: number, q: Queryable = this.db): Promise<boolean> {
    return (await q('backup_policies').where({ name }).modify((b) => (exceptId ? b.whereNot({ id: exceptId }) : b)).first('id')) !== undefined;
  }
}
