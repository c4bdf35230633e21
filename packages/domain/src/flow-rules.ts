import type { DestinationType, FlowType } from './types.js';

export interface FieldProblem {
  field: string;
  message: string;
}

/** The part of a flow that decides which fields it needs. */
export interface FlowShape {
  flow_type: FlowType;
  repository_id?: number | null;
  destination_type?: DestinationType | null;
  destination_config?: Record<string, unknown> | null;
}

/**
 * The job sheet's CHECK constraint, with a message per field: a backup flow needs a repository;
 * a replication flow needs a destination type and has no repository.
 */
export function flowShapeProblems(f: FlowShape, prefix = 'body'): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (f.flow_type === 'backup') {
    if (f.repository_id === null || f.repository_id === undefined) out.push({ field: `${prefix}.repository_id`, message: 'is required for a backup flow' });
    if (f.destination_type) out.push({ field: `${prefix}.destination_type`, message: 'is only for replication flows' });
    if (f.destination_config) out.push({ field: `${prefix}.destination_config`, message: 'is only for replication flows' });
  } else {
    if (!f.destination_type) out.push({ field: `${prefix}.destination_type`, message: 'is required for a replication flow' });
    if (f.repository_id !== null && f.repository_id !== undefined) out.push({ field: `${prefix}.repository_id`, message: 'is only for backup flows' });
  }
  return out;
}
