import type { ExecutionStatus, FlowLastStatus } from './types.js';

export interface ExecutionOutcome {
  jobs_created: number;
  jobs_completed: number;
  jobs_failed: number;
  jobs_skipped: number;
  cancelled: boolean;
  /** A failure of the flow itself (no repository, target gone), as opposed to VM failures. */
  flowError?: string | null;
}

/**
 * The final status of an execution: cancelled when asked; error on a flow-level failure or when no
 * VM was backed up; success when every VM was; warning when some were and others failed or were
 * skipped.
 */
export function finalStatus(o: ExecutionOutcome): ExecutionStatus {
  if (o.cancelled) return 'cancelled';
  if (o.flowError) return 'error';
  if (o.jobs_completed === 0) return 'error';
  if (o.jobs_completed === o.jobs_created) return 'success';
  return 'warning';
}

/** The error message of a finished execution, or null. */
export function finalMessage(o: ExecutionOutcome): string | null {
  if (o.flowError) return o.flowError;
  if (o.cancelled) return null;
  if (o.jobs_created === 0) return 'The target has no VMs to back up';
  if (o.jobs_completed === 0) return `No VM was backed up: ${o.jobs_failed} failed, ${o.jobs_skipped} skipped`;
  if (o.jobs_completed < o.jobs_created) return `${o.jobs_failed} VM(s) failed and ${o.jobs_skipped} were skipped`;
  return null;
}

/** How a finished execution shows on its flow (the flow's status has no "cancelled"). */
export function flowStatusOf(s: ExecutionStatus): FlowLastStatus {
  return s === 'cancelled' ? 'warning' : (s as FlowLastStatus);
}

/** Group priority (0-100, higher runs first) as a BullMQ job priority (1 is the highest). */
export function jobPriority(groupPriority: number): number {
  return 101 - Math.max(0, Math.min(100, groupPriority));
}
