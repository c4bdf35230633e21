/** Statuses and kinds of the job sheet, as the API and the database spell them. */

export const FLOW_TYPES = ['backup', 'replication'] as const;
export type FlowType = (typeof FLOW_TYPES)[number];

export const TARGET_TYPES = ['vm', 'group'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

export const DESTINATION_TYPES = ['ossea', 'vmware', 'hyperv'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export const FLOW_LAST_STATUSES = ['success', 'warning', 'error', 'running', 'pending'] as const;
export type FlowLastStatus = (typeof FLOW_LAST_STATUSES)[number];

export const EXECUTION_STATUSES = ['pending', 'running', 'success', 'warning', 'error', 'cancelled'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const EXECUTION_TYPES = ['scheduled', 'manual', 'api'] as const;
export type ExecutionType = (typeof EXECUTION_TYPES)[number];

export const REPOSITORY_TYPES = ['local', 'nfs', 'cifs', 's3'] as const;
export type RepositoryType = (typeof REPOSITORY_TYPES)[number];

export const POWER_STATES = ['poweredOn', 'poweredOff', 'suspended', 'unknown'] as const;
export type PowerState = (typeof POWER_STATES)[number];

export const BACKUP_TYPES = ['full', 'incremental'] as const;
export const BACKUP_REQUEST_TYPES = ['auto', 'full', 'incremental'] as const;
export const BACKUP_STATUSES = ['pending', 'running', 'success', 'failed', 'cancelled'] as const;

/** Final execution statuses: once reached, an execution never changes again. */
export const FINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = ['success', 'warning', 'error', 'cancelled'];

export function isFinalExecutionStatus(s: ExecutionStatus): boolean {
  return FINAL_EXECUTION_STATUSES.includes(s);
}
