import type { Stores } from '@vaultflow/db';
import { Batcher } from './batcher.js';
import { DeferredStarts, type StartMark } from './deferred-starts.js';

/** Starts written at once: those of one worker that arrive within this window share a statement. */
const NOW_BATCH = { windowMs: 1, max: 200 };
/** Starts of first deliveries wait this long (and are written together), or go with a result that comes first. */
const LATER_MS = 100;

/** Writes VM starts for each worker: at once (a job delivered again), or a little later (a first delivery). */
export class VmStarts {
  private readonly now_ = new Map<string, Batcher<StartMark, boolean>>();
  private readonly later_ = new Map<string, DeferredStarts>();

  constructor(private readonly stores: Pick<Stores, 'vmRuns'>) {}

  /** Writes the start now; false when the row is not the worker's to take (final, or not released). */
  now(mark: StartMark, workerId: string): Promise<boolean> {
    let b = this.now_.get(workerId);
    if (!b) {
      b = new Batcher(async (marks) => {
        const taken = await this.write(marks, workerId);
        return marks.map((m) => taken.has(m.vmRunId));
      }, NOW_BATCH);
      this.now_.set(workerId, b);
    }
    return b.run(mark);
  }

  /** Writes the start within LATER_MS unless withdrawn first; settles false when the row was not the worker's to take. */
  later(mark: StartMark, workerId: string): Promise<boolean> {
    return this.deferred(workerId).defer(mark);
  }

  /** The start of a row not written yet, taken back for the result to carry. */
  withdraw(vmRunId: number, workerId: string): StartMark | undefined {
    return this.later_.get(workerId)?.withdraw(vmRunId);
  }

  /** Waits for a start being written (the result must land after it). */
  settled(vmRunId: number, workerId: string): Promise<void> {
    return this.later_.get(workerId)?.settled(vmRunId) ?? Promise.resolve();
  }

  private deferred(workerId: string): DeferredStarts {
    let d = this.later_.get(workerId);
    if (!d) {
      d = new DeferredStarts((marks) => this.write(marks, workerId), LATER_MS);
      this.later_.set(workerId, d);
    }
    return d;
  }

  private async write(marks: StartMark[], workerId: string): Promise<Set<number>> {
    return this.stores.vmRuns.startMany(marks.map((m) => ({ id: m.vmRunId, at: m.at })), workerId);
  }
}
