import { Type, type Static } from '@sinclair/typebox';
import { POWER_STATES } from '@vaultflow/domain';
import { Description, Id, IdParams, Name, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const fields = {
  name: Name,
  description: Type.Optional(Nullable(Description)),
  max_concurrent_vms: Type.Integer({ minimum: 1, maximum: 1000 }),
  priority: Type.Integer({ minimum: 0, maximum: 100 }),
  created_by: Type.Optional(Type.String({ maxLength: 255, description: 'ignored: the acting user is recorded' })),
};

export const CreateGroupRequest = named(
  'CreateGroupRequest',
  Type.Object(
    { ...fields, max_concurrent_vms: Type.Optional(fields.max_concurrent_vms), priority: Type.Optional(fields.priority) },
    { additionalProperties: false },
  ),
);
export type CreateGroupRequest = Static<typeof CreateGroupRequest>;
export const UpdateGroupRequest = named('UpdateGroupRequest', Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 }));
export type UpdateGroupRequest = Static<typeof UpdateGroupRequest>;

export const GroupResponse = named(
  'GroupResponse',
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    max_concurrent_vms: Type.Integer(),
    priority: Type.Integer(),
    member_count: Type.Integer(),
    enabled_member_count: Type.Integer(),
    flow_count: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
    created_by: Type.String(),
  }),
);
export type GroupResponse = Static<typeof GroupResponse>;

export const GroupListQuery = listQuery(['name', 'created_at', 'priority'] as const, { search: Type.Optional(Type.String({ maxLength: 255 })) });
export type GroupListQuery = Static<typeof GroupListQuery>;
export const GroupListResponse = named('GroupListResponse', Type.Object({ groups: Type.Array(GroupResponse), total: Type.Integer() }));

export const GroupMember = named(
  'GroupMember',
  Type.Object({
    vm_context_id: Type.String(),
    vm_name: Type.String(),
    power_state: StringEnum(POWER_STATES),
    inventory_status: StringEnum(['present', 'missing'] as const),
    enabled: Type.Boolean(),
    added_at: Timestamp,
    added_by: Type.String(),
  }),
);
export const GroupMemberListResponse = named('GroupMemberListResponse', Type.Object({ members: Type.Array(GroupMember), total: Type.Integer() }));

export const AddMembersRequest = named(
  'AddMembersRequest',
  Type.Object(
    { vm_context_ids: Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true }), enabled: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
);
export type AddMembersRequest = Static<typeof AddMembersRequest>;
export const UpdateMemberRequest = named('UpdateMemberRequest', Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }));
const MemberParams = Type.Object({ id: Id, vmId: Id }, { additionalProperties: false });

const tag = 'Protection groups';
export const groupEndpoints = {
  list: endpoint({ operationId: 'listGroups', method: 'get', path: '/machine-groups', tag, summary: 'List protection groups', permission: 'read', query: GroupListQuery, responses: { 200: GroupListResponse } }),
  create: endpoint({ operationId: 'createGroup', method: 'post', path: '/machine-groups', tag, summary: 'Create a protection group', permission: 'configure', body: CreateGroupRequest, responses: { 201: GroupResponse } }),
  get: endpoint({ operationId: 'getGroup', method: 'get', path: '/machine-groups/:id', tag, summary: 'Get one group', permission: 'read', params: IdParams, responses: { 200: GroupResponse } }),
  update: endpoint({ operationId: 'updateGroup', method: 'put', path: '/machine-groups/:id', tag, summary: 'Update a group', permission: 'configure', params: IdParams, body: UpdateGroupRequest, responses: { 200: GroupResponse } }),
  remove: endpoint({ operationId: 'deleteGroup', method: 'delete', path: '/machine-groups/:id', tag, summary: 'Delete a group (refused while a flow targets it)', permission: 'configure', params: IdParams, responses: { 204: null } }),
  members: endpoint({ operationId: 'listGroupMembers', method: 'get', path: '/machine-groups/:id/members', tag, summary: 'Members of a group', permission: 'read', params: IdParams, responses: { 200: GroupMemberListResponse } }),
  addMembers: endpoint({ operationId: 'addGroupMembers', method: 'post', path: '/machine-groups/:id/members', tag, summary: 'Add VMs to a group (VMs already in it are left as they are)', permission: 'configure', params: IdParams, body: AddMembersRequest, responses: { 200: GroupMemberListResponse } }),
  updateMember: endpoint({ operationId: 'updateGroupMember', method: 'patch', path: '/machine-groups/:id/members/:vmId', tag, summary: 'Enable or disable one member', permission: 'configure', params: MemberParams, body: UpdateMemberRequest, responses: { 200: GroupMember } }),
  removeMember: endpoint({ operationId: 'removeGroupMember', method: 'delete', path: '/machine-groups/:id/members/:vmId', tag, summary: 'Remove a VM from a group', permission: 'configure', params: MemberParams, responses: { 204: null } }),
};
