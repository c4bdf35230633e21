import { Type, type Static } from '@sinclair/typebox';
import { IdParams, Name, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\\[?[0-9A-Fa-f:.]+\\]?$', description: 'host name or IP address' });
const Thumbprint = Type.String({ pattern: '^([0-9A-Fa-f]{2}:){19}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$', description: 'SHA-1 or SHA-256 certificate fingerprint, colon separated' });

const fields = {
  name: Name,
  host: Host,
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'default 443' })),
  protocol: Type.Optional(StringEnum(['https', 'http'] as const, { description: "default https; http (no TLS: needs insecure: true) is for lab simulators only, never for a real vCenter" })),
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
    protocol: StringEnum(['https', 'http'] as const),
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

export const VcenterDiscoveryResponse = named(
  'VcenterDiscoveryResponse',
  Type.Object({
    vms_found: Type.Integer({ description: 'VMs the vCenter lists (templates are not inventoried)' }),
    vms_added: Type.Integer({ description: 'VMs new to the inventory' }),
    vms_updated: Type.Integer({ description: 'known VMs whose placement, hardware, CBT state or disks changed, or that were missing and are back' }),
    vms_missing: Type.Integer({ description: "the vCenter's VMs in the inventory that it no longer lists: marked missing, kept with their backups" }),
    disks: Type.Integer({ description: 'disks of the VMs found' }),
    duration_ms: Type.Integer(),
  }),
);
export type VcenterDiscoveryResponse = Static<typeof VcenterDiscoveryResponse>;

export const VcenterListQuery = listQuery(['name', 'created_at', 'host'] as const, { search: Type.Optional(Type.String({ maxLength: 255 })), enabled: Type.Optional(Type.Boolean()) });
export type VcenterListQuery = Static<typeof VcenterListQuery>;
export const VcenterListResponse = named('VcenterListResponse', Type.Object({ vcenters: Type.Array(VcenterResponse), total: Type.Integer() }));

const tag = 'vCenters';
export const vcenterEndpoints = {
  list: endpoint({ operationId: 'listVcenters', method: 'get', path: '/vcenters', tag, summary: 'List registered vCenters (passwords are never returned)', permission: 'read', query: VcenterListQuery, responses: { 200: VcenterListResponse } }),
  create: endpoint({
    operationId: 'createVcenter', method: 'post', path: '/vcenters', tag, summary: 'Register a vCenter after a live login check, then discover its VMs; its password is stored encrypted', permission: 'configure',
    description:
      'Logs in first (within about 10 s), trusting exactly the certificate of `tls_thumbprint` or, with `insecure: true`, any certificate. ' +
      'A failed check stores nothing and answers 422: VCENTER_LOGIN_FAILED (body.password: user name or password refused), ' +
      'VCENTER_UNREACHABLE (body.host: no answer, connection refused, unknown host, or not a vSphere SDK endpoint) or ' +
      'VCENTER_TLS_MISMATCH (body.tls_thumbprint: the certificate is not the pinned one; the message names the one presented). ' +
      'An enabled vCenter is then discovered at once (see POST /vcenters/{id}/discover); a discovery failure does not undo the registration and shows in last_error.',
    body: CreateVcenterRequest, responses: { 201: VcenterResponse },
  }),
  get: endpoint({ operationId: 'getVcenter', method: 'get', path: '/vcenters/:id', tag, summary: 'Get one vCenter', permission: 'read', params: IdParams, responses: { 200: VcenterResponse } }),
  update: endpoint({
    operationId: 'updateVcenter', method: 'put', path: '/vcenters/:id', tag, summary: 'Update a vCenter', permission: 'configure',
    description: 'A change of host, port, protocol, username, password, tls_thumbprint or insecure is checked with a live login first, with the 422 answers of POST /vcenters; nothing is stored when it fails.',
    params: IdParams, body: UpdateVcenterRequest, responses: { 200: VcenterResponse },
  }),
  discover: endpoint({
    operationId: 'discoverVcenter', method: 'post', path: '/vcenters/:id/discover', tag, summary: "Discover a vCenter's VMs and disks now", permission: 'configure',
    description:
      'Reads every VM (placement, power state, guest OS, CPUs, memory, CBT state, disks) into the inventory in one transaction. ' +
      'A VM the vCenter no longer lists is marked missing, never deleted, and is present again if it comes back. ' +
      'The hub also discovers every enabled vCenter every 15 minutes. 409 DISCOVERY_IN_PROGRESS while another discovery of it runs, ' +
      '409 VCENTER_DISABLED for a disabled vCenter; a vCenter that cannot be reached or refuses the login answers 422 ' +
      '(VCENTER_UNREACHABLE, VCENTER_LOGIN_FAILED, VCENTER_TLS_MISMATCH, or VCENTER_DISCOVERY_FAILED when the inventory cannot be read) and the error is kept in last_error.',
    params: IdParams, responses: { 200: VcenterDiscoveryResponse },
  }),
  remove: endpoint({ operationId: 'deleteVcenter', method: 'delete', path: '/vcenters/:id', tag, summary: 'Remove a vCenter; its VMs stay in the inventory with their backups', permission: 'configure', params: IdParams, responses: { 204: null } }),
};
