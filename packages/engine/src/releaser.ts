import type { Db, ReleasableRun, Stores, WaitingScopes } from '@vaultflow/db';
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
  /** Where rows wait for `vmIds`, when the caller read it already (the result recorder does, in its transaction). */
  vmWaiters?: WaitingScopes;
}

/** A group asked for again while its release ran is looked at this long after (see coalesced). */
const AGAIN_AFTER_MS = 5;

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
    private readonly stores: Pick<Stores, 'vmRuns' | 'vmReleases' | 'executions'>,
    private readonly sink: VmJobSink,
  ) {}

  /** Releases what the scope allows; returns how many VM jobs were queued. */
  async release(scope: ReleaseScope): Promise<number> {
    const groups = new Set<string>();
    const executions = new Set<string>();
    for (const g of scope.groupIds ?? []) if (g) groups.add(g);
    const found = [await this.stores.vmRuns.waitingScopes({ executionIds: scope.executionIds ?? [], vmIds: scope.vmWaiters ? [] : (scope.vmIds ?? []) }, this.db)];
    if (scope.vmWaiters) found.push(scope.vmWaiters);
    for (const w of found) {
      for (const g of w.groupIds) groups.add(g);
      for (const e of w.executionIds) executions.add(e);
    }
    let queued = 0;
    for (const g of [...groups].sort()) queued += await this.releaseGroup(g);
    if (executions.size) queued += await this.releaseUngrouped([...executions]);
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
        for (;;) {
          this.again.delete(key);
          n += await once();
          if (!this.again.has(key)) break;
          // Results keep coming: let a few more gather, so one release serves them together.
          await new Promise((r) => setTimeout(r, AGAIN_AFTER_MS));
        }
      } finally {
        this.running.delete(key);
      }
      return n;
    })();
    this.running.set(key, run);
    return run;
  }

  /**
   * Each group's free slots at its last release: how many candidates to read together with the
   * lock (four per slot); the room counted under the lock decides, and a release that read too
   * few for it looks again.
   */
  private readonly slotsOf = new Map<string, number>();

  private async releaseGroupOnce(groupId: string): Promise<number> {
    const releases = this.stores.vmReleases;
    const toRead = (slots: number) => Math.min(5000, Math.max(1, slots) * 4 + 16);
    const read = toRead(this.slotsOf.get(groupId) ?? 16);
    let more = false;
    const chosen = await releases.transaction(async (tx) => {
      const g = await releases.lockGroup(tx, groupId, read);
      if (!g) return [];
      const slots = g.limit - g.active;
      if (this.slotsOf.size > 10_000) this.slotsOf.clear();
      this.slotsOf.set(groupId, slots);
      if (slots <= 0 || !g.waiting.length) return [];
      const chosen = pickFree(g.waiting, await releases.lockVms(tx, g.waiting.map((c) => c.vm_context_id)), slots);
      await releases.markQueued(tx, chosen.map((c) => c.id));
      // Read fewer candidates than the room (the limit was not known yet): look again.
      more = chosen.length < slots && g.waiting.length === read && read < toRead(slots);
      return chosen;
    });
    if (more) this.again.add(`g:${groupId}`);
    await this.hand(chosen);
    return chosen.length;
  }

  private async releaseUngrouped(executionIds: string[]): Promise<number> {
    const releases = this.stores.vmReleases;
    const chosen = await releases.transaction(async (tx) => {
      const candidates = await releases.waitingUngrouped(tx, executionIds, 5000);
      if (!candidates.length) return [];
      const chosen = pickFree(candidates, await releases.lockVms(tx, candidates.map((c) => c.vm_context_id)), candidates.length);
      await releases.markQueued(tx, chosen.map((c) => c.id));
      return chosen;
    });
    await this.hand(chosen);
    return chosen.length;
  }

  /** Where each execution's VMs are written; set when it starts and never changed after. */
  private readonly repositoryOf = new Map<string, number>();

  /** Hands queued rows to the queue again (their deterministic job ids make this safe). */
  async hand(rows: ReleasableRun[]): Promise<void> {
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

/** Up to `slots` candidates, in their order, whose VM is not busy; a VM is taken once. */
function pickFree<T extends { vm_context_id: string }>(candidates: T[], busy: Set<string>, slots: number): T[] {
  const taken = new Set(busy);
  const chosen: T[] = [];
  for (const c of candidates) {
    if (chosen.length >= slots) break;
    if (taken.has(c.vm_context_id)) continue;
    taken.add(c.vm_context_id);
    chosen.push(c);
  }
  return chosen;
}
