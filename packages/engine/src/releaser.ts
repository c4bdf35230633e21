import type { Db, Stores, Tx, VmRunRecord } from '@vaultflow/db';
import { jobPriority } from '@vaultflow/domain';
import type { VmJob } from '@vaultflow/queue';

/** Where the VM jobs go (the `vm-backups` queue in production). */
export interface VmJobSink {
  enqueue(jobs: VmJob[]): Promise<void>;
}

export interface ReleaseScope {
  /** Groups whose limit may have room now. */
  groupIds?: (string | null)[];
  /** Executions whose ungrouped rows may start now. */
  executionIds?: string[];
  /** VMs that became free: rows waiting for them anywhere may start. */
  vmIds?: string[];
}

/**
 * Moves waiting VM rows to queued and hands them to the queue, never exceeding a group's
 * max_concurrent_vms across all workers and never running one VM twice at once. A group's releases
 * serialise on the group's row lock; VMs are locked in id order, so releases never deadlock.
 * Rows are marked queued and committed before their jobs are added; a lost add is repaired by
 * the sweeper (job ids are deterministic).
 */
export class Releaser {
  constructor(
    private readonly db: Db,
    private readonly stores: Pick<Stores, 'vmRuns' | 'executions'>,
    private readonly sink: VmJobSink,
  ) {}

  /** Releases what the scope allows; returns how many VM jobs were queued. */
  async release(scope: ReleaseScope): Promise<number> {
    const groups = new Set<string>();
    for (const g of scope.groupIds ?? []) if (g) groups.add(g);
    const waiting = await this.stores.vmRuns.waitingScopes({ executionIds: scope.executionIds ?? [], vmIds: scope.vmIds ?? [] }, this.db);
    for (const g of waiting.groupIds) groups.add(g);
    let queued = 0;
    for (const g of [...groups].sort()) queued += await this.releaseGroup(g);
    if (waiting.executionIds.length) queued += await this.releaseUngrouped(waiting.executionIds);
    return queued;
  }

  /**
   * One release per group at a time in this process: a release asked for while one runs marks
   * the group to be looked at again, once, when it ends (a burst of results costs a few releases,
   * not one lock wait each).
   */
  private readonly running = new Map<string, Promise<number>>();
  private readonly again = new Set<string>();

  private releaseGroup(groupId: string): Promise<number> {
    return this.coalesced(`g:${groupId}`, () => this.releaseGroupOnce(groupId));
  }

  private coalesced(key: string, once: () => Promise<number>): Promise<number> {
    const inFlight = this.running.get(key);
    if (inFlight) {
      this.again.add(key);
      return inFlight.then(() => 0);
    }
    const run = (async () => {
      let n = 0;
      try {
        do {
          this.again.delete(key);
          n += await once();
        } while (this.again.has(key));
      } finally {
        this.running.delete(key);
      }
      return n;
    })();
    this.running.set(key, run);
    return run;
  }

  private async releaseGroupOnce(groupId: string): Promise<number> {
    const chosen = await this.db.transaction(async (trx) => {
      const limit = (await this.stores.vmRuns.lockGroup(groupId, trx)) ?? 1;
      const slots = limit - (await this.stores.vmRuns.activeInGroup(groupId, trx));
      if (slots <= 0) return [];
      const candidates = await this.stores.vmRuns.waiting({ groupId }, slots * 4 + 16, trx);
      return this.choose(candidates, slots, trx);
    });
    await this.hand(chosen);
    return chosen.length;
  }

  private async releaseUngrouped(executionIds: string[]): Promise<number> {
    const chosen = await this.db.transaction(async (trx) => {
      const candidates = await this.stores.vmRuns.waiting({ executionIds }, 5000, trx);
      return this.choose(candidates, candidates.length, trx);
    });
    await this.hand(chosen);
    return chosen.length;
  }

  /** Picks up to `slots` candidates whose VM is free (locked), and marks them queued. */
  private async choose(candidates: VmRunRecord[], slots: number, trx: Tx): Promise<VmRunRecord[]> {
    if (!candidates.length) return [];
    const vmIds = candidates.map((c) => c.vm_context_id);
    await this.stores.vmRuns.lockVms(vmIds, trx);
    const busy = await this.stores.vmRuns.busyVms(vmIds, trx);
    const chosen: VmRunRecord[] = [];
    for (const c of candidates) {
      if (chosen.length >= slots) break;
      if (busy.has(c.vm_context_id)) continue;
      busy.add(c.vm_context_id);
      chosen.push(c);
    }
    await this.stores.vmRuns.markQueued(chosen.map((c) => c.id), trx);
    return chosen;
  }

  /** Where each execution's VMs are written; set when it starts and never changed after. */
  private readonly repositoryOf = new Map<string, number>();

  /** Hands queued rows to the queue again (their deterministic job ids make this safe). */
  async hand(rows: VmRunRecord[]): Promise<void> {
    if (!rows.length) return;
    const unknown = [...new Set(rows.map((r) => r.execution_id))].filter((id) => !this.repositoryOf.has(id));
    if (unknown.length) {
      if (this.repositoryOf.size > 10_000) this.repositoryOf.clear();
      for (const [id, meta] of await this.stores.executions.metadataOf(unknown)) this.repositoryOf.set(id, Number(meta.repository_id ?? 0));
    }
    await this.sink.enqueue(
      rows.map((r) => ({
        priority: jobPriority(r.priority),
        payload: {
          execution_id: r.execution_id,
          flow_id: r.flow_id,
          vm_context_id: r.vm_context_id,
          vm_run_id: r.id,
          repository_id: this.repositoryOf.get(r.execution_id) ?? 0,
          backup_type: 'auto' as const,
          vm_name: r.vm_name,
          group_id: r.group_id,
        },
      })),
    );
  }
}
