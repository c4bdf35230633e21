import type { Knex } from 'knex';
import type { Queryable } from '../rows.js';

export interface AuditEntry {
  actor: string;
  action: string;
  entity_type: string;
  entity_id?: string | number | null;
  details?: Record<string, unknown> | null;
  request_id?: string | null;
}

/** SQL for audit_log: one row per change, written in the same transaction as the change. */
export class AuditStore {
  constructor(private readonly db: Knex) {}

  async record(e: AuditEntry, q: Queryable = this.db): Promise<void> {
    await q('audit_log').insert({
      actor: e.actor,
      action: e.action,
      entity_type: e.entity_type,
      entity_id: e.entity_id === undefined || e.entity_id === null ? null : String(e.entity_id),
      details: e.details ? JSON.stringify(e.details) : null,
      request_id: e.request_id ?? null,
    });
  }

  async forEntity(entityType: string, entityId: string | number): Promise<{ actor: string; action: string; at: Date }[]> {
    return (await this.db('audit_log').where({ entity_type: entityType, entity_id: String(entityId) }).orderBy('id').select('actor', 'action', 'at')) as { actor: string; action: string; at: Date }[];
  }
}
