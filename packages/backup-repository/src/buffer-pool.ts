import { alignedBuffer } from './direct-io.js';

/**
 * Reuses large buffers across chunks, packs and points. First touch of new memory is slow on our
 * machines (~0.3 GB/s) while reused pages are fast, so the write and read paths borrow from here.
 * Buffers are shared (chunk workers hash, compress and decode them in place) and page-aligned
 * (direct reads can fill them).
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private kept = 0;

  /** @param maxKeptBytes bytes of released buffers kept for reuse; the rest goes to the GC. */
  constructor(private readonly maxKeptBytes = 96 * 1024 * 1024) {}

  /** A buffer of exactly `size` bytes with unspecified contents. */
  acquire(size: number): Buffer {
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf) {
      this.kept -= size;
      return buf;
    }
    return alignedBuffer(size);
  }

  /** Returns a buffer obtained from {@link acquire}; the caller must not use it afterwards. */
  release(buf: Buffer): void {
    if (this.kept + buf.length > this.maxKeptBytes) return;
    let list = this.free.get(buf.length);
    if (!list) this.free.set(buf.length, (list = []));
    list.push(buf);
    this.kept += buf.length;
  }
}
