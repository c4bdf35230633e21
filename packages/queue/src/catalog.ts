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
  repository_id: number;
  backup_type: 'auto' | 'full' | 'incremental';
}

export interface JobSpec {
  queue: QueueName;
  attempts: number;
  backoffMs: number;
  /** Give up on a run after this long (enforced by the handler). */
  timeoutMs: number;
}

export const JOBS = {
  'flow.run': { queue: QUEUES.flowRuns, attempts: 5, backoffMs: 2_000, timeoutMs: 10 * 60_000 },
  'backup.vm': { queue: QUEUES.vmBackups, attempts: 3, backoffMs: 30_000, timeoutMs: 24 * 3600_000 },
} as const satisfies Record<string, JobSpec>;

export type JobName = keyof typeof JOBS;
export interface JobPayloads {
  'flow.run': FlowRunPayload;
  'backup.vm': BackupVmPayload;
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
