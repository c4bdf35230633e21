import type { ExecutionRecord, FlowRecord } from '@vaultflow/db';
import type { ExecutionResponse, FlowResponse, FlowStatus } from '@vaultflow/schemas';
import { iso, isoNN } from './time.js';

export function toFlowStatus(f: FlowRecord): FlowStatus {
  return {
    last_execution_id: f.last_execution_id,
    last_execution_status: f.last_execution_status,
    last_execution_time: iso(f.last_execution_time),
    next_execution_time: iso(f.next_execution_time),
    total_executions: f.total_executions,
    successful_executions: f.successful_executions,
    failed_executions: f.failed_executions,
  };
}

export function toFlowResponse(f: FlowRecord): FlowResponse {
  return {
    id: f.id,
    name: f.name,
    description: f.description,
    flow_type: f.flow_type,
    target_type: f.target_type,
    target_id: f.target_id,
    target_name: f.target_name,
    repository_id: f.repository_id,
    repository_name: f.repository_name,
    policy_id: f.policy_id,
    policy_name: f.policy_name,
    destination_type: f.destination_type,
    destination_config: f.destination_config,
    schedule_id: f.schedule_id,
    schedule_name: f.schedule_name,
    schedule_cron: f.schedule_cron,
    schedule_timezone: f.schedule_timezone,
    enabled: f.enabled,
    status: toFlowStatus(f),
    created_at: isoNN(f.created_at),
    updated_at: isoNN(f.updated_at),
    created_by: f.created_by,
  };
}

export function toExecutionResponse(e: ExecutionRecord): ExecutionResponse {
  return {
    id: e.id,
    flow_id: e.flow_id,
    flow_name: e.flow_name,
    status: e.status,
    execution_type: e.execution_type,
    started_at: iso(e.started_at),
    completed_at: iso(e.completed_at),
    execution_time_seconds: e.execution_time_seconds,
    jobs_created: e.jobs_created,
    jobs_completed: e.jobs_completed,
    jobs_failed: e.jobs_failed,
    jobs_skipped: e.jobs_skipped,
    vms_processed: e.vms_processed,
    bytes_transferred: e.bytes_transferred,
    error_message: e.error_message,
    execution_metadata: e.execution_metadata ?? null,
    created_job_ids: e.created_job_ids,
    schedule_execution_id: e.schedule_execution_id,
    scheduled_for: iso(e.scheduled_for),
    triggered_by: e.triggered_by,
    created_at: isoNN(e.created_at),
  };
}
