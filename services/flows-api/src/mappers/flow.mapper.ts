import type { ExecutionRecord, FlowRecord, JobLogRecord, VmRunRecord } from '@vaultflow/db';
import type { ExecutionDetailResponse, ExecutionResponse, FlowResponse, FlowStatus } from '@vaultflow/schemas';
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
    destination_config: f.destination_config as FlowResponse['destination_config'],
    schedule_id: f.schedule_id,
    schedule_name: f.schedule_name,
    schedule_cron: f.schedule_cron,
    schedule_timezone: f.schedule_timezone,
    enabled: f.enabled,
    vm_start_window_minutes: f.vm_start_window_minutes,
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

const pct = (done: number, total: number) => (total > 0 ? Math.round((Math.min(done, total) / total) * 1000) / 10 : null);

export function toExecutionDetail(e: ExecutionRecord & { cancel_requested_at?: Date | null }, vms: VmRunRecord[]): ExecutionDetailResponse {
  const rows = vms.map((r) => {
    const final = ['success', 'failed', 'skipped', 'cancelled'].includes(r.status);
    const total = r.bytes_total;
    const done = r.status === 'success' ? total : r.bytes_done;
    return {
      vm_context_id: r.vm_context_id,
      vm_name: r.vm_name,
      group_id: r.group_id,
      status: r.status,
      attempts: r.attempts,
      phase: final ? r.status : r.phase,
      bytes_done: done,
      bytes_total: total,
      percent: r.status === 'success' ? 100 : pct(done, total),
      bytes_transferred: r.bytes_transferred,
      backup_job_id: r.backup_job_id,
      error_message: r.error_message,
      queued_at: iso(r.queued_at),
      started_at: iso(r.started_at),
      completed_at: iso(r.completed_at),
      progress_at: iso(r.progress_at),
    };
  });
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
  const bytesDone = sum((r) => r.bytes_done);
  const bytesTotal = sum((r) => r.bytes_total);
  const doneCount = rows.filter((r) => ['success', 'failed', 'skipped', 'cancelled'].includes(r.status)).length;
  return {
    ...toExecutionResponse(e),
    cancel_requested_at: iso(e.cancel_requested_at ?? null),
    progress: {
      vms_total: rows.length,
      vms_done: doneCount,
      vms_running: rows.filter((r) => r.status === 'running').length,
      vms_waiting: rows.filter((r) => r.status === 'waiting' || r.status === 'queued').length,
      bytes_done: bytesDone,
      bytes_total: bytesTotal,
      percent: rows.length === 0 ? null : bytesTotal > 0 ? pct(bytesDone, bytesTotal) : pct(doneCount, rows.length),
    },
    vms: rows,
  };
}

export function toJobLog(l: JobLogRecord) {
  return { id: l.id, at: isoNN(l.at), level: l.level, step: l.step, message: l.message, job_id: l.job_id ?? null, context: l.context ?? null };
}
