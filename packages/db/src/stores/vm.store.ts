import type { Knex } from 'knex';
import type { PowerState } from '@vaultflow/domain';
import { bool, likeContains, num, numOrNull, paged, type Page, type Queryable } from '../rows.js';

export interface VmRecord {
  context_id: string;
  vm_name: string;
  vcenter_id: string | null;
  vcenter_name: string | null;
  moref: string;
  uuid: string | null;
  datacenter: string | null;
  cluster: string | null;
  esx_host: string | null;
  folder: string | null;
  power_state: PowerState;
  guest_os: string | null;
  num_cpu: number | null;
  memory_mb: number | null;
  cbt_enabled: boolean;
  inventory_status: 'present' | 'missing';
  last_seen_at: Date | null;
  last_backup_at: Date | null;
  last_backup_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface VmDiskRecord {
  disk_key: number;
  disk_uuid: string | null;
  label: string | null;
  capacity_bytes: number;
  datastore_path: string | null;
  disk_mode: string | null;
}

/** The columns discovery writes for one VM. */
export type VmWrite = Omit<VmRecord, 'context_id' | 'vcenter_name' | 'created_at' | 'updated_at' | 'last_backup_at' | 'last_backup_id'> & {
  last_backup_at?: Date | null;
  last_backup_id?: string | null;
};

export interface VmFilters extends Page {
  search?: string;
  vcenter_id?: string;
  power_state?: PowerState;
  cbt_enabled?: boolean;
  inventory_status?: 'present' | 'missing';
  group_id?: string;
}

const SORT: Record<string, string> = { vm_name: 'v.vm_name', created_at: 'v.created_at', last_backup_at: 'v.last_backup_at', power_state: 'v.power_state' };

function toRecord(r: Record<string, unknown>): VmRecord {
  return {
    ...(r as unknown as VmRecord),
    cbt_enabled: bool(r.cbt_enabled),
    num_cpu: numOrNull(r.num_cpu),
    memory_mb: numOrNull(r.memory_mb),
  };
}

/** SQL for vm_contexts and vm_disks (the VM inventory). */
export class VmStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('vm_contexts as v').leftJoin('vcenters as c', 'c.id', 'v.vcenter_id').select('v.*', 'c.name as vcenter_name');
  }

  async get(id: string, q: Queryable = this.db): Promise<VmRecord | undefined> {
    const row = await this.select(q).where('v.context_id', id).first();
    return row ? toRecord(row) : undefined;
  }

  async getMany(ids: string[], q: Queryable = this.db): Promise<Map<string, VmRecord>> {
    if (!ids.length) return new Map();
    const rows = (await this.select(q).whereIn('v.context_id', [...new Set(ids)])) as Record<string, unknown>[];
    return new Map(rows.map((r) => [String(r.context_id), toRecord(r)]));
  }

  async list(f: VmFilters): Promise<{ rows: VmRecord[]; total: number }> {
    const base = this.select();
    if (f.search) base.where((w) => w.whereILike('v.vm_name', likeContains(f.search!)).orWhereILike('v.moref', likeContains(f.search!)).orWhereILike('v.guest_os', likeContains(f.search!)));
    if (f.vcenter_id) base.where('v.vcenter_id', f.vcenter_id);
    if (f.power_state) base.where('v.power_state', f.power_state);
    if (f.cbt_enabled !== undefined) base.where('v.cbt_enabled', f.cbt_enabled);
    if (f.inventory_status) base.where('v.inventory_status', f.inventory_status);
    if (f.group_id) base.whereExists((s) => s.select(this.db.raw('1')).from('vm_group_memberships as m').whereRaw('m.vm_context_id = v.context_id').where('m.group_id', f.group_id!));
    const { rows, total } = await paged<Record<string, unknown>>(base, f, SORT, 'v.context_id');
    return { rows: rows.map(toRecord), total };
  }

  async disks(id: string, q: Queryable = this.db): Promise<VmDiskRecord[]> {
    const rows = (await q('vm_disks').where({ vm_context_id: id }).orderBy('disk_key').select('disk_key', 'disk_uuid', 'label', 'capacity_bytes', 'datastore_path', 'disk_mode')) as Record<string, unknown>[];
    return rows.map((r) => ({ ...(r as unknown as VmDiskRecord), disk_key: num(r.disk_key), capacity_bytes: num(r.capacity_bytes) }));
  }

  async groupsOf(id: string, q: Queryable = this.db): Promise<{ id: string; name: string; enabled: boolean }[]> {
    const rows = (await q('vm_group_memberships as m').join('machine_groups as g', 'g.id', 'm.group_id').where('m.vm_context_id', id).orderBy('g.name').select('g.id', 'g.name', 'm.enabled')) as Record<string, unknown>[];
    return rows.map((r) => ({ id: String(r.id), name: String(r.name), enabled: bool(r.enabled) }));
  }

  /** Flows that protect the VM directly or through one of its groups. */
  async flowsOf(id: string, q: Queryable = this.db): Promise<{ id: string; name: string; via: 'vm' | 'group' }[]> {
    const rows = (await q('protection_flows as f')
      .where((w) =>
        w
          .where({ 'f.target_type': 'vm', 'f.target_id': id })
          .orWhere((g) => g.where('f.target_type', 'group').whereIn('f.target_id', q('vm_group_memberships').where('vm_context_id', id).select('group_id'))),
      )
      .orderBy('f.name')
      .select('f.id', 'f.name', 'f.target_type')) as Record<string, unknown>[];
    return rows.map((r) => ({ id: String(r.id), name: String(r.name), via: r.target_type as 'vm' | 'group' }));
  }

  /** The subset of `ids` that exist. */
  async existing(ids: string[], q: Queryable = this.db): Promise<Set<string>> {
    const rows = (await q('vm_contexts').whereIn('context_id', ids).select('context_id')) as { context_id: string }[];
    return new Set(rows.map((r) => r.context_id));
  }

  /** The VM was registered again under a new moref (discovery recognised it by its instance UUID). */
  async setMoref(contextId: string, moref: string, q: Queryable = this.db): Promise<void> {
    await q('vm_contexts').where({ context_id: contextId }).update({ moref });
  }

  /** Inserts or updates a VM by (vcenter_id, moref) and returns its context id. Used by discovery. */
  async upsert(contextId: string, w: VmWrite, q: Queryable = this.db): Promise<string> {
    await q('vm_contexts').insert({ context_id: contextId, ...w }).onConflict(['vcenter_id', 'moref']).merge(Object.keys(w).filter((k) => k !== 'vcenter_id' && k !== 'moref'));
    const row = (await q('vm_contexts').where({ vcenter_id: w.vcenter_id, moref: w.moref }).first('context_id')) as { context_id: string };
    return row.context_id;
  }

  /** Every VM of a vCenter (present and missing) with its disks sorted by key: what discovery compares against. */
  async inventoryOf(vcenterId: string, q: Queryable = this.db): Promise<{ vm: VmRecord; disks: VmDiskRecord[] }[]> {
    const vms = ((await this.select(q).where('v.vcenter_id', vcenterId).orderBy('v.context_id')) as Record<string, unknown>[]).map(toRecord);
    const rows = (await q('vm_disks as d')
      .join('vm_contexts as v', 'v.context_id', 'd.vm_context_id')
      .where('v.vcenter_id', vcenterId)
      .orderBy(['d.vm_context_id', 'd.disk_key'])
      .select('d.vm_context_id', 'd.disk_key', 'd.disk_uuid', 'd.label', 'd.capacity_bytes', 'd.datastore_path', 'd.disk_mode')) as Record<string, unknown>[];
    const disks = new Map<string, VmDiskRecord[]>();
    for (const { vm_context_id, ...r } of rows) {
      const list = disks.get(String(vm_context_id)) ?? [];
      list.push({ ...(r as unknown as VmDiskRecord), disk_key: num(r.disk_key), capacity_bytes: num(r.capacity_bytes) });
      disks.set(String(vm_context_id), list);
    }
    return vms.map((vm) => ({ vm, disks: disks.get(vm.context_id) ?? [] }));
  }

  /** Sets `last_seen_at` of VMs whose inventory data did not change; `updated_at` keeps telling when it last did. */
  async touchSeen(ids: string[], at: Date, q: Queryable = this.db): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await q('vm_contexts').whereIn('context_id', ids.slice(i, i + 1000)).update({ last_seen_at: at, updated_at: q.raw('updated_at') });
    }
  }

  /** Marks VMs missing (their vCenter no longer lists them). Rows, disks and backups stay. */
  async markMissing(ids: string[], q: Queryable = this.db): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await q('vm_contexts').whereIn('context_id', ids.slice(i, i + 1000)).update({ inventory_status: 'missing' });
    }
  }

  async replaceDisks(id: string, disks: VmDiskRecord[], q: Queryable = this.db): Promise<void> {
    await q('vm_disks').where({ vm_context_id: id }).delete();
    if (disks.length) await q('vm_disks').insert(disks.map((d) => ({ ...d, vm_context_id: id })));
  }
}
