import { Type, type Static } from '@sinclair/typebox';
import { BACKUP_REQUEST_TYPES, BACKUP_STATUSES, BACKUP_TYPES } from '@vaultflow/domain';
import { Id, IdParams, IntId, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const backupFields = {
  id: Type.String(),
  vm_context_id: Type.String(),
  vm_name: Nullable(Type.String()),
  repository_id: Type.Integer(),
  repository_name: Nullable(Type.String()),
  policy_id: Nullable(Type.Integer()),
  flow_execution_id: Nullable(Type.String()),
  backup_type: StringEnum(BACKUP_TYPES),
  requested_type: StringEnum(BACKUP_REQUEST_TYPES),
  status: StringEnum(BACKUP_STATUSES),
  consistency: Nullable(StringEnum(['quiesced', 'crash'] as const)),
  bytes_total: Type.Integer(),
  bytes_transferred: Type.Integer(),
  bytes_stored: Type.Integer(),
  locked_until: Nullable(Timestamp),
  error_message: Nullable(Type.String()),
  started_at: Nullable(Timestamp),
  completed_at: Nullable(Timestamp),
  created_at: Timestamp,
  created_by: Type.String(),
};

export const BackupSummary = named('BackupSummary', Type.Object(backupFields));
export const BackupResponse = named(
  'BackupResponse',
  Type.Object({
    ...backupFields,
    disks: Type.Array(
      Type.Object({
        disk_key: Type.Integer(),
        disk_uuid: Nullable(Type.String()),
        capacity_bytes: Type.Integer(),
        backup_mode: StringEnum(BACKUP_TYPES),
        change_id: Nullable(Type.String()),
        bytes_transferred: Type.Integer(),
        status: StringEnum(['pending', 'running', 'success', 'failed', 'skipped'] as const),
        error_message: Nullable(Type.String()),
      }),
    ),
  }),
);
export type BackupResponse = Static<typeof BackupResponse>;

export const BackupListQuery = listQuery(['created_at', 'completed_at', 'bytes_transferred'] as const, {
  vm_context_id: Type.Optional(Id),
  repository_id: Type.Optional(IntId),
  flow_execution_id: Type.Optional(Id),
  status: Type.Optional(StringEnum(BACKUP_STATUSES)),
  backup_type: Type.Optional(StringEnum(BACKUP_TYPES)),
});
export type BackupListQuery = Static<typeof BackupListQuery>;
export const BackupListResponse = named('BackupListResponse', Type.Object({ backups: Type.Array(BackupSummary), total: Type.Integer() }));

const tag = 'Backups';
export const backupEndpoints = {
  list: endpoint({ operationId: 'listBackups', method: 'get', path: '/backups', tag, summary: 'Restore points, newest first by default', permission: 'read', query: BackupListQuery, responses: { 200: BackupListResponse } }),
  get: endpoint({ operationId: 'getBackup', method: 'get', path: '/backups/:id', tag, summary: 'One restore point with its disks', permission: 'read', params: IdParams, responses: { 200: BackupResponse } }),
};
