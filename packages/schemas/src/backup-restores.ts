import { Type, type Static } from '@sinclair/typebox';
import { AbsolutePath } from './repositories.js';
import { Id, IdParams, Nullable, StringEnum, Timestamp, named } from './common.js';
import { endpoint } from './endpoint.js';
import { JobProgress } from './backups.js';

const NoControl = '[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
/** A datastore name as vSphere shows it: no brackets, slashes or control characters. */
const DatastoreName = Type.String({ minLength: 1, maxLength: 255, pattern: `^(?=.*\\S)${NoControl}\\[\\]/]+$`, description: 'datastore name, e.g. datastore1' });
/** A folder inside a datastore: relative, `/`-separated, without `.` or `..` segments. */
const DatastoreFolder = Type.String({
  minLength: 1,
  maxLength: 1024,
  pattern: `^(?!\\.{1,2}(/|$))${NoControl}\\[\\]/]+(/(?!\\.{1,2}(/|$))${NoControl}\\[\\]/]+)*$`,
  description: 'folder inside the datastore, e.g. restores/web01',
});
const DatacenterName = Type.String({ minLength: 1, maxLength: 255, pattern: `^(?=.*\\S)${NoControl}]+$` });

export const RestoreRequest = named(
  'RestoreRequest',
  Type.Object(
    {
      target: StringEnum(['file', 'datastore'] as const, { description: 'file: raw image files in a folder of the hub; datastore: raw image files uploaded to a vCenter datastore' }),
      disk_keys: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 2147483647 }), { minItems: 1, maxItems: 64, uniqueItems: true, description: 'disks to restore (device keys); default every disk of the point' })),
      overwrite: Type.Optional(Type.Boolean({ description: 'replace image files that exist already (default false: refused with 409)' })),
      path: Type.Optional(AbsolutePath),
      vcenter_id: Type.Optional(Id),
      datacenter: Type.Optional(DatacenterName),
      datastore: Type.Optional(DatastoreName),
      folder: Type.Optional(DatastoreFolder),
    },
    { additionalProperties: false },
  ),
);
export type RestoreRequest = Static<typeof RestoreRequest>;

export const RestoreResponse = named(
  'RestoreResponse',
  Type.Object({
    id: Type.String(),
    backup_id: Type.String(),
    target: Type.Object({
      type: StringEnum(['file', 'datastore'] as const),
      path: Type.Optional(Type.String()),
      vcenter_id: Type.Optional(Type.String()),
      datacenter: Type.Optional(Type.String()),
      datastore: Type.Optional(Type.String()),
      folder: Type.Optional(Type.String()),
    }),
    disk_keys: Type.Array(Type.Integer()),
    overwrite: Type.Boolean(),
    status: StringEnum(['pending', 'running', 'success', 'failed'] as const),
    progress: JobProgress,
    attempts: Type.Integer(),
    disks: Type.Array(Type.Object({ disk_key: Type.Integer(), location: Type.String({ description: 'file path, or datastore path [ds] folder/file' }), bytes: Type.Integer() }), { description: 'images written (one per disk), once the restore ends' }),
    error_message: Nullable(Type.String()),
    created_at: Timestamp,
    started_at: Nullable(Timestamp),
    completed_at: Nullable(Timestamp),
    created_by: Type.String(),
  }),
);
export type RestoreResponse = Static<typeof RestoreResponse>;
export const RestoreListResponse = named('RestoreListResponse', Type.Object({ restores: Type.Array(RestoreResponse), total: Type.Integer() }));

const RestoreParams = Type.Object({ id: Id, restoreId: Id }, { additionalProperties: false });

const tag = 'Backups';
export const restoreEndpoints = {
  create: endpoint({
    operationId: 'restoreBackup', method: 'post', path: '/backups/:id/restore', tag, summary: 'Restore disks of a restore point to image files or a datastore', permission: 'operate', params: IdParams, body: RestoreRequest, responses: { 202: RestoreResponse },
    description:
      'Queues a restore job and answers 202 with it; follow it with GET /backups/{id}/restores/{restoreId} (`progress`, then `disks`). Each disk becomes one raw image file named `<backup id>-disk-<key>.img`, bit-identical to the disk at snapshot time. ' +
      '`target: "file"` needs `path`, an existing, writable folder of the hub (not a system folder, not inside a repository); a file is written under a temporary name and renamed into place when complete. ' +
      '`target: "datastore"` needs `vcenter_id`, `datastore` and `folder` (and `datacenter` unless the VM\'s own applies); images are uploaded through the vCenter\'s /folder interface. ' +
      'Existing image files are never replaced unless `overwrite: true` (409 RESTORE_TARGET_EXISTS for files of the hub; a datastore file found by the worker fails the restore).',
  }),
  list: endpoint({ operationId: 'listBackupRestores', method: 'get', path: '/backups/:id/restores', tag, summary: 'Restores of a restore point, newest first', permission: 'read', params: IdParams, responses: { 200: RestoreListResponse } }),
  get: endpoint({ operationId: 'getBackupRestore', method: 'get', path: '/backups/:id/restores/:restoreId', tag, summary: 'One restore with its progress and images', permission: 'read', params: RestoreParams, responses: { 200: RestoreResponse } }),
};
