import type { FlowStore, Queryable } from '@vaultflow/db';
import { nextFire } from '@vaultflow/domain';
import type { Logger } from '@vaultflow/logging';
import type { FlowSchedulers } from '@vaultflow/queue';

/**
 * Keeps what runs a flow on schedule in step with the flow's row. Inside the transaction of a
 * change, `flowsChanged` records it in MariaDB (the source of truth); after the commit, `apply`
 * makes the flows' BullMQ job schedulers match. If Redis cannot be reached, the orchestrator's
 * reconciler repairs the schedulers within a minute.
 */
export interface FlowScheduleSync {
  /**
   * Recomputes next_execution_time from the schedule. `rearm` marks that the flow's schedule
   * became active or changed now: fires before this moment are never backfilled.
   */
  flowsChanged(flowIds: string[], q: Queryable, opts?: { rearm?: boolean }): Promise<void>;
  /** After the commit: register, update or remove the flows' job schedulers. */
  apply(flowIds: string[]): Promise<void>;
  /** Flows were deleted: remove their job schedulers. */
  flowsDeleted(flowIds: string[]): Promise<void>;
}

export class SchedulerSync implements FlowScheduleSync {
  constructor(
    private readonly flows: FlowStore,
    private readonly schedulers: FlowSchedulers,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async flowsChanged(flowIds: string[], q: Queryable, opts: { rearm?: boolean } = {}): Promise<void> {
    for (const id of flowIds) {
      const f = await this.flows.get(id, q);
      if (!f) continue;
      const active = f.enabled && f.schedule_cron && f.schedule_enabled;
      const next = active ? (nextFire(f.schedule_cron!, f.schedule_timezone ?? 'UTC', this.now()) ?? null) : null;
      await this.flows.setNextExecution(id, next, q);
      if (opts.rearm) await this.flows.rearm(id, q);
    }
  }

  async apply(flowIds: string[]): Promise<void> {
    for (const id of flowIds) {
      try {
        const f = await this.flows.get(id);
        if (f && f.enabled && f.schedule_cron && f.schedule_enabled) {
          const next = await this.schedulers.upsert(id, f.schedule_cron, f.schedule_timezone ?? 'UTC');
          await this.flows.setNextExecution(id, next ?? null);
        } else {
          await this.schedulers.remove(id);
        }
      } catch (err) {
        this.logger.warn({ flowId: id, err: (err as Error).message }, 'job scheduler not updated; the reconciler will repair it');
      }
    }
  }

  async flowsDeleted(flowIds: string[]): Promise<void> {
    for (const id of flowIds) {
      await this.schedulers.remove(id).catch((err: Error) => this.logger.warn({ flowId: id, err: err.message }, 'job scheduler not removed; the reconciler will remove it'));
    }
  }
}
