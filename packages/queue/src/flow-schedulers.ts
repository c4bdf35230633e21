import type { Queue } from 'bullmq';
import { JOBS, flowSchedulerId } from './catalog.js';

export interface SchedulerState {
  flowId: string;
  pattern: string;
  tz: string | undefined;
  /** Next fire, in ms since the epoch (undefined when BullMQ has none). */
  next: number | undefined;
}

/**
 * One BullMQ job scheduler per scheduled flow (id `flow-<flowId>`), producing `flow.run` jobs on
 * `flow-runs`. The time zone is always set explicitly (BullMQ would otherwise use the server's).
 */
export class FlowSchedulers {
  constructor(private readonly queue: Queue) {}

  /** Creates or updates the flow's scheduler; returns its next fire. */
  async upsert(flowId: string, cron: string, tz: string): Promise<Date | undefined> {
    const spec = JOBS['flow.run'];
    await this.queue.upsertJobScheduler(
      flowSchedulerId(flowId),
      { pattern: cron, tz },
      {
        name: 'flow.run',
        data: { flow_id: flowId },
        opts: { attempts: spec.attempts, backoff: { type: 'exponential', delay: spec.backoffMs }, removeOnComplete: { age: 7 * 86400, count: 10_000 }, removeOnFail: { age: 30 * 86400 } },
      },
    );
    const s = await this.queue.getJobScheduler(flowSchedulerId(flowId));
    return s?.next ? new Date(s.next) : undefined;
  }

  async remove(flowId: string): Promise<void> {
    await this.queue.removeJobScheduler(flowSchedulerId(flowId));
  }

  async get(flowId: string): Promise<SchedulerState | undefined> {
    const s = await this.queue.getJobScheduler(flowSchedulerId(flowId));
    return s ? { flowId, pattern: s.pattern ?? '', tz: s.tz ?? undefined, next: s.next ?? undefined } : undefined;
  }

  /** Every flow scheduler in Redis. */
  async list(): Promise<SchedulerState[]> {
    const out: SchedulerState[] = [];
    const page = 1000;
    for (let start = 0; ; start += page) {
      const batch = await this.queue.getJobSchedulers(start, start + page - 1, true);
      for (const s of batch) {
        if (!s.key.startsWith('flow-')) continue;
        out.push({ flowId: s.key.slice(5), pattern: s.pattern ?? '', tz: s.tz ?? undefined, next: s.next ?? undefined });
      }
      if (batch.length < page) break;
    }
    return out;
  }
}
