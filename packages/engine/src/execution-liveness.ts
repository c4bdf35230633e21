import type { Stores } from '@vaultflow/db';
import { Batcher } from './batcher.js';

/**
 * How long a VM start trusts that its execution is live (not cancelled, not final) without reading
 * it again. A cancel asked meanwhile is still seen: the canceller takes the rows not yet started,
 * and a VM that started anyway is stopped by its first check (checkEveryMs).
 */
const LIVE_TRUST_MS = 1000;

/** Whether VM jobs may start for an execution, read at most once a second per execution (reads that arrive together share a statement). */
export class ExecutionLiveness {
  private readonly seen = new Map<string, number>();
  private readonly reads: Batcher<string, boolean>;

  constructor(stores: Pick<Stores, 'executions'>) {
    this.reads = new Batcher(async (ids) => {
      const live = await stores.executions.liveOf(ids);
      return ids.map((id) => live.has(id));
    }, { windowMs: 1, max: 500 });
  }

  async isLive(executionId: string): Promise<boolean> {
    const now = Date.now();
    const at = this.seen.get(executionId);
    if (at !== undefined && now - at < LIVE_TRUST_MS) return true;
    const live = await this.reads.run(executionId);
    if (this.seen.size > 10_000) for (const [id, t] of this.seen) if (now - t >= LIVE_TRUST_MS) this.seen.delete(id);
    if (live) this.seen.set(executionId, now);
    else this.seen.delete(executionId);
    return live;
  }

  /** Forgets an execution seen stopping (cancelled or ended). */
  forget(executionId: string): void {
    this.seen.delete(executionId);
  }
}
