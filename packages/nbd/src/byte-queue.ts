/**
 * Buffers bytes from a socket for the handshake, where the client reads fixed-size pieces in turn.
 * Copies its input, so the producer may reuse its buffer; `read` resolves in call order.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiters: Array<{ n: number; resolve: (b: Buffer) => void; reject: (e: unknown) => void }> = [];
  private error: unknown = undefined;

  /** Adds bytes received. */
  push(data: Buffer): void {
    this.chunks.push(Buffer.from(data));
    this.buffered += data.length;
    this.pump();
  }

  /** Fails every pending and future read with `err` once the buffered bytes run out. */
  fail(err: unknown): void {
    this.error ??= err;
    this.pump();
  }

  /** Resolves with exactly `n` bytes. */
  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ n, resolve, reject });
      this.pump();
    });
  }

  /** Takes whatever is buffered and not yet read (bytes that arrived past the handshake). */
  drain(): Buffer {
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    return rest;
  }

  private pump(): void {
    for (;;) {
      const waiter = this.waiters[0];
      if (!waiter) return;
      if (this.buffered >= waiter.n) {
        this.waiters.shift();
        waiter.resolve(this.take(waiter.n));
      } else if (this.error !== undefined) {
        this.waiters.shift();
        waiter.reject(this.error);
      } else {
        return;
      }
    }
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }
}
