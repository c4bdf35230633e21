import type { Knex } from 'knex';
import { bool, likeContains, num, paged, type Page, type Queryable } from '../rows.js';

export interface VcenterRecord {
  id: string;
  name: string;
  host: string;
  port: number;
  /** `https`, or plain `http` for the lab simulator. */
  protocol: VcenterProtocol;
  username: string;
  password_encrypted: string;
  tls_thumbprint: string | null;
  insecure: boolean;
  enabled: boolean;
  vm_count: number;
  last_discovery_at: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  created_by: string;
}

export type VcenterProtocol = 'https' | 'http';

export interface VcenterWrite {
  name?: string;
  host?: string;
  port?: number;
  protocol?: VcenterProtocol;
  username?: string;
  password_encrypted?: string;
  tls_thumbprint?: string | null;
  insecure?: boolean;
  enabled?: boolean;
}

const SORT: Record<string, string> = { name: 'c.name', created_at: 'c.created_at', host: 'c.host' };

function toRecord(r: Record<string, unknown>): VcenterRecord {
  return { ...(r as unknown as VcenterRecord), port: num(r.port), insecure: bool(r.insecure), enabled: bool(r.enabled), vm_count: num(r.vm_count) };
}

/** SQL for vcenters. The password column only ever holds SecretBox output. */
export class VcenterStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('vcenters as c').select('c.*', q.raw('(SELECT COUNT(*) FROM vm_contexts v WHERE v.vcenter_id = c.id) AS vm_count'));
  }

  async get(id: string, q: Queryable = this.db): Promise<VcenterRecord | undefined> {
    const row = await this.select(q).where('c.id', id).first();
    return row ? toRecord(row) : undefined;
  }

  async list(f: Page & { search?: string; enabled?: boolean }): Promise<{ rows: VcenterRecord[]; total: number }> {
    const base = this.select();
    if (f.search) base.where((w) => w.whereILike('c.name', likeContains(f.search!)).orWhereILike('c.host', likeContains(f.search!)));
    if (f.enabled !== undefined) base.where('c.enabled', f.enabled);
    const { rows, total } = await paged<Record<string, unknown>>(base, f, SORT, 'c.id');
    return { rows: rows.map(toRecord), total };
  }

  async insert(id: string, w: VcenterWrite & { name: string; host: string; username: string; password_encrypted: string; created_by: string }, q: Queryable = this.db): Promise<void> {
    await q('vcenters').insert({ id, ...w });
  }

  async update(id: string, w: VcenterWrite, q: Queryable = this.db): Promise<void> {
    if (Object.keys(w).length) await q('vcenters').where({ id }).update(w);
  }

  async delete(id: string, q: Queryable = this.db): Promise<number> {
    return q('vcenters').where({ id }).delete();
  }

  async nameTaken(name: string, exceptId?: string, q: Queryable = this.db): Promise<boolean> {
    return (await q('vcenters').where({ name }).modify((b) => (exceptId ? b.whereNot({ id: exceptId }) : b)).first('id')) !== undefined;
  }

  /** Locks the row until the transaction ends; false when the vCenter does not exist (any more). */
  async lock(id: string, q: Queryable): Promise<boolean> {
    return (await q('vcenters').where({ id }).forUpdate().first('id')) !== undefined;
  }

  /**
   * The outcome of a discovery: a success sets `last_discovery_at` and clears `last_error`; a
   * failure sets `last_error` and leaves `last_discovery_at` (the last time the inventory was read).
   */
  async recordDiscovery(id: string, outcome: { at: Date } | { error: string }, q: Queryable = this.db): Promise<void> {
    const w = 'at' in outcome ? { last_discovery_at: outcome.at, last_error: null } : { last_error: outcome.error };
    // updated_at tells when the configuration changed, not when discovery last ran
    await q('vcenters').where({ id }).update({ ...w, updated_at: q.raw('updated_at') });
  }

  /** Enabled vCenters whose last successful discovery is older than `before` (or that never had one), oldest first. */
  async dueForDiscovery(before: Date, q: Queryable = this.db): Promise<{ id: string; name: string }[]> {
    return (await q('vcenters')
      .where({ enabled: true })
      .where((w) => w.whereNull('last_discovery_at').orWhere('last_discovery_at', '<', before))
      .orderByRaw('last_discovery_at IS NOT NULL, last_discovery_at, id')
      .select('id', 'name')) as { id: string; name: string }[];
  }

  async endpointTaken(host: string, port: number, exceptId?: string, q: Queryable = this.db): Promise<boolean> {
    return (await q('vcenters').where({ host, port }).modify((b) => (exceptId ? b.whereNot({ id: exceptId }) : b)).first('id')) !== undefined;
  }
}
