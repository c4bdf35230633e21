import type { BufferPool } from './buffer-pool.js';
import { compressBound } from './chunk-codec.js';
import type { ChunkReader } from './chunk-reader.js';
import type { ChunkWorkers } from './chunk-workers.js';
import { IO_ALIGN } from './direct-io.js';
import { RepositoryError } from './repository-error.js';

interface Load {
  id: string;
  /** Announced uses not yet released. */
  refs: number;
  /** Consumers still using the plaintext (a write in flight), see {@link ChunkFetcher.hold}. */
  holds: number;
  plain: Promise<Buffer>;
  buf: Buffer;
  freed: boolean;
}

/**
 * Read-ahead for restores and ranged reads: a walk announces the chunks it will need ({@link want}),
 * in order; their stored bytes are read concurrently and decoded (and re-hashed) by the chunk workers
 * while the walk writes earlier ones out. A loaded chunk is kept until its last announced use is
 * released, so a chunk an incremental cut into pieces is read once.
 */
export class ChunkFetcher {
  private readonly loads = new Map<string, Load>();

  constructor(
    private readonly reader: ChunkReader,
    private readonly workers: ChunkWorkers,
    private readonly pool: BufferPool,
    private readonly chunkSize: number,
    private readonly verify: boolean,
  ) {}

  /** Chunks loaded or loading. */
  get held(): number {
    return this.loads.size;
  }

  /** Announces one more use of chunk `id` (hex) and starts loading it unless it is held already. */
  want(id: string): void {
    const held = this.loads.get(id);
    if (held) {
      held.refs++;
      return;
    }
    const buf = this.pool.acquire(this.chunkSize);
    const plain = this.load(id, buf);
    plain.catch(() => undefined); // surfaced by get()
    this.loads.set(id, { id, refs: 1, holds: 0, plain, buf, freed: false });
  }

  /** The plaintext of an announced chunk, valid until that use is released. */
  async get(id: string): Promise<Buffer> {
    const held = this.loads.get(id);
    if (!held) throw new Error(`chunk ${id} was not announced`);
    return held.plain;
  }

  /** Ends one announced use; the chunk's buffer goes back to the pool after the last use and hold. */
  release(id: string): void {
    const held = this.loads.get(id);
    if (!held) return;
    held.refs--;
    this.free(held);
  }

  /**
   * Keeps a loaded chunk's plaintext valid beyond its announced use (a write still in flight), even
   * past {@link close}; the returned function ends the hold.
   */
  hold(id: string): () => void {
    const held = this.loads.get(id);
    if (!held) throw new Error(`chunk ${id} is not loaded`);
    held.holds++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      held.holds--;
      this.free(held);
    };
  }

  /** Waits for loads in flight and drops every announced use; held chunks go back when their holds end. */
  async close(): Promise<void> {
    const loads = [...this.loads.values()];
    await Promise.allSettled(loads.map((l) => l.plain));
    for (const l of loads) {
      l.refs = 0;
      this.free(l);
    }
  }

  private free(l: Load): void {
    if (l.refs > 0 || l.holds > 0 || l.freed) return;
    l.freed = true;
    if (this.loads.get(l.id) === l) this.loads.delete(l.id);
    this.pool.release(l.buf);
  }

  /**
   * Reads a chunk's stored bytes with a direct read, then has a chunk worker decode (or copy) them to
   * the start of `out`, which is aligned, and check them. A raw chunk on block boundaries in its pack
   * (as pack writers place them) is read straight into `out`: nothing to copy, only to check.
   */
  private async load(id: string, out: Buffer): Promise<Buffer> {
    const loc = this.reader.locate(id);
    if (loc.raw_length > this.chunkSize) throw new RepositoryError('CHUNK_CORRUPT', `chunk ${id}: ${loc.raw_length} bytes exceed the chunk size`);
    const inPlace = !loc.compressed && loc.offset % IO_ALIGN === 0 && loc.stored_length % IO_ALIGN === 0;
    const stored = inPlace ? undefined : this.pool.acquire(compressBound(this.chunkSize) + 2 * IO_ALIGN);
    try {
      const src = await this.reader.readStoredDirect(id, loc, stored ?? out);
      if (!inPlace || this.verify) await this.workers.decode(src, out, loc.raw_length, loc.compressed, this.verify ? Buffer.from(id, 'hex') : undefined);
      return out.subarray(0, loc.raw_length);
    } catch (err) {
      if (err instanceof RepositoryError) throw err;
      throw new RepositoryError('CHUNK_CORRUPT', `chunk ${id} in pack ${loc.pack}: ${(err as Error).message}`, { cause: err });
    } finally {
      if (stored) this.pool.release(stored);
    }
  }
}
