import type { Stores } from '@vaultflow/db';
import { nextFires } from '@vaultflow/domain';
import type { ExecutionStarter } from './execution-starter.js';
import type { FireHandler } from './fire-handler.js';
import { mapLimit } from './map-limit.js';

/** Lets one replica sweep a fire moment (Redis SET NX in production); the others leave it. */
export interface MomentClaim {
  claim(key: string, ttlMs: number): Promise<boolean>;
}

export interface FireSweepOptions {
  /** Fires decided and started per transaction. */
  chunk?: number;
  /** Chunks in flight at once. */
  parallel?: number;
  /** Called for each execution the sweep created, with its fire time (for the lag metric). */
  onCreated?: (scheduledFor: Date) => void;
  /** A moment was swept: how many flows were due, how many executions it made, how long it took. */
  onSwept?: (r: { at: Date; flows: number; created: number; startedLateMs: number; ms: number }) => void;
  /** A chunk failed (its flows' own jobs will fire them). */
  onError?: (err: Error) => void;
  /** Moments older than this are misfires: the reconciler's business, not the sweep's. */
  maxAgeMs?: number;
  now?: () => Date;
}

const CHUNK = 250;
const PARALLEL = 4;
const MAX_AGE_MS = 60_000;
/** Moments with at least this many flows due get a timer (smaller ones come through the queue fast enough). */
const ARM_MIN = 20;
/** At most this many moments armed at once. */
const MAX_ARMED = 120;
/** Moments remembered in this process (each one's promise), oldest dropped first. */
const REMEMBERED = 256;

/**
 * Many flows often fire at the same moment (every nightly job at 02:00). The first scheduler job
 * of a moment fires all flows due then, straight from MariaDB, in large batches, instead of each
 * waiting for its own job to come through the queue. Those jobs still come: they find their
 * execution made (the unique (flow_id, scheduled_for) key) and only resume it, so nothing runs
 * twice; the decisions (disabled, overlap, misfire) are FireHandler's, the same as for one fire.
 * One replica sweeps a moment; a crash part-way leaves the rest to the flows' own jobs.
 */
export class FireSweep {
  private readonly moments = new Map<number, Promise<void>>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly chunk: number;
  private readonly now: () => Date;

  constructor(
    private readonly stores: Stores,
    private readonly fires: FireHandler,
    private readonly starter: ExecutionStarter,
    private readonly claim: MomentClaim,
    private readonly opts: FireSweepOptions = {},
  ) {
    this.chunk = opts.chunk ?? CHUNK;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Sets a timer for every moment within `horizonMs` at which at least ARM_MIN flows are due, so
   * their sweep starts on the dot instead of when the first scheduler job comes through the queue
   * (a few hundred milliseconds later in a burst). The sweep itself re-reads MariaDB at the moment;
   * the timers only say when to look. Call it periodically (the orchestrator does, after each
   * reconcile); moments already armed are left alone.
   */
  async armUpcoming(horizonMs: number): Promise<number> {
    const now = this.now().getTime();
    const counts = await this.stores.flows.enabledCountBySchedule();
    const due = new Map<number, number>();
    for (const s of await this.stores.schedules.enabledCrons()) {
      const n = counts.get(s.id) ?? 0;
      if (!n) continue;
      let fires: Date[] = [];
      try {
        fires = nextFires(s.cron_expression, s.timezone, MAX_ARMED, new Date(now));
      } catch {
        continue;
      }
      for (const f of fires) if (f.getTime() <= now + horizonMs) due.set(f.getTime(), (due.get(f.getTime()) ?? 0) + n);
    }
    let armed = 0;
    for (const [at, n] of [...due].sort((a, b) => a[0] - b[0])) {
      if (n < ARM_MIN || this.timers.has(at) || this.timers.size >= MAX_ARMED) continue;
      const t = setTimeout(() => {
        this.timers.delete(at);
        void this.sweep(new Date(at));
      }, Math.max(0, at - this.now().getTime()));
      t.unref();
      this.timers.set(at, t);
      armed++;
    }
    return armed;
  }

  /** Clears the armed timers (the service is stopping). */
  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Fires every flow due at `at` (once per moment and process); resolves when done, never rejects. */
  sweep(at: Date): Promise<void> {
    const k = at.getTime();
    if (Math.abs(this.now().getTime() - k) > (this.opts.maxAgeMs ?? MAX_AGE_MS)) return Promise.resolve();
    let p = this.moments.get(k);
    if (!p) {
      p = this.run(at).catch((err) => this.opts.onError?.(err as Error));
      this.moments.set(k, p);
      if (this.moments.size > REMEMBERED) this.moments.delete(this.moments.keys().next().value!);
    }
    return p;
  }

  private async run(at: Date): Promise<void> {
    const due = (await this.stores.schedules.enabledCrons()).filter((s) => firesAt(s.cron_expression, s.timezone, at));
    if (!due.length) return;
    const flowIds = await this.stores.flows.dueAt(due.map((s) => s.id), at);
    if (flowIds.length < 2) return; // one flow: its own job is as fast
    if (!(await this.claim.claim(`fire-sweep:${at.getTime()}`, 10 * 60_000))) return;
    const t0 = Date.now();
    const startedLateMs = t0 - at.getTime();
    let created = 0;
    // Chunks run side by side: different flows, executions and VMs, so their transactions never
    // wait for each other, and the database's cores share the work.
    const chunks: string[][] = [];
    for (let i = 0; i < flowIds.length; i += this.chunk) chunks.push(flowIds.slice(i, i + this.chunk));
    // A chunk that fails (a lost connection, say) is left to its flows' own jobs.
    await mapLimit(chunks, this.opts.parallel ?? PARALLEL, async (ids) => {
      try {
        const outcomes = await this.fires.handleMany(ids.map((flowId) => ({ flowId, scheduledFor: at })));
        const made = outcomes.flatMap((o) => (o.outcome === 'run' && o.created ? [o.executionId] : []));
        for (const _ of made) this.opts.onCreated?.(at);
        created += made.length;
        if (made.length) await this.starter.startMany(made);
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
    });
    this.opts.onSwept?.({ at, flows: flowIds.length, created, startedLateMs, ms: Date.now() - t0 });
  }
}

/** True when the schedule fires exactly at `at`. */
function firesAt(cron: string, timezone: string, at: Date): boolean {
  try {
    return nextFires(cron, timezone, 1, new Date(at.getTime() - 1))[0]?.getTime() === at.getTime();
  } catch {
    return false;
  }
}
