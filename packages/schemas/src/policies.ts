import { Type, type Static } from '@sinclair/typebox';
import { Description, IntId, IntIdParams, Name, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const Keep = Type.Integer({ minimum: 1, maximum: 100000 });
export const Retention = Type.Object(
  {
    keep_last: Type.Optional(Nullable(Keep)),
    keep_daily: Type.Optional(Nullable(Keep)),
    keep_weekly: Type.Optional(Nullable(Keep)),
    keep_monthly: Type.Optional(Nullable(Keep)),
    keep_yearly: Type.Optional(Nullable(Keep)),
  },
  { additionalProperties: false },
);

const CopyMode = StringEnum(['immediate', 'scheduled'] as const, { description: 'immediate: right after each backup of the flow; scheduled: by the backup workers\' hourly copy pass' });
export const CopyRuleInput = Type.Object(
  {
    destination_repository_id: IntId,
    copy_mode: Type.Optional(CopyMode),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    verify_after_copy: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const fields = {
  name: Name,
  description: Type.Optional(Nullable(Description)),
  retention: Retention,
  copy_rules: Type.Optional(Type.Array(CopyRuleInput, { maxItems: 16 })),
};

export const CreatePolicyRequest = named('CreatePolicyRequest', Type.Object(fields, { additionalProperties: false }));
export type CreatePolicyRequest = Static<typeof CreatePolicyRequest>;
export const UpdatePolicyRequest = named('UpdatePolicyRequest', Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 }));
export type UpdatePolicyRequest = Static<typeof UpdatePolicyRequest>;

export const PolicyResponse = named(
  'PolicyResponse',
  Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    description: Nullable(Type.String()),
    retention: Type.Object({
      keep_last: Nullable(Type.Integer()),
      keep_daily: Nullable(Type.Integer()),
      keep_weekly: Nullable(Type.Integer()),
      keep_monthly: Nullable(Type.Integer()),
      keep_yearly: Nullable(Type.Integer()),
    }),
    copy_rules: Type.Array(
      Type.Object({
        id: Type.Integer(),
        destination_repository_id: Type.Integer(),
        destination_repository_name: Nullable(Type.String()),
        copy_mode: CopyMode,
        priority: Type.Integer(),
        verify_after_copy: Type.Boolean(),
        enabled: Type.Boolean(),
      }),
    ),
    flow_count: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
    created_by: Type.String(),
  }),
);
export type PolicyResponse = Static<typeof PolicyResponse>;

export const PolicyListQuery = listQuery(['name', 'created_at'] as const, { search: Type.Optional(Type.String({ maxLength: 255 })) });
export type PolicyListQuery = Static<typeof PolicyListQuery>;
export const PolicyListResponse = named('PolicyListResponse', Type.Object({ policies: Type.Array(PolicyResponse), total: Type.Integer() }));

const tag = 'Policies';
export const policyEndpoints = {
  list: endpoint({ operationId: 'listPolicies', method: 'get', path: '/policies', tag, summary: 'List backup policies', permission: 'read', query: PolicyListQuery, responses: { 200: PolicyListResponse } }),
  create: endpoint({ operationId: 'createPolicy', method: 'post', path: '/policies', tag, summary: 'Create a retention policy with optional copy rules', permission: 'configure', body: CreatePolicyRequest, responses: { 201: PolicyResponse } }),
  get: endpoint({ operationId: 'getPolicy', method: 'get', path: '/policies/:id', tag, summary: 'Get one policy', permission: 'read', params: IntIdParams, responses: { 200: PolicyResponse } }),
  update: endpoint({ operationId: 'updatePolicy', method: 'put', path: '/policies/:id', tag, summary: 'Update a policy; copy_rules, when given, replace the existing ones', permission: 'configure', params: IntIdParams, body: UpdatePolicyRequest, responses: { 200: PolicyResponse } }),
  remove: endpoint({ operationId: 'deletePolicy', method: 'delete', path: '/policies/:id', tag, summary: 'Delete a policy (flows using it keep running without one)', permission: 'configure', params: IntIdParams, responses: { 204: null } }),
};
