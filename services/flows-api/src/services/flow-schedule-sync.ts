import type { FlowStore, Queryable } from '@vaultflow/db';
import { nextFire } from '@vaultflow/domain';

/**
 * Keeps what runs a flow on schedule in step with the flow's row. Called inside the transaction of
 * every change that can move a flow's next run (flow or schedule created, updated, enabled,
 * disabled, deleted).
 */
export interface FlowScheduleSync {
  /** Recompute and store next_execution_time of these flows. */
  flowsChanged(flowIds: string[], q: Queryable): Promise<void>;
  /** Flows were deleted: forget anything kept for them. */
  flowsDeleted(flowIds: string[]): Promise<void>;
}

/** Sets next_execution_time from the flow's schedule (enabled flow, enabled schedule), else NULL. */
export class NextRunSync implements FlowScheduleSync {
  constructor(
    private readonly flows: FlowStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async flowsChanged(flowIds: string[], q: Queryable): Promise<void> {
    for (const id of flowIds) {
      const f = await this.flows.get(id, q);
      if (!f) continue;
      const next =
        f.enabled && f.schedule_cron && f.schedule_enabled ? (nextFire(f.schedule_cron, f.schedule_timezone ?? 'UTC', this.now()) ?? null) : null;
      await this.flows.setNextExecution(id, next, q);
    }
  }

  async flowsDeleted(): Promise<void> {}
}
