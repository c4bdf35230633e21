import { alignedBuffer } from '@vaultflow/backup-repository';

/**
 * A small pool of equally sized read buffers. First touch of fresh memory is slow on our machines
 * (perf notes), so a transfer reads every extent into one of a few reused buffers; a worker may share
 * one pool across the disks of a VM. The buffers are shared and page-aligned (the repository's
 * alignedBuffer): its chunk workers hash and compress them in place, and a local disk image can be
 * read into them with O_DIRECT. Not thread-safe beyond the single JS thread, which is all it needs.
 */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];
  private created = 0;

  /**
   * @param bufferSize bytes of every buffer (the largest read)
   * @param maxKept released buffers kept for reuse; more are left to the GC
   */
  constructor(readonly bufferSize: number, private readonly maxKept = 8) {
    if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) throw new RangeError(`bufferSize must be a positive integer, got ${bufferSize}`);
  }

  /** Buffers allocated so far (a measure of reuse). */
  get allocated(): number {
    return this.created;
  }

  /** A buffer of {@link bufferSize} bytes with unspecified contents. */
  acquire(): Buffer {
    const buf = this.free.pop();
    if (buf) return buf;
    this.created++;
    return alignedBuffer(this.bufferSize);
  }

  /** Hands back a buffer from {@link acquire}; the caller must not touch it afterwards. */
  release(buf: Buffer): void {
    if (buf.length === this.bufferSize && this.free.length < this.maxKept) this.free.push(buf);
  }
}
