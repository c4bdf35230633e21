import { Type, type Static } from '@sinclair/typebox';
import { DESTINATION_TYPES, EXECUTION_STATUSES, EXECUTION_TYPES, FLOW_LAST_STATUSES, FLOW_TYPES, TARGET_TYPES } from '@vaultflow/domain';
import { Description, Id, IdParams, IntId, Name, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';
import { JSON_LIMITS_KEYWORD, type JsonLimits } from './json-limits.js';

const FlowType = StringEnum(FLOW_TYPES);
const TargetType = StringEnum(TARGET_TYPES);
const DestinationType = StringEnum(DESTINATION_TYPES);
/** Free-form settings of a replication target, bounded as a whole (see JsonLimits). */
const DestinationConfig = Type.Record(
  Type.String({ maxLength: 128 }),
  Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean(), Type.Null(), Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown())]),
  {
    maxProperties: 64,
    propertyNames: { maxLength: 128 },
    [JSON_LIMITS_KEYWORD]: { maxDepth: 8, maxBytes: 16 * 1024, maxStringLength: 4096 } satisfies JsonLimits,
    description: 'settings of the replication target: at most 64 keys of up to 128 characters; values are strings (up to 4096 characters), numbers, booleans, null, or objects and arrays; at most 8 levels deep and 16 KiB as JSON',
  },
);

const flowFields = {
  name: Name,
  description: Type.Optional(Nullable(Description)),
  flow_type: FlowType,
  target_type: TargetType,
  target_id: Id,
  repository_id: Type.Optional(Nullable(IntId)),
  policy_id: Type.Optional(Nullable(IntId)),
  destination_type: Type.Optional(Nullable(DestinationType)),
  destination_config: Type.Optional(Nullable(DestinationConfig)),
  schedule_id: Type.Optional(Nullable(Id)),
  enabled: Type.Optional(Type.Boolean()),
  vm_start_window_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 10080, description: 'a VM that cannot start within this many minutes (busy elsewhere, group full) is skipped; default 240' })),
};

export const CreateFlowRequest = named('CreateFlowRequest', Type.Object(flowFields, { additionalProperties: false }));
export type CreateFlowRequest = Static<typeof CreateFlowRequest>;

export const UpdateFlowRequest = named(
  'UpdateFlowRequest',
  Type.Partial(Type.Object(flowFields), { additionalProperties: false, minProperties: 1 }),
);
export type UpdateFlowRequest = Static<typeof UpdateFlowRequest>;

export const FlowStatus = named(
  'FlowStatus',
  Type.Object({
    last_execution_id: Nullable(Type.String()),
    last_execution_status: StringEnum(FLOW_LAST_STATUSES),
    last_execution_time: Nullable(Timestamp),
    next_execution_time: Nullable(Timestamp),
    total_executions: Type.Integer(),
    successful_executions: Type.Integer(),
    failed_executions: Type.Integer(),
  }),
);
export type FlowStatus = Static<typeof FlowStatus>;

export const FlowResponse = named(
  'FlowResponse',
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    flow_type: FlowType,
    target_type: TargetType,
    target_id: Type.String(),
    target_name: Nullable(Type.String()),
    repository_id: Nullable(Type.Integer()),
    repository_name: Nullable(Type.String()),
    policy_id: Nullable(Type.Integer()),
    policy_name: Nullable(Type.String()),
    destination_type: Nullable(DestinationType),
    destination_config: Nullable(DestinationConfig),
    schedule_id: Nullable(Type.String()),
    schedule_name: Nullable(Type.String()),
    schedule_cron: Nullable(Type.String()),
    schedule_timezone: Nullable(Type.String()),
    enabled: Type.Boolean(),
    vm_start_window_minutes: Type.Integer(),
    status: FlowStatus,
    created_at: Timestamp,
    updated_at: Timestamp,
    created_by: Type.String(),
  }),
);
export type FlowResponse = Static<typeof FlowResponse>;

export const FlowListQuery = listQuery(['name', 'created_at', 'updated_at', 'last_execution_time', 'next_execution_time', 'flow_type'] as const, {
  flow_type: Type.Optional(FlowType),
  target_type: Type.Optional(TargetType),
  target_id: Type.Optional(Id),
  enabled: Type.Optional(Type.Boolean()),
  last_status: Type.Optional(StringEnum(FLOW_LAST_STATUSES)),
  schedule_id: Type.Optional(Id),
  repository_id: Type.Optional(IntId),
  search: Type.Optional(Type.String({ maxLength: 255 })),
});
export type FlowListQuery = Static<typeof FlowListQuery>;

export const FlowListResponse = named('FlowListResponse', Type.Object({ flows: Type.Array(FlowResponse), total: Type.Integer() }));
export type FlowListResponse = Static<typeof FlowListResponse>;

export const ExecutionResponse = named(
  'ExecutionResponse',
  Type.Object({
    id: Type.String(),
    flow_id: Type.String(),
    flow_name: Type.String(),
    status: StringEnum(EXECUTION_STATUSES),
    execution_type: StringEnum(EXECUTION_TYPES),
    started_at: Nullable(Timestamp),
    completed_at: Nullable(Timestamp),
    execution_time_seconds: Nullable(Type.Integer()),
    jobs_created: Type.Integer(),
    jobs_completed: Type.Integer(),
    jobs_failed: Type.Integer(),
    jobs_skipped: Type.Integer(),
    vms_processed: Type.Integer(),
    bytes_transferred: Type.Integer(),
    error_message: Nullable(Type.String()),
    execution_metadata: Nullable(Type.Unknown()),
    created_job_ids: Type.Array(Type.String()),
    schedule_execution_id: Nullable(Type.String()),
    scheduled_for: Nullable(Timestamp),
    triggered_by: Type.String(),
    created_at: Timestamp,
  }),
);
export type ExecutionResponse = Static<typeof ExecutionResponse>;

export const VmRunResponse = named(
  'VmRunResponse',
  Type.Object({
    vm_context_id: Type.String(),
    vm_name: Type.String(),
    group_id: Nullable(Type.String()),
    status: StringEnum(['waiting', 'queued', 'running', 'success', 'failed', 'skipped', 'cancelled'] as const),
    attempts: Type.Integer(),
    phase: Nullable(Type.String()),
    bytes_done: Type.Integer(),
    bytes_total: Type.Integer(),
    percent: Nullable(Type.Number()),
    bytes_transferred: Type.Integer(),
    backup_job_id: Nullable(Type.String()),
    error_message: Nullable(Type.String()),
    queued_at: Nullable(Timestamp),
    started_at: Nullable(Timestamp),
    completed_at: Nullable(Timestamp),
    progress_at: Nullable(Timestamp),
  }),
);

export const ExecutionDetailResponse = named(
  'ExecutionDetailResponse',
  Type.Composite([
    ExecutionResponse,
    Type.Object({
      cancel_requested_at: Nullable(Timestamp),
      progress: Type.Object({
        vms_total: Type.Integer(),
        vms_done: Type.Integer(),
        vms_running: Type.Integer(),
        vms_waiting: Type.Integer(),
        bytes_done: Type.Integer(),
        bytes_total: Type.Integer(),
        percent: Nullable(Type.Number()),
      }),
      vms: Type.Array(VmRunResponse),
    }),
  ]),
);
export type ExecutionDetailResponse = Static<typeof ExecutionDetailResponse>;

export const JobLogQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
    after_id: Type.Optional(Type.Integer({ minimum: 0 })),
    level: Type.Optional(StringEnum(['debug', 'info', 'warn', 'error'] as const)),
  },
  { additionalProperties: false },
);
export const JobLogListResponse = named(
  'JobLogListResponse',
  Type.Object({
    logs: Type.Array(
      Type.Object({
        id: Type.Integer(),
        at: Timestamp,
        level: StringEnum(['debug', 'info', 'warn', 'error'] as const),
        step: Type.String(),
        message: Type.String(),
        job_id: Nullable(Type.String()),
        context: Nullable(Type.Record(Type.String(), Type.Unknown())),
      }),
    ),
  }),
);

export const ExecutionListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
    offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
    status: Type.Optional(StringEnum(EXECUTION_STATUSES)),
  },
  { additionalProperties: false },
);
export type ExecutionListQuery = Static<typeof ExecutionListQuery>;

export const ExecutionListResponse = named(
  'ExecutionListResponse',
  Type.Object({ executions: Type.Array(ExecutionResponse), total: Type.Integer() }),
);

export const FlowCheck = Type.Object({
  name: Type.String(),
  ok: Type.Boolean(),
  severity: StringEnum(['error', 'warning', 'info'] as const),
  message: Type.String(),
});

export const TestFlowResponse = named(
  'TestFlowResponse',
  Type.Object({
    valid: Type.Boolean(),
    errors: Type.Array(Type.String()),
    warnings: Type.Array(Type.String()),
    checks: Type.Array(FlowCheck),
    next_fire_times: Type.Array(Timestamp),
  }),
);
export type TestFlowResponse = Static<typeof TestFlowResponse>;

export const BulkFlowRequest = named(
  'BulkFlowRequest',
  Type.Object(
    { flow_ids: Type.Array(Id, { minItems: 1, maxItems: 500, uniqueItems: true }) },
    { additionalProperties: false },
  ),
);
export type BulkFlowRequest = Static<typeof BulkFlowRequest>;

export const BulkFlowResponse = named(
  'BulkFlowResponse',
  Type.Object({ affected: Type.Integer(), flow_ids: Type.Array(Type.String()) }),
);
export type BulkFlowResponse = Static<typeof BulkFlowResponse>;

export const FlowSummaryQuery = Type.Object(
  { timezone: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

export const FlowSummary = named(
  'FlowSummary',
  Type.Object({
    total_flows: Type.Integer(),
    enabled_flows: Type.Integer(),
    disabled_flows: Type.Integer(),
    backup_flows: Type.Integer(),
    replication_flows: Type.Integer(),
    total_executions_today: Type.Integer(),
    successful_executions_today: Type.Integer(),
    failed_executions_today: Type.Integer(),
    running_executions: Type.Integer(),
    flows_last_failed: Type.Integer(),
    bytes_transferred_today: Type.Integer(),
    day_start: Timestamp,
  }),
);
export type FlowSummary = Static<typeof FlowSummary>;

const FlowExecutionParams = Type.Object({ id: Id, execId: Id }, { additionalProperties: false });

const tag = 'Protection flows';

export const flowEndpoints = {
  list: endpoint({ operationId: 'listFlows', method: 'get', path: '/protection-flows', tag, summary: 'List protection flows with filters, sorting and paging', permission: 'read', query: FlowListQuery, responses: { 200: FlowListResponse } }),
  summary: endpoint({ operationId: 'getFlowSummary', method: 'get', path: '/protection-flows/summary', tag, summary: 'Aggregated statistics of all flows (today = since midnight in `timezone`, default UTC)', permission: 'read', query: FlowSummaryQuery, responses: { 200: FlowSummary } }),
  create: endpoint({ operationId: 'createFlow', method: 'post', path: '/protection-flows', tag, summary: 'Create a protection flow', permission: 'configure', body: CreateFlowRequest, responses: { 201: FlowResponse } }),
  bulkEnable: endpoint({ operationId: 'bulkEnableFlows', method: 'post', path: '/protection-flows/bulk-enable', tag, summary: 'Enable several flows (all or nothing)', permission: 'operate', body: BulkFlowRequest, responses: { 200: BulkFlowResponse } }),
  bulkDisable: endpoint({ operationId: 'bulkDisableFlows', method: 'post', path: '/protection-flows/bulk-disable', tag, summary: 'Disable several flows (all or nothing)', permission: 'operate', body: BulkFlowRequest, responses: { 200: BulkFlowResponse } }),
  bulkDelete: endpoint({ operationId: 'bulkDeleteFlows', method: 'post', path: '/protection-flows/bulk-delete', tag, summary: 'Delete several flows and their execution history (all or nothing)', permission: 'configure', body: BulkFlowRequest, responses: { 200: BulkFlowResponse } }),
  get: endpoint({ operationId: 'getFlow', method: 'get', path: '/protection-flows/:id', tag, summary: 'Get one flow', permission: 'read', params: IdParams, responses: { 200: FlowResponse } }),
  update: endpoint({ operationId: 'updateFlow', method: 'put', path: '/protection-flows/:id', tag, summary: 'Update a flow; fields left out keep their value', permission: 'configure', params: IdParams, body: UpdateFlowRequest, responses: { 200: FlowResponse } }),
  remove: endpoint({ operationId: 'deleteFlow', method: 'delete', path: '/protection-flows/:id', tag, summary: 'Delete a flow and its execution history', permission: 'configure', params: IdParams, responses: { 204: null } }),
  enable: endpoint({ operationId: 'enableFlow', method: 'patch', path: '/protection-flows/:id/enable', tag, summary: 'Enable a flow', permission: 'operate', params: IdParams, responses: { 200: FlowResponse } }),
  disable: endpoint({ operationId: 'disableFlow', method: 'patch', path: '/protection-flows/:id/disable', tag, summary: 'Disable a flow (its configuration is kept)', permission: 'operate', params: IdParams, responses: { 200: FlowResponse } }),
  execute: endpoint({ operationId: 'executeFlow', method: 'post', path: '/protection-flows/:id/execute', tag, summary: 'Run a flow now: creates a pending execution and queues it on flow-runs', permission: 'operate', params: IdParams, responses: { 202: ExecutionResponse } }),
  executions: endpoint({ operationId: 'listFlowExecutions', method: 'get', path: '/protection-flows/:id/executions', tag, summary: 'Execution history of a flow, newest first', permission: 'read', params: IdParams, query: ExecutionListQuery, responses: { 200: ExecutionListResponse } }),
  execution: endpoint({ operationId: 'getFlowExecution', method: 'get', path: '/protection-flows/:id/executions/:execId', tag, summary: 'One execution with live progress and its per-VM rows', permission: 'read', params: FlowExecutionParams, responses: { 200: ExecutionDetailResponse } }),
  cancel: endpoint({ operationId: 'cancelFlowExecution', method: 'post', path: '/protection-flows/:id/executions/:execId/cancel', tag, summary: 'Cancel an execution: no more VMs start, queued ones are withdrawn, running ones stop within seconds', permission: 'operate', params: FlowExecutionParams, responses: { 202: ExecutionDetailResponse } }),
  logs: endpoint({ operationId: 'getFlowExecutionLogs', method: 'get', path: '/protection-flows/:id/executions/:execId/logs', tag, summary: 'The job log of an execution and its VM jobs, oldest first (page with after_id)', permission: 'read', params: FlowExecutionParams, query: JobLogQuery, responses: { 200: JobLogListResponse } }),
  status: endpoint({ operationId: 'getFlowStatus', method: 'get', path: '/protection-flows/:id/status', tag, summary: 'Current status and next run of a flow', permission: 'read', params: IdParams, responses: { 200: FlowStatus } }),
  test: endpoint({ operationId: 'testFlow', method: 'post', path: '/protection-flows/:id/test', tag, summary: 'Dry run: check every reference of the flow without changing anything', permission: 'read', params: IdParams, responses: { 200: TestFlowResponse } }),
};
