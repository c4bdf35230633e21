import type { Direct, DirectTx } from '../direct.js';
import { stmt } from '../direct.js';
import { num } from '../rows.js';
import { ACTIVE_VM_RUN, type VmRunRecord } from './vm-run.store.js';

/** What a release needs of a waiting VM row to queue its job. */
export type ReleasableRun = Pick<VmRunRecord, 'id' | 'execution_id' | 'flow_id' | 'vm_context_id' | 'vm_name' | 'group_id' | 'priority'>;

const RELEASABLE = 'id, execution_id, flow_id, vm_context_id, vm_name, group_id, priority';

const toReleasable = (r: Record<string, unknown>): ReleasableRun => ({
  id: num(r.id),
  execution_id: r.execution_id as string,
  flow_id: r.flow_id as string,
  vm_context_id: r.vm_context_id as string,
  vm_name: r.vm_name as string,
  group_id: (r.group_id as string | null) ?? null,
  priority: num(r.priority),
});

/**
 * SQL for releasing waiting VMs on the engine's hot path (statements straight to the connection,
 * see Direct), a group's in three round trips: lock the group and read its room and candidates,
 * lock the candidates' VMs and read which are busy, mark the chosen queued and commit. Rows without
 * a group start the same way from their executions' candidates. Which rows to choose is the
 * Releaser's rule.
 */
export class VmReleaseStore {
  constructor(private readonly direct: Direct) {}

  transaction<T>(fn: (tx: DirectTx) => Promise<T>): Promise<T> {
    return this.direct.transaction(fn);
  }

  /**
   * Begins: locks the group's row (releases of one group serialise here) and returns its limit,
   * how many of its rows are queued or running, and up to `candidates` waiting rows, most important
   * first. Undefined when the group is gone.
   */
  async lockGroup(tx: DirectTx, groupId: string, candidates: number): Promise<{ limit: number; active: number; waiting: ReleasableRun[] } | undefined> {
    const [group, active, waiting] = await tx.trip([
      stmt('SELECT max_concurrent_vms FROM machine_groups WHERE id = ? FOR UPDATE', [groupId]),
      stmt('SELECT COUNT(*) AS n FROM protection_flow_vm_runs WHERE group_id = ? AND status IN (?)', [groupId, ACTIVE_VM_RUN]),
      stmt(`SELECT ${RELEASABLE} FROM protection_flow_vm_runs WHERE group_id = ? AND status = 'waiting' ORDER BY priority DESC, id LIMIT ?`, [groupId, candidates]),
    ]);
    const g = group?.[0];
    if (!g) return undefined;
    return { limit: num(g.max_concurrent_vms), active: num(active?.[0]?.n), waiting: (waiting ?? []).map(toReleasable) };
  }

  /**
   * Begins: the waiting rows without a group of these executions, most important first (at most
   * `limit`). Such rows wait only for their VM.
   */
  async waitingUngrouped(tx: DirectTx, executionIds: string[], limit: number): Promise<ReleasableRun[]> {
    if (!executionIds.length) return [];
    const [rows] = await tx.trip([
      stmt(`SELECT ${RELEASABLE} FROM protection_flow_vm_runs WHERE execution_id IN (?) AND status = 'waiting' AND group_id IS NULL ORDER BY priority DESC, id LIMIT ?`, [[...new Set(executionIds)], limit]),
    ]);
    return (rows ?? []).map(toReleasable);
  }

  /**
   * Locks the VMs' inventory rows in id order (no deadlocks between releases) and returns those
   * with a queued or running row in any execution, or an open backup started outside flows.
   */
  async lockVms(tx: DirectTx, vmIds: string[]): Promise<Set<string>> {
    const ids = [...new Set(vmIds)].sort();
    if (!ids.length) return new Set();
    const [, busy] = await tx.trip([
      stmt('SELECT context_id FROM vm_contexts WHERE context_id IN (?) ORDER BY context_id FOR UPDATE', [ids]),
      stmt(
        "(SELECT DISTINCT vm_context_id FROM protection_flow_vm_runs WHERE vm_context_id IN (?) AND status IN (?)) UNION (SELECT DISTINCT vm_context_id FROM backup_jobs WHERE vm_context_id IN (?) AND flow_execution_id IS NULL AND status IN ('pending', 'running'))",
        [ids, ACTIVE_VM_RUN, ids],
      ),
    ]);
    return new Set((busy ?? []).map((r) => r.vm_context_id as string));
  }

  /** Marks the rows queued (those still waiting) and commits. */
  async markQueued(tx: DirectTx, ids: number[]): Promise<void> {
    await tx.commit(ids.length ? [stmt("UPDATE protection_flow_vm_runs SET status = 'queued', queued_at = CURRENT_TIMESTAMP(3) WHERE id IN (?) AND status = 'waiting'", [ids])] : []);
  }
}
