import type { Db, Stores } from '@vaultflow/db';
import { finalizeLocked } from './finalizer.js';
import type { Releaser } from './releaser.js';
import type { ResultRecorder } from './result-recorder.js';

/** Tells whether a VM job exists in the queue (any state). */
export interface VmJobLookup {
  exists(executionId: string, vmContextId: string): Promise<boolean>;
}

export interface SweepReport {
  skippedStale: number;
  /** VM jobs released for waiting rows that could start (a release after a result had failed). */
  released: number;
  requeued: number;
  finalized: number;
  /** Pending executions started here because their flow.run job was gone (Redis lost). */
  started: number;
}

/** Starts executions (the ExecutionStarter). */
export interface Starter {
  startMany(executionIds: string[]): Promise<unknown[]>;
}

/**
 * Repairs what a crash or a lost Redis can leave behind; safe on every replica at once:
 * VMs that waited past their flow's start window are skipped with the reason, waiting VMs that may
 * start are released (the release after a result failed, or its process died), queued VMs whose
 * job is gone are queued again, pending executions older than a minute are started (their
 * flow.run job was lost with Redis; starting is idempotent), and running executions whose VMs all
 * ended are finalized.
 */
export class Sweeper {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly releaser: Releaser,
    private readonly recorder: ResultRecorder,
    private readonly jobs: VmJobLookup,
    private readonly starter: Starter,
    private readonly lostAfterMs = 60_000,
  ) {}

  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { skippedStale: 0, released: 0, requeued: 0, finalized: 0, started: 0 };
    const stuck = await this.stores.executions.pendingBefore(new Date(Date.now() - this.lostAfterMs));
    if (stuck.length) {
      await this.starter.startMany(stuck);
      report.started = stuck.length;
    }
    for (const r of await this.stores.vmRuns.staleWaiting()) {
      const res = await this.recorder.record(r.id, {
        status: 'skipped',
        bytes_transferred: 0,
        error_message: `could not start within the flow's ${r.window_minutes}-minute window: the VM was busy in another execution or its group was full`,
      });
      if (res.recorded) report.skippedStale++;
    }
    const waiting = await this.stores.vmRuns.executionsWaiting();
    if (waiting.length) report.released = await this.releaser.release({ executionIds: waiting });
    const lost = [];
    for (const r of await this.stores.vmRuns.queuedBefore(new Date(Date.now() - this.lostAfterMs))) {
      if (!(await this.jobs.exists(r.execution_id, r.vm_context_id))) lost.push(r);
    }
    await this.releaser.hand(lost);
    report.requeued = lost.length;
    for (const e of await this.stores.vmRuns.executionsWithNothingOpen()) {
      const done = await this.db.transaction(async (trx) => {
        const ex = await this.stores.executions.lock(e.id, trx);
        if (ex?.status !== 'running' || (await this.stores.vmRuns.hasOpen(e.id, trx))) return undefined;
        return finalizeLocked(this.stores, trx, { id: e.id, flow_id: e.flow_id, cancelled: ex.cancel_requested_at !== null });
      });
      if (done) report.finalized++;
    }
    return report;
  }
}
