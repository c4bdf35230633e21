import { Type, type Static } from '@sinclair/typebox';
import { IdParams, Name, Nullable, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\\[?[0-9A-Fa-f:.]+\\]?$', description: 'host name or IP address' });
const Thumbprint = Type.String({ pattern: '^([0-9A-Fa-f]{2}:){19}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$', description: 'SHA-1 or SHA-256 certificate fingerprint, colon separated' });

const fields = {
  name: Name,
  host: Host,
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  username: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  tls_thumbprint: Type.Optional(Nullable(Thumbprint)),
  insecure: Type.Optional(Type.Boolean({ description: 'skip TLS verification (lab use only)' })),
  enabled: Type.Optional(Type.Boolean()),
};

export const CreateVcenterRequest = named('CreateVcenterRequest', Type.Object(fields, { additionalProperties: false }));
export type CreateVcenterRequest = Static<typeof CreateVcenterRequest>;
export const UpdateVcenterRequest = named('UpdateVcenterRequest', Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 }));
export type UpdateVcenterRequest = Static<typeof UpdateVcenterRequest>;

export const VcenterResponse = named(
  'VcenterResponse',
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    host: Type.String(),
    port: Type.Integer(),
    username: Type.String(),
    tls_thumbprint: Nullable(Type.String()),
    insecure: Type.Boolean(),
    enabled: Type.Boolean(),
    has_password: Type.Boolean(),
    vm_count: Type.Integer(),
    last_discovery_at: Nullable(Timestamp),
    last_error: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
    created_by: Type.String(),
  }),
);
export type VcenterResponse = Static<typeof VcenterResponse>;

export const VcenterListQuery = listQuery(['name', 'created_at', 'host'] as const, { search: Type.Optional(Type.String({ maxLength: 255 })), enabled: Type.Optional(Type.Boolean()) });
export type VcenterListQuery = Static<typeof VcenterListQuery>;
export const VcenterListResponse = named('VcenterListResponse', Type.Object({ vcenters: Type.Array(VcenterResponse), total: Type.Integer() }));

const tag = 'vCenters';
export const vcenterEndpoints = {
  list: endpoint({ operationId: 'listVcenters', method: 'get', path: '/vcenters', tag, summary: 'List registered vCenters (passwords are never returned)', permission: 'read', query: VcenterListQuery, responses: { 200: VcenterListResponse } }),
  create: endpoint({ operationId: 'createVcenter', method: 'post', path: '/vcenters', tag, summary: 'Register a vCenter; its password is stored encrypted', permission: 'configure', body: CreateVcenterRequest, responses: { 201: VcenterResponse } }),
  get: endpoint({ operationId: 'getVcenter', method: 'get', path: '/vcenters/:id', tag, summary: 'Get one vCenter', permission: 'read', params: IdParams, responses: { 200: VcenterResponse } }),
  update: endpoint({ operationId: 'updateVcenter', method: 'put', path: '/vcenters/:id', tag, summary: 'Update a vCenter', permission: 'configure', params: IdParams, body: UpdateVcenterRequest, responses: { 200: VcenterResponse } }),
  remove: endpoint({ operationId: 'deleteVcenter', method: 'delete', path: '/vcenters/:id', tag, summary: 'Remove a vCenter; its VMs stay in the inventory with their backups', permission: 'configure', params: IdParams, responses: { 204: null } }),
};
