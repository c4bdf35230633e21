/**
 * Gathers calls that arrive within `windowMs` (at most `max`) and hands them to `fn` together;
 * each caller gets its own result. Used where many jobs finish or fire at the same moment and one
 * transaction for all of them is much cheaper than one each.
 */
export class Batcher<I, O> {
  private items: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fn: (items: I[]) => Promise<O[]>,
    private readonly opts: { windowMs: number; max: number },
  ) {}

  run(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.items.push({ item, resolve, reject });
      if (this.items.length >= this.opts.max) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.opts.windowMs);
    });
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.items;
    this.items = [];
    if (!batch.length) return;
    try {
      const out = await this.fn(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
