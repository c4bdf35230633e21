import { Batcher, type Engine, type FireOutcome, type FireSweep, type StartOutcome } from '@vaultflow/engine';
import { TransientError } from '@vaultflow/errors';
import { fireTimeOf, type FlowRunPayload } from '@vaultflow/queue';
import type { OrchestratorMetrics } from '../metrics.js';

/** The job as the handler sees it (no BullMQ types in the rules). */
export interface FlowRunJob {
  id: string | undefined;
  data: FlowRunPayload;
  attemptsMade: number;
}

const BATCH = { windowMs: 10, max: 250 };

/**
 * `flow.run`: a manual/API run starts its existing execution; a scheduler fire becomes at most one
 * execution (FireHandler) and then starts. Running twice for the same job changes nothing more.
 * Jobs handled at the same moment share their transactions (a burst of fires at 02:00).
 */
export class FlowRunHandler {
  private readonly fires: Batcher<{ flowId: string; scheduledFor: Date }, FireOutcome>;
  private readonly starts: Batcher<string, StartOutcome>;

  constructor(
    private readonly engine: Engine,
    private readonly metrics: OrchestratorMetrics,
    private readonly now: () => Date = () => new Date(),
    /** Fires every flow due at the same moment at once (optional: without it each job fires its own flow). */
    private readonly sweep?: FireSweep,
  ) {
    this.fires = new Batcher((items) => engine.fires.handleMany(items), BATCH);
    this.starts = new Batcher((ids) => engine.starter.startMany(ids), BATCH);
  }

  async handle(job: FlowRunJob): Promise<string> {
    if (job.data.execution_id) {
      const out = await this.starts.run(job.data.execution_id);
      // The API queues the job inside its transaction: it can arrive before the commit.
      if (out.state === 'missing') throw new TransientError(`execution ${job.data.execution_id} is not visible yet`);
      return out.state;
    }
    const at = fireTimeOf(job.id) ?? (job.data.scheduled_for ? new Date(job.data.scheduled_for) : undefined);
    if (!at || Number.isNaN(at.getTime())) return 'ignored: no fire time';
    if (this.sweep && !job.data.scheduled_for) await this.sweep.sweep(at);
    const fire = await this.fires.run({ flowId: job.data.flow_id, scheduledFor: at });
    this.metrics.fire(fire.outcome);
    if (fire.outcome !== 'run') return fire.outcome;
    if (fire.created) this.metrics.lag.observe((this.now().getTime() - at.getTime()) / 1000);
    return (await this.starts.run(fire.executionId)).state;
  }
}
