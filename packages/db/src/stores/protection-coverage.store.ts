import type { Knex } from 'knex';
import { bool, num } from '../rows.js';

/** An enabled flow that covers a VM (directly, or through an enabled group membership), with its schedule. */
export interface CoveringFlowRecord {
  vm_context_id: string;
  flow_id: string;
  flow_name: string;
  vm_start_window_minutes: number;
  /** Null when the flow has no schedule. */
  cron_expression: string | null;
  timezone: string | null;
  schedule_enabled: boolean;
}

/** SQL for which enabled flows protect which VMs (read only). */
export class ProtectionCoverageStore {
  constructor(private readonly db: Knex) {}

  /** Every (VM, enabled flow) pair of present VMs, the group members disabled in their group left out. */
  async coveringFlows(): Promise<CoveringFlowRecord[]> {
    const [rows] = (await this.db.raw(
      `SELECT c.vm_context_id, f.id AS flow_id, f.name AS flow_name, f.vm_start_window_minutes,
              s.cron_expression, s.timezone, s.enabled AS schedule_enabled
         FROM (SELECT f.id AS flow_id, f.target_id AS vm_context_id
                 FROM protection_flows f WHERE f.enabled AND f.target_type = 'vm'
               UNION
               SELECT f.id, m.vm_context_id
                 FROM protection_flows f JOIN vm_group_memberships m ON m.group_id = f.target_id AND m.enabled
                WHERE f.enabled AND f.target_type = 'group') c
         JOIN protection_flows f ON f.id = c.flow_id
         JOIN vm_contexts v ON v.context_id = c.vm_context_id AND v.inventory_status = 'present'
         LEFT JOIN replication_schedules s ON s.id = f.schedule_id
        ORDER BY c.vm_context_id, f.name`,
    )) as [Record<string, unknown>[]];
    return rows.map((r) => ({
      vm_context_id: String(r.vm_context_id),
      flow_id: String(r.flow_id),
      flow_name: String(r.flow_name),
      vm_start_window_minutes: num(r.vm_start_window_minutes),
      cron_expression: r.cron_expression == null ? null : String(r.cron_expression),
      timezone: r.timezone == null ? null : String(r.timezone),
      schedule_enabled: bool(r.schedule_enabled),
    }));
  }
}
