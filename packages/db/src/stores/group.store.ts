import type { Knex } from 'knex';
import type { PowerState } from '@vaultflow/domain';
import { bool, likeContains, num, paged, type Page, type Queryable } from '../rows.js';

export interface GroupRecord {
  id: string;
  name: string;
  description: string | null;
  max_concurrent_vms: number;
  priority: number;
  member_count: number;
  enabled_member_count: number;
  flow_count: number;
  created_at: Date;
  updated_at: Date;
  created_by: string;
}

export interface GroupWrite {
  name?: string;
  description?: string | null;
  max_concurrent_vms?: number;
  priority?: number;
}

export interface MemberRecord {
  vm_context_id: string;
  vm_name: string;
  power_state: PowerState;
  inventory_status: 'present' | 'missing';
  enabled: boolean;
  added_at: Date;
  added_by: string;
  /** Null when the VM's vCenter was removed (or never known). */
  vcenter_id: string | null;
}

const SORT: Record<string, string> = { name: 'g.name', created_at: 'g.created_at', priority: 'g.priority' };

function toRecord(r: Record<string, unknown>): GroupRecord {
  return {
    ...(r as unknown as GroupRecord),
    max_concurrent_vms: num(r.max_concurrent_vms),
    priority: num(r.priority),
    member_count: num(r.member_count),
    enabled_member_count: num(r.enabled_member_count),
    flow_count: num(r.flow_count),
  };
}

/** SQL for machine_groups and vm_group_memberships. */
export class GroupStore {
  constructor(private readonly db: Knex) {}

  private select(q: Queryable = this.db): Knex.QueryBuilder {
    return q('machine_groups as g').select(
      'g.*',
      q.raw('(SELECT COUNT(*) FROM vm_group_memberships m WHERE m.group_id = g.id) AS member_count'),
      q.raw('(SELECT COUNT(*) FROM vm_group_memberships m WHERE m.group_id = g.id AND m.enabled = 1) AS enabled_member_count'),
      q.raw("(SELECT COUNT(*) FROM protection_flows f WHERE f.target_type = 'group' AND f.target_id = g.id) AS flow_count"),
    );
  }

  async get(id: string, q: Queryable = this.db): Promise<GroupRecord | undefined> {
    const row = await this.select(q).where('g.id', id).first();
    return row ? toRecord(row) : undefined;
  }

  async list(f: Page & { search?: string }): Promise<{ rows: GroupRecord[]; total: number }> {
    const base = this.select();
    if (f.search) base.whereILike('g.name', likeContains(f.search));
    const { rows, total } = await paged<Record<string, unknown>>(base, f, SORT, 'g.id');
    return { rows: rows.map(toRecord), total };
  }

  async insert(id: string, w: GroupWrite & { name: string; created_by: string }, q: Queryable = this.db): Promise<void> {
    await q('machine_groups').insert({ id, ...w });
  }

  async update(id: string, w: GroupWrite, q: Queryable = this.db): Promise<void> {
    if (Object.keys(w).length) await q('machine_groups').where({ id }).update(w);
  }

  async delete(id: string, q: Queryable = this.db): Promise<number> {
    return q('machine_groups').where({ id }).delete();
  }

  async nameTaken(name: string, exceptId?: string, q: Queryable = this.db): Promise<boolean> {
    return (await q('machine_groups').where({ name }).modify((b) => (exceptId ? b.whereNot({ id: exceptId }) : b)).first('id')) !== undefined;
  }

  async members(groupId: string, q: Queryable = this.db): Promise<MemberRecord[]> {
    const rows = (await q('vm_group_memberships as m')
      .join('vm_contexts as v', 'v.context_id', 'm.vm_context_id')
      .leftJoin('vcenters as c', 'c.id', 'v.vcenter_id')
      .where('m.group_id', groupId)
      .orderBy('v.vm_name')
      .orderBy('v.context_id')
      .select('m.vm_context_id', 'v.vm_name', 'v.power_state', 'v.inventory_status', 'm.enabled', 'm.added_at', 'm.added_by', 'c.id as vcenter_id')) as Record<string, unknown>[];
    return rows.map((r) => ({ ...(r as unknown as MemberRecord), enabled: bool(r.enabled) }));
  }

  async member(groupId: string, vmId: string, q: Queryable = this.db): Promise<MemberRecord | undefined> {
    return (await this.members(groupId, q)).find((m) => m.vm_context_id === vmId);
  }

  /** Adds memberships; VMs already in the group are left untouched. Returns how many were added. */
  async addMembers(groupId: string, vmIds: string[], enabled: boolean, addedBy: string, q: Queryable = this.db): Promise<number> {
    const existing = new Set(
      ((await q('vm_group_memberships').where({ group_id: groupId }).whereIn('vm_context_id', vmIds).select('vm_context_id')) as { vm_context_id: string }[]).map((r) => r.vm_context_id),
    );
    const fresh = vmIds.filter((id) => !existing.has(id));
    if (fresh.length) {
      await q('vm_group_memberships').insert(fresh.map((vm) => ({ group_id: groupId, vm_context_id: vm, enabled, added_by: addedBy })));
    }
    return fresh.length;
  }

  async setMemberEnabled(groupId: string, vmId: string, enabled: boolean, q: Queryable = this.db): Promise<boolean> {
    const n = await q('vm_group_memberships').where({ group_id: groupId, vm_context_id: vmId }).update({ enabled });
    return n > 0 || (await q('vm_group_memberships').where({ group_id: groupId, vm_context_id: vmId }).first('id')) !== undefined;
  }

  async removeMember(groupId: string, vmId: string, q: Queryable = this.db): Promise<number> {
    return q('vm_group_memberships').where({ group_id: groupId, vm_context_id: vmId }).delete();
  }
}
