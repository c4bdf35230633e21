import { Type, type Static } from '@sinclair/typebox';
import { REPOSITORY_TYPES } from '@vaultflow/domain';
import { Description, IntIdParams, Name, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const RepositoryType = StringEnum(REPOSITORY_TYPES);
/** An absolute, normalised path: no `.`/`..` segments, no doubled slashes, no control characters. */
export const AbsolutePath = Type.String({
  minLength: 2,
  maxLength: 1024,
  pattern: '^(/(?!\\.{1,2}(/|$))[^/\\x00-\\x1f\\x7f]+)+/?$',
  description: 'absolute path on the hub (for nfs/cifs: the mount point the host has mounted)',
});

export const RepositoryConfig = Type.Object(
  {
    path: AbsolutePath,
    server: Type.Optional(Type.String({ maxLength: 255 })),
    export: Type.Optional(Type.String({ maxLength: 1024 })),
    share: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

const Immutable = Type.Object(
  { enabled: Type.Boolean(), retention_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500 })) },
  { additionalProperties: false },
);

const fields = {
  name: Name,
  description: Type.Optional(Nullable(Description)),
  repository_type: RepositoryType,
  config: RepositoryConfig,
  enabled: Type.Optional(Type.Boolean()),
  immutable: Type.Optional(Immutable),
};

export const CreateRepositoryRequest = named('CreateRepositoryRequest', Type.Object(fields, { additionalProperties: false }));
export type CreateRepositoryRequest = Static<typeof CreateRepositoryRequest>;
export const UpdateRepositoryRequest = named(
  'UpdateRepositoryRequest',
  Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 }),
);
export type UpdateRepositoryRequest = Static<typeof UpdateRepositoryRequest>;

const Capacity = Type.Object({
  total_bytes: Nullable(Type.Integer()),
  used_bytes: Nullable(Type.Integer()),
  available_bytes: Nullable(Type.Integer()),
  checked_at: Nullable(Timestamp),
});

export const RepositoryResponse = named(
  'RepositoryResponse',
  Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    description: Nullable(Type.String()),
    repository_type: RepositoryType,
    config: RepositoryConfig,
    enabled: Type.Boolean(),
    immutable: Type.Object({ enabled: Type.Boolean(), retention_days: Nullable(Type.Integer()) }),
    capacity: Capacity,
    flow_count: Type.Integer(),
    backup_count: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
    created_by: Type.String(),
  }),
);
export type RepositoryResponse = Static<typeof RepositoryResponse>;

export const RepositoryListQuery = listQuery(['name', 'created_at', 'repository_type'] as const, {
  repository_type: Type.Optional(RepositoryType),
  enabled: Type.Optional(Type.Boolean()),
  search: Type.Optional(Type.String({ maxLength: 255 })),
});
export type RepositoryListQuery = Static<typeof RepositoryListQuery>;
export const RepositoryListResponse = named('RepositoryListResponse', Type.Object({ repositories: Type.Array(RepositoryResponse), total: Type.Integer() }));

export const RepositoryStorageResponse = named(
  'RepositoryStorageResponse',
  Type.Object({
    repository_id: Type.Integer(),
    path: Type.String(),
    total_bytes: Type.Integer(),
    used_bytes: Type.Integer(),
    available_bytes: Type.Integer(),
    used_percent: Type.Number(),
    checked_at: Timestamp,
  }),
);
export type RepositoryStorageResponse = Static<typeof RepositoryStorageResponse>;

const tag = 'Repositories';
export const repositoryEndpoints = {
  list: endpoint({ operationId: 'listRepositories', method: 'get', path: '/repositories', tag, summary: 'List backup repositories', permission: 'read', query: RepositoryListQuery, responses: { 200: RepositoryListResponse } }),
  create: endpoint({ operationId: 'createRepository', method: 'post', path: '/repositories', tag, summary: 'Create a backup repository (the path is created or must be mounted, and must be writable)', permission: 'configure', body: CreateRepositoryRequest, responses: { 201: RepositoryResponse } }),
  get: endpoint({ operationId: 'getRepository', method: 'get', path: '/repositories/:id', tag, summary: 'Get one repository', permission: 'read', params: IntIdParams, responses: { 200: RepositoryResponse } }),
  update: endpoint({ operationId: 'updateRepository', method: 'put', path: '/repositories/:id', tag, summary: 'Update a repository', permission: 'configure', params: IntIdParams, body: UpdateRepositoryRequest, responses: { 200: RepositoryResponse } }),
  remove: endpoint({ operationId: 'deleteRepository', method: 'delete', path: '/repositories/:id', tag, summary: 'Delete a repository record (refused while flows, policies or backups use it; stored data is left on disk)', permission: 'configure', params: IntIdParams, responses: { 204: null } }),
  storage: endpoint({ operationId: 'getRepositoryStorage', method: 'get', path: '/repositories/:id/storage', tag, summary: 'Capacity read from the file system now', permission: 'read', params: IntIdParams, responses: { 200: RepositoryStorageResponse } }),
};
