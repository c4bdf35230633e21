import { Type, type Static } from '@sinclair/typebox';
import { POWER_STATES } from '@vaultflow/domain';
import { Id, IdParams, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const PowerState = StringEnum(POWER_STATES);
const InventoryStatus = StringEnum(['present', 'missing'] as const);

const vmFields = {
  context_id: Type.String(),
  vm_name: Type.String(),
  vcenter_id: Nullable(Type.String()),
  vcenter_name: Nullable(Type.String()),
  moref: Type.String(),
  uuid: Nullable(Type.String()),
  datacenter: Nullable(Type.String()),
  cluster: Nullable(Type.String()),
  esx_host: Nullable(Type.String()),
  folder: Nullable(Type.String()),
  power_state: PowerState,
  guest_os: Nullable(Type.String()),
  num_cpu: Nullable(Type.Integer()),
  memory_mb: Nullable(Type.Integer()),
  cbt_enabled: Type.Boolean(),
  inventory_status: InventoryStatus,
  last_seen_at: Nullable(Timestamp),
  last_backup_at: Nullable(Timestamp),
  last_backup_id: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
};

export const VmSummary = named('VmSummary', Type.Object(vmFields));
export type VmSummary = Static<typeof VmSummary>;

export const VmDisk = Type.Object({
  disk_key: Type.Integer(),
  disk_uuid: Nullable(Type.String()),
  label: Nullable(Type.String()),
  capacity_bytes: Type.Integer(),
  datastore_path: Nullable(Type.String()),
  disk_mode: Nullable(Type.String()),
});

export const VmResponse = named(
  'VmResponse',
  Type.Object({
    ...vmFields,
    disks: Type.Array(VmDisk),
    groups: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), enabled: Type.Boolean() })),
    flows: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), via: StringEnum(['vm', 'group'] as const) })),
  }),
);
export type VmResponse = Static<typeof VmResponse>;

export const VmListQuery = listQuery(['vm_name', 'created_at', 'last_backup_at', 'power_state'] as const, {
  search: Type.Optional(Type.String({ maxLength: 255 })),
  vcenter_id: Type.Optional(Id),
  power_state: Type.Optional(PowerState),
  cbt_enabled: Type.Optional(Type.Boolean()),
  inventory_status: Type.Optional(InventoryStatus),
  group_id: Type.Optional(Id),
});
export type VmListQuery = Static<typeof VmListQuery>;
export const VmListResponse = named('VmListResponse', Type.Object({ vms: Type.Array(VmSummary), total: Type.Integer() }));

const tag = 'Virtual machines';
export const vmEndpoints = {
  list: endpoint({ operationId: 'listVms', method: 'get', path: '/vms', tag, summary: 'The VM inventory discovered from vCenters', permission: 'read', query: VmListQuery, responses: { 200: VmListResponse } }),
  get: endpoint({ operationId: 'getVm', method: 'get', path: '/vms/:id', tag, summary: 'One VM with its disks, groups and the flows that protect it', permission: 'read', params: IdParams, responses: { 200: VmResponse } }),
};
