import { randomUUID } from 'node:crypto';
import type { Db, Stores } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { conflict, notFound, unprocessable } from '@vaultflow/errors';
import type { AddMembersRequest, CreateGroupRequest, GroupListQuery, GroupResponse, UpdateGroupRequest } from '@vaultflow/schemas';
import { toGroupResponse, toMember } from '../mappers/resources.mapper.js';
import { writeTx } from './write-tx.js';

/** Protection groups (machine groups) and their members. */
export class GroupService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
  ) {}

  async get(id: string): Promise<GroupResponse> {
    return toGroupResponse(await this.require(id));
  }

  async list(q: GroupListQuery) {
    const { rows, total } = await this.stores.groups.list(q);
    return { groups: rows.map(toGroupResponse), total };
  }

  /** `created_by` in the body is ignored: the acting user is recorded. */
  async create(input: CreateGroupRequest, op: Operation): Promise<GroupResponse> {
    const id = randomUUID();
    await writeTx(this.db, 'group', async (trx) => {
      if (await this.stores.groups.nameTaken(input.name, undefined, trx)) throw this.nameTaken(input.name);
      await this.stores.groups.insert(id, { name: input.name, description: input.description ?? null, max_concurrent_vms: input.max_concurrent_vms ?? 5, priority: input.priority ?? 50, created_by: op.actor.username }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'group.create', entity_type: 'machine_group', entity_id: id, details: { name: input.name }, request_id: op.requestId }, trx);
    }, () => this.nameTaken(input.name));
    return this.get(id);
  }

  async update(id: string, input: UpdateGroupRequest, op: Operation): Promise<GroupResponse> {
    const { created_by: _ignored, ...w } = input;
    await writeTx(this.db, 'group', async (trx) => {
      const current = await this.stores.groups.get(id, trx);
      if (!current) throw this.notFound(id);
      if (w.name !== undefined && w.name !== current.name && (await this.stores.groups.nameTaken(w.name, id, trx))) throw this.nameTaken(w.name);
      await this.stores.groups.update(id, w, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'group.update', entity_type: 'machine_group', entity_id: id, details: { fields: Object.keys(w) }, request_id: op.requestId }, trx);
    }, () => this.nameTaken(w.name ?? ''));
    return this.get(id);
  }

  /** Refused (409, naming them) while flows target the group. */
  async remove(id: string, op: Operation): Promise<void> {
    const g = await this.require(id);
    const flows = await this.stores.flows.targeting('group', id);
    if (flows.length) {
      throw conflict('GROUP_IN_USE', `Group "${g.name}" is the target of ${flows.length} flow(s): ${flows.map((f) => f.name).join(', ')}`, flows.map((f) => ({ field: 'flow', message: `${f.id} (${f.name})` })));
    }
    await writeTx(this.db, 'group', async (trx) => {
      await this.stores.groups.delete(id, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'group.delete', entity_type: 'machine_group', entity_id: id, details: { name: g.name }, request_id: op.requestId }, trx);
    });
  }

  async members(id: string) {
    await this.require(id);
    const members = (await this.stores.groups.members(id)).map(toMember);
    return { members, total: members.length };
  }

  /** All or nothing: unknown VM ids are named (422) and nothing is added. */
  async addMembers(id: string, input: AddMembersRequest, op: Operation) {
    await this.require(id);
    const known = await this.stores.vms.existing(input.vm_context_ids);
    const unknown = input.vm_context_ids.map((vm, i) => ({ vm, i })).filter(({ vm }) => !known.has(vm));
    if (unknown.length) {
      throw unprocessable('VM_NOT_FOUND', `${unknown.length} VM(s) are not in the inventory; nothing was added`, unknown.map(({ vm, i }) => ({ field: `body.vm_context_ids.${i}`, message: `VM ${vm} does not exist` })));
    }
    await writeTx(this.db, 'membership', async (trx) => {
      const added = await this.stores.groups.addMembers(id, input.vm_context_ids, input.enabled ?? true, op.actor.username, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'group.members.add', entity_type: 'machine_group', entity_id: id, details: { vm_context_ids: input.vm_context_ids, added }, request_id: op.requestId }, trx);
    });
    return this.members(id);
  }

  async setMemberEnabled(id: string, vmId: string, enabled: boolean, op: Operation) {
    await this.require(id);
    await writeTx(this.db, 'membership', async (trx) => {
      if (!(await this.stores.groups.setMemberEnabled(id, vmId, enabled, trx))) throw this.memberNotFound(id, vmId);
      await this.stores.audit.record({ actor: op.actor.username, action: enabled ? 'group.member.enable' : 'group.member.disable', entity_type: 'machine_group', entity_id: id, details: { vm_context_id: vmId }, request_id: op.requestId }, trx);
    });
    const m = await this.stores.groups.member(id, vmId);
    if (!m) throw this.memberNotFound(id, vmId);
    return toMember(m);
  }

  async removeMember(id: string, vmId: string, op: Operation): Promise<void> {
    await this.require(id);
    await writeTx(this.db, 'membership', async (trx) => {
      if (!(await this.stores.groups.removeMember(id, vmId, trx))) throw this.memberNotFound(id, vmId);
      await this.stores.audit.record({ actor: op.actor.username, action: 'group.members.remove', entity_type: 'machine_group', entity_id: id, details: { vm_context_id: vmId }, request_id: op.requestId }, trx);
    });
  }

  private async require(id: string) {
    const g = await this.stores.groups.get(id);
    if (!g) throw this.notFound(id);
    return g;
  }

  private notFound(id: string) {
    return notFound('GROUP_NOT_FOUND', `Protection group ${id} does not exist`);
  }

  private memberNotFound(id: string, vmId: string) {
    return notFound('MEMBER_NOT_FOUND', `VM ${vmId} is not a member of group ${id}`);
  }

  private nameTaken(name: string) {
    return conflict('GROUP_NAME_TAKEN', `A protection group named "${name}" already exists`, [{ field: 'body.name', message: 'is already used' }]);
  }
}
