import { Type, type Static } from '@sinclair/typebox';
import { EXECUTION_STATUSES } from '@vaultflow/domain';
import { Id, StringEnum, listQuery, named } from './common.js';
import { ExecutionResponse } from './flows.js';
import { endpoint } from './endpoint.js';

/** One execution in the list across flows: its outcome and counters, without metadata or job ids. */
export const RecentExecution = named(
  'RecentExecution',
  Type.Pick(ExecutionResponse, [
    'id', 'flow_id', 'flow_name', 'status', 'execution_type', 'started_at', 'completed_at', 'created_at',
    'vms_processed', 'jobs_created', 'jobs_completed', 'jobs_failed', 'jobs_skipped', 'bytes_transferred',
  ]),
);
export type RecentExecution = Static<typeof RecentExecution>;

/** Sorted by when the execution started (its creation while it has not started); newest first unless `order=asc`. */
export const RecentExecutionListQuery = listQuery(['started_at'] as const, {
  since: Type.Optional(Type.String({ format: 'date-time', description: 'only executions that started (or were created) at or after this instant' })),
  status: Type.Optional(StringEnum(EXECUTION_STATUSES)),
  flow_id: Type.Optional(Id),
});
export type RecentExecutionListQuery = Static<typeof RecentExecutionListQuery>;

export const RecentExecutionListResponse = named(
  'RecentExecutionListResponse',
  Type.Object({ executions: Type.Array(RecentExecution), total: Type.Integer() }),
);
export type RecentExecutionListResponse = Static<typeof RecentExecutionListResponse>;

const tag = 'Executions';
export const executionEndpoints = {
  list: endpoint({ operationId: 'listExecutions', method: 'get', path: '/executions', tag, summary: 'Executions of every flow, newest first (filter by since, status, flow_id)', permission: 'read', query: RecentExecutionListQuery, responses: { 200: RecentExecutionListResponse } }),
};
