import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOBS, QUEUES, flowRunJobId, type FlowRunPayload, type QueueName } from './catalog.js';

/** Opens the BullMQ queue `name` under `prefix` (the REDIS_PREFIX of this hub). */
export function openQueue(name: QueueName, connection: Redis, prefix: string): Queue {
  return new Queue(name, { connection, prefix });
}

/** Places flow runs on `flow-runs`. */
export class FlowRunProducer {
  constructor(private readonly queue: Queue) {}

  /** Queues the run of an existing execution. Idempotent: the job id is derived from the execution. */
  async enqueueExecution(payload: Required<Pick<FlowRunPayload, 'flow_id' | 'execution_id'>>): Promise<string> {
    const spec = JOBS['flow.run'];
    const job = await this.queue.add('flow.run', payload, {
      jobId: flowRunJobId(payload.execution_id),
      attempts: spec.attempts,
      backoff: { type: 'exponential', delay: spec.backoffMs },
      removeOnComplete: { age: 7 * 86400, count: 10_000 },
      removeOnFail: { age: 30 * 86400 },
    });
    return job.id!;
  }

  get name(): string {
    return QUEUES.flowRuns;
  }
}
