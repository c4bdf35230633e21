import { randomUUID } from 'node:crypto';
import type { Stores } from '@vaultflow/db';
import type { Logger } from '@vaultflow/logging';
import type { Redis } from 'ioredis';
import { loadFlowPolicy, type FlowPolicy } from './flow-policy.js';
import type { PolicySteps } from './policy-steps.js';

/** What one pass did. */
export interface ScheduledCopyPass {
  /** False when another replica held the pass. */
  ran: boolean;
  /** Flow and VM pairs looked at. */
  sources: number;
}

/**
 * Copy rules of the `scheduled` mode (Veeam's "periodic copy"): instead of right after each backup,
 * a periodic pass (hourly by default) copies, for every flow whose policy has such a rule and every VM
 * the flow backed up, the points the policy keeps that the destination lacks, then applies the
 * retention and prune there, exactly as the immediate rules do after a backup. One replica runs a pass
 * at a time (a Redis lock under the hub's prefix); a replica that dies mid-pass leaves the rest to the
 * next one, and nothing half-copied is ever recorded (the manifest is written last, the record after).
 * The pass's lines go to the job log of the flow, under the job id `scheduled-copy`.
 */
export class ScheduledCopies {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ScheduledCopyPass> | undefined;

  constructor(
    private readonly stores: Stores,
    private readonly steps: PolicySteps,
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly logger: Logger,
    private readonly lockMs = 60 * 60_000,
  ) {}

  /** Runs a pass every `everyMs` (the first one after `firstAfterMs`). */
  start(everyMs: number, firstAfterMs = 60_000): void {
    const tick = (): void => {
      void this.runOnce().catch((err: Error) => this.logger.warn({ err: err.message }, 'scheduled copy pass failed'));
    };
    const first = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, everyMs);
      this.timer.unref();
    }, firstAfterMs);
    first.unref();
    this.timer = first;
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass now, unless another replica runs one. */
  runOnce(): Promise<ScheduledCopyPass> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<ScheduledCopyPass> {
    const key = `${this.redisPrefix}:scheduled-copies:lock`;
    const token = randomUUID();
    if ((await this.redis.set(key, token, 'PX', this.lockMs, 'NX')) !== 'OK') return { ran: false, sources: 0 };
    try {
      const sources = await this.stores.backups.scheduledCopySources();
      const policies = new Map<string, FlowPolicy | null>(); // each flow's policy, read once per pass
      for (const s of sources) {
        if (!policies.has(s.flow_id)) policies.set(s.flow_id, (await loadFlowPolicy(this.stores, s.flow_id)) ?? null);
        const scope = { flow_id: s.flow_id, execution_id: null, vm_context_id: s.vm_context_id, repository_id: s.repository_id, job_id: 'scheduled-copy' };
        await this.steps.run(scope, 'scheduled', policies.get(s.flow_id));
      }
      return { ran: true, sources: sources.length };
    } finally {
      // only our own lock: compare and delete in one step
      await this.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, key, token);
    }
  }
}
