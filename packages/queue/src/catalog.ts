/**
 * The one catalog of queues and jobs. Every producer and consumer takes names, payload shapes and
 * retry policy from here; a service that consumes a queue must register a handler for each of its
 * jobs (checked at start-up by assertHandlers).
 */

export const QUEUES = {
  flowRuns: 'flow-runs',
  vmBackups: 'vm-backups',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** `flow.run`: run one execution of a flow (manual/API: the execution row exists already). */
export interface FlowRunPayload {
  flow_id: string;
  /** Set for manual and API runs; scheduled fires carry scheduled_for instead and create the row. */
  execution_id?: string;
  /** ISO instant of the scheduler fire. */
  scheduled_for?: string;
}

/** `backup.vm`: back up one VM of an execution. */
export interface BackupVmPayload {
  execution_id: string;
  flow_id: string;
  vm_context_id: string;
  /** The execution's row for this VM (protection_flow_vm_runs.id). */
  vm_run_id: number;
  repository_id: number;
  backup_type: 'auto' | 'full' | 'incremental';
  /** The VM's name and group as the row has them, so a result is recorded without reading the row. */
  vm_name?: string;
  group_id?: string | null;
}

/**
 * `backup.adhoc`: back up one VM outside any flow (POST /backups). The backups row exists already
 * (status pending); the worker takes it, and records the outcome on it.
 */
export interface BackupAdhocPayload {
  backup_id: string;
  vm_context_id: string;
  repository_id: number;
  backup_type: 'auto' | 'full' | 'incremental';
}

/** `backup.restore`: write a restore point's disk images to files or a datastore (the restore row exists). */
export interface BackupRestorePayload {
  restore_id: string;
  backup_id: string;
}

export interface JobSpec {
  queue: QueueName;
  attempts: number;
  backoffMs: number;
  /** Give up on a run after this long (enforced by the handler). */
  timeoutMs: number;
  /**
   * Lock settings of the consuming workers: a worker that dies loses its lock after lockMs and
   * its job is picked up again within stalledCheckMs more.
   */
  lockMs: number;
  stalledCheckMs: number;
}

export const JOBS = {
  'flow.run': { queue: QUEUES.flowRuns, attempts: 5, backoffMs: 2_000, timeoutMs: 10 * 60_000, lockMs: 30_000, stalledCheckMs: 15_000 },
  'backup.vm': { queue: QUEUES.vmBackups, attempts: 3, backoffMs: 5_000, timeoutMs: 24 * 3600_000, lockMs: 10_000, stalledCheckMs: 5_000 },
  // one worker serves vm-backups: every job of the queue has the lock settings of backup.vm
  'backup.adhoc': { queue: QUEUES.vmBackups, attempts: 3, backoffMs: 5_000, timeoutMs: 24 * 3600_000, lockMs: 10_000, stalledCheckMs: 5_000 },
  'backup.restore': { queue: QUEUES.vmBackups, attempts: 3, backoffMs: 5_000, timeoutMs: 24 * 3600_000, lockMs: 10_000, stalledCheckMs: 5_000 },
} as const satisfies Record<string, JobSpec>;

export type JobName = keyof typeof JOBS;
export interface JobPayloads {
  'flow.run': FlowRunPayload;
  'backup.vm': BackupVmPayload;
  'backup.adhoc': BackupAdhocPayload;
  'backup.restore': BackupRestorePayload;
}

/** Job id of a manual/API run: one job per execution, whatever retries the producer makes. */
export const flowRunJobId = (executionId: string) => `exec-${executionId}`;

/** Throws unless `handlers` covers every job of `queue`. */
export function assertHandlers(queue: QueueName, handlers: Record<string, unknown>): void {
  const missing = Object.entries(JOBS)
    .filter(([, spec]) => spec.queue === queue)
    .map(([name]) => name)
    .filter((name) => typeof handlers[name] !== 'function');
  if (missing.length) throw new Error(`No handler for job(s) ${missing.join(', ')} on queue ${queue}`);
}

/** Job id of one VM's backup in one execution: deterministic, so a release that repeats adds nothing. */
export const vmJobId = (executionId: string, vmContextId: string) => `vm-${executionId}-${vmContextId}`;

/** Job id of a backup started through the API: one job per backup row. */
export const adhocBackupJobId = (backupId: string) => `adhoc-${backupId}`;

/** Job id of a restore: one job per restore row. */
export const restoreJobId = (restoreId: string) => `restore-${restoreId}`;

/** Job scheduler id of a flow. */
export const flowSchedulerId = (flowId: string) => `flow-${flowId}`;

/** The fire time of a job made by a flow's job scheduler (its id is `repeat:flow-<id>:<millis>`). */
export function fireTimeOf(jobId: string | undefined): Date | undefined {
  const m = /^repeat:flow-.+:(\d+)$/.exec(jobId ?? '');
  return m ? new Date(Number(m[1])) : undefined;
}
