import { Type, type Static } from '@sinclair/typebox';
import { BACKUP_REQUEST_TYPES, BACKUP_STATUSES, BACKUP_TYPES } from '@vaultflow/domain';
import { ErrorResponse, Id, IdParams, IntId, IntIdParams, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';
import { JobLogListResponse, JobLogQuery } from './flows.js';

/** Where an open backup is, or where an ended one stopped. */
export const JobProgress = Type.Object({
  phase: Type.String({ description: 'queued, retry-wait, starting, planning, transfer, done, failed, ...' }),
  disk: Nullable(Type.Integer({ description: 'the disk being read (its device key)' })),
  bytes_done: Type.Integer(),
  bytes_total: Type.Integer({ description: 'bytes to read (the planned areas: allocated areas for a full, changed areas for an incremental)' }),
});

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
  status: StringEnum(BACKUP_STATUSES, { description: 'pending (queued: no worker has it yet), running, success, failed, cancelled' }),
  consistency: Nullable(StringEnum(['quiesced', 'crash'] as const)),
  progress: JobProgress,
  attempts: Type.Integer({ description: 'times a worker started it (more than 1 after a retry or a crashed worker)' }),
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
      { description: 'per-disk results, once the restore point is committed' },
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

export const CreateBackupRequest = named(
  'CreateBackupRequest',
  Type.Object(
    {
      vm_context_id: Id,
      repository_id: IntId,
      backup_type: Type.Optional(StringEnum(BACKUP_REQUEST_TYPES, { description: 'default auto: incremental per disk whenever that is safe' })),
    },
    { additionalProperties: false },
  ),
);
export type CreateBackupRequest = Static<typeof CreateBackupRequest>;

export const DiskImageParams = Type.Object({ id: Id, key: Type.Integer({ minimum: 0, maximum: 2147483647 }) }, { additionalProperties: false });

export const VerifyResponse = named(
  'VerifyResponse',
  Type.Object({
    repository_id: Type.Integer(),
    ok: Type.Boolean(),
    points_checked: Type.Integer(),
    chunks_checked: Type.Integer(),
    bytes_checked: Type.Integer({ description: 'plaintext bytes re-read and re-hashed' }),
    damaged: Type.Array(
      Type.Object({
        backup_id: Nullable(Type.String({ description: 'null for a restore point no backup record owns' })),
        point_id: Type.String(),
        vm_context_id: Nullable(Type.String()),
        reason: StringEnum(['chunks', 'manifest'] as const),
        disk_key: Nullable(Type.Integer({ description: 'null when the manifest itself is damaged' })),
        chunks: Type.Array(Type.String(), { description: 'ids (sha256) of the damaged chunks this disk needs' }),
        message: Type.String(),
      }),
    ),
    damaged_chunks: Type.Array(Type.Object({ chunk: Type.String(), pack: Nullable(Type.String()), reason: StringEnum(['missing', 'corrupt'] as const), message: Type.String() })),
  }),
);
export type VerifyResponse = Static<typeof VerifyResponse>;

export const PruneResponse = named(
  'PruneResponse',
  Type.Object({
    repository_id: Type.Integer(),
    points: Type.Integer({ description: 'restore points whose chunks were kept' }),
    chunks_removed: Type.Integer({ description: 'chunks no restore point uses any more' }),
    packs_deleted: Type.Integer(),
    packs_rewritten: Type.Integer({ description: 'packs mostly unused, whose live chunks were copied into new packs' }),
    bytes_freed: Type.Integer(),
  }),
);
export type PruneResponse = Static<typeof PruneResponse>;

const tag = 'Backups';
export const backupEndpoints = {
  list: endpoint({ operationId: 'listBackups', method: 'get', path: '/backups', tag, summary: 'Restore points, newest first by default', permission: 'read', query: BackupListQuery, responses: { 200: BackupListResponse } }),
  create: endpoint({
    operationId: 'createBackup', method: 'post', path: '/backups', tag, summary: 'Back up one VM now, outside any flow', permission: 'operate', body: CreateBackupRequest, responses: { 202: BackupResponse },
    description:
      'Queues a backup of one VM into a repository and answers 202 with it (status `pending`); a backup worker takes it: `running`, then `success` or `failed`, with live `progress` and, at the end, per-disk results (GET /backups/{id}). ' +
      '`backup_type`: `auto` takes an incremental of each disk whenever that is safe; `full` reads every allocated area of every disk; `incremental` needs a previous restore point of the VM in that repository (422 NO_PREVIOUS_POINT otherwise), and a disk that cannot be incremental (change tracking reset, disk replaced or resized) is read in full with a warning in the job log. ' +
      'A VM is never backed up twice at once: while a flow execution or another backup of the VM is queued or running, the answer is 409 VM_BUSY naming it (nothing is queued); flow runs of the VM wait for this backup. ' +
      'Before writing, the worker checks the repository\'s free space against the worst case of the planned reads and fails early with REPOSITORY_FULL and the figures. A crashed worker\'s backup is taken again by another worker.',
  }),
  get: endpoint({ operationId: 'getBackup', method: 'get', path: '/backups/:id', tag, summary: 'One restore point with its progress and disks', permission: 'read', params: IdParams, responses: { 200: BackupResponse } }),
  logs: endpoint({ operationId: 'getBackupLogs', method: 'get', path: '/backups/:id/logs', tag, summary: "The job log of the backup (its flow's VM job, or the backup started through the API), oldest first (page with after_id)", permission: 'read', params: IdParams, query: JobLogQuery, responses: { 200: JobLogListResponse } }),
  remove: endpoint({
    operationId: 'deleteBackup', method: 'delete', path: '/backups/:id', tag, summary: 'Delete a restore point', permission: 'operate', params: IdParams, responses: { 204: null },
    description:
      'Removes the backup record and its restore point (the manifest). No other point depends on it; chunks only it referenced stay until the repository is pruned (after the next flow backup into it, or POST /repositories/{id}/prune). ' +
      'Refused with 409 BACKUP_IMMUTABLE (the lock date in `details`, field `locked_until`) while the point is locked by its immutable repository, 409 BACKUP_RUNNING while the backup is open and 409 BACKUP_IN_USE while a restore of it runs.',
  }),
  image: endpoint({
    operationId: 'getBackupDiskImage', method: 'get', path: '/backups/:id/disks/:key/image', tag, summary: 'Stream the raw image of one disk (HTTP Range supported)', permission: 'operate', params: DiskImageParams,
    produces: 'application/octet-stream',
    responses: { 200: null, 206: null, 416: ErrorResponse },
    description:
      'Operators and admins only: an image is the VM\'s data, so a viewer (who sees that the point exists) may not take it away. ' +
      'The disk exactly as it was at snapshot time, read straight from the repository (every chunk re-hashed; a damaged chunk cuts the stream short rather than send wrong bytes). ' +
      'One range per request (`bytes=a-b`, `bytes=a-`, `bytes=-n`; 206 with Content-Range), 416 for a range outside the disk; ETag and If-Range are supported. ' +
      'Example: `curl -fH "Authorization: Bearer $TOKEN" .../image -o disk.img && qemu-img convert -f raw -O qcow2 disk.img disk.qcow2`, or without a copy through nbdkit: `nbdkit -U - curl url=.../image header="Authorization: Bearer $TOKEN" --run \'qemu-img convert -O qcow2 $nbd disk.qcow2\'`.',
  }),
  verify: endpoint({
    operationId: 'verifyRepository', method: 'post', path: '/repositories/:id/verify', tag: 'Repositories', summary: 'Re-read and re-hash every chunk the restore points use; report damaged points', permission: 'operate', params: IntIdParams, responses: { 200: VerifyResponse },
    description: 'Synchronous: answers when every chunk is checked (each once, in pack order). Damaged points are named with their backup and, per disk, the damaged chunks. 409 REPOSITORY_BUSY while a prune holds the repository.',
  }),
  prune: endpoint({
    operationId: 'pruneRepository', method: 'post', path: '/repositories/:id/prune', tag: 'Repositories', summary: 'Free the space of chunks no restore point uses any more', permission: 'operate', params: IntIdParams, responses: { 200: PruneResponse },
    description:
      'Synchronous. Deleted restore points (by hand or by a flow\'s retention) leave their chunks behind until a prune; the backup worker prunes a repository by itself after a flow backup into it when points were deleted, and this runs it now (a repository no flow writes to, say). ' +
      'Packs without a live chunk are deleted, packs more than 20% unused are rewritten. 409 REPOSITORY_BUSY while a backup, restore or verify holds the repository.',
  }),
};
