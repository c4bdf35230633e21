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

export const UNPROTECTED_REASONS = ['no_flow', 'never_backed_up', 'no_schedule', 'last_backup_too_old'] as const;
export type UnprotectedReason = (typeof UNPROTECTED_REASONS)[number];

/**
 * A present VM without a recent enough successful backup: covered by no enabled flow (`no_flow`), never
 * backed up (`never_backed_up`), covered only by flows without an enabled schedule (`no_schedule`), or
 * whose last backup is older than its schedules allow (`last_backup_too_old`).
 */
export const UnprotectedVm = named(
  'UnprotectedVm',
  Type.Object({
    vm: VmSummary,
    reason: StringEnum(UNPROTECTED_REASONS),
    flows: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    last_backup_at: Nullable(Timestamp),
    expected_within_seconds: Nullable(Type.Integer()),
  }),
);
export type UnprotectedVm = Static<typeof UnprotectedVm>;
export const UnprotectedVmListResponse = named(
  'UnprotectedVmListResponse',
  Type.Object({ vms: Type.Array(UnprotectedVm), total: Type.Integer(), present_total: Type.Integer() }),
);
export type UnprotectedVmListResponse = Static<typeof UnprotectedVmListResponse>;

const tag = 'Virtual machines';
export const vmEndpoints = {
  list: endpoint({ operationId: 'listVms', method: 'get', path: '/vms', tag, summary: 'The VM inventory discovered from vCenters', permission: 'read', query: VmListQuery, responses: { 200: VmListResponse } }),
  unprotected: endpoint({ operationId: 'listUnprotectedVms', method: 'get', path: '/vms/unprotected', tag, summary: 'Present VMs without a successful backup within their flows\' schedule period, or in no enabled flow, each with the reason', permission: 'read', responses: { 200: UnprotectedVmListResponse } }),
  get: endpoint({ operationId: 'getVm', method: 'get', path: '/vms/:id', tag, summary: 'One VM with its disks, groups and the flows that protect it', permission: 'read', params: IdParams, responses: { 200: VmResponse } }),
};
