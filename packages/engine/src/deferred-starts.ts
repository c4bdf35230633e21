/** A VM start not written yet: when the work began. */
export interface StartMark {
  vmRunId: number;
  at: Date;
}

/**
 * VM starts written a little after the work began, many in one statement, or not at all when the
 * result comes first (the result then carries the start, in its own statement). A VM job that
 * ends within `delayMs` costs one row write instead of two; a longer one shows as running
 * `delayMs` late. `written` tells whether the row was still the worker's to take (false: it was
 * cancelled or ended meanwhile, and the work must stop).
 */
export class DeferredStarts {
  private pending = new Map<number, { mark: StartMark; resolve: (taken: boolean) => void; reject: (e: unknown) => void }>();
  private inFlight = new Map<number, Promise<boolean>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (marks: StartMark[]) => Promise<Set<number>>,
    private readonly delayMs: number,
  ) {}

  /** Marks the start; the promise settles when it is written (true: taken), or at once with true when withdrawn. */
  defer(mark: StartMark): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.set(mark.vmRunId, { mark, resolve, reject });
      this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  /** Takes a start back when it is not written yet, for the result to carry; undefined when it was (or is being) written. */
  withdraw(vmRunId: number): StartMark | undefined {
    const p = this.pending.get(vmRunId);
    if (!p) return undefined;
    this.pending.delete(vmRunId);
    p.resolve(true);
    return p.mark;
  }

  /** Waits until a start being written has landed (a result must come after its start). */
  async settled(vmRunId: number): Promise<void> {
    await this.inFlight.get(vmRunId)?.catch(() => undefined);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    if (!batch.length) return;
    const written = this.write(batch.map((b) => b.mark));
    for (const b of batch) {
      const landed = written.then((taken) => taken.has(b.mark.vmRunId));
      landed.catch(() => undefined); // the caller hears of a failed write through defer()'s promise
      this.inFlight.set(b.mark.vmRunId, landed);
    }
    try {
      const taken = await written;
      for (const b of batch) b.resolve(taken.has(b.mark.vmRunId));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      for (const b of batch) this.inFlight.delete(b.mark.vmRunId);
    }
  }
}
