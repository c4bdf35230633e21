import type { BufferPool } from './buffer-pool.js';
import { compressBound } from './chunk-codec.js';
import { isShared, type ChunkWorkers } from './chunk-workers.js';
import type { PackWriter } from './pack-writer.js';
import type { RepositoryIndex } from './repository-index.js';

/** What storing one chunk did. */
export interface StoredChunk {
  id: Buffer;
  /** False when the repository or this point already had the chunk. */
  isNew: boolean;
  /** Bytes it takes in the pack (0 when reused). */
  stored: number;
}

/**
 * The write path of one point, chunk by chunk: sha256 in a chunk worker, dedup against the repository
 * index and the point's own chunks, zstd-1 in a chunk worker (in the same job while most chunks are
 * new, else only for new chunks), then into the pack (a copy into its write buffer, or for a raw chunk
 * of whole blocks a write straight from `data`). At most `limit` chunks are hashed, compressed or
 * copied at once, each holding one compression buffer until it is compressed (and copied); a raw write
 * from `data` leaves that limit, so the CPU goes on with other chunks while the disk writes. Callers may
 * store many chunks at once, and the workers then run in parallel.
 */
export class ChunkPipeline {
  private readonly added = new Set<string>();
  private running = 0;
  private seen = 0;
  private reused = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly workers: ChunkWorkers,
    private readonly pool: BufferPool,
    private readonly index: RepositoryIndex,
    private readonly packs: PackWriter,
    private readonly chunkSize: number,
    private readonly limit: number,
  ) {}

  /** Stores `data` (at most the chunk size) as one chunk. `data` is not used after this resolves. */
  async store(data: Uint8Array): Promise<StoredChunk> {
    await this.enter();
    let inSlot = true;
    const leave = (): void => {
      if (!inSlot) return;
      inSlot = false;
      this.leave();
    };
    const staged = isShared(data) ? undefined : this.pool.acquire(this.chunkSize);
    try {
      let src = data;
      if (staged) {
        staged.set(data);
        src = staged.subarray(0, data.length);
      }
      const dst = this.pool.acquire(compressBound(this.chunkSize));
      let id: Buffer;
      let n: number | undefined;
      try {
        if (this.mostlyNew()) {
          ({ id, n } = await this.workers.encode(src, dst)); // one pass; wasted only on a duplicate
        } else {
          id = await this.workers.hash(src);
        }
        const hex = id.toString('hex');
        this.seen++;
        if (this.index.has(hex) || this.added.has(hex)) {
          this.reused++;
          return { id, isNew: false, stored: 0 };
        }
        this.added.add(hex);
        n ??= await this.workers.compress(src, dst);
        if (n > 0) return { id, isNew: true, stored: await this.packs.appendEncoded(id, dst.subarray(0, n), src.length, true) };
      } finally {
        this.pool.release(dst);
      }
      // stored raw: the pack writer takes it from `src` (a chunk of whole blocks without a copy); `dst` is
      // free already. Written from the caller's buffer, it holds nothing of ours: its slot goes to the next
      // chunk while the disk writes (the caller's own buffers bound how many such writes are in flight)
      if (!staged) leave();
      return { id, isNew: true, stored: await this.packs.appendEncoded(id, src, src.length, false) };
    } finally {
      if (staged) this.pool.release(staged);
      leave();
    }
  }

  /**
   * While few chunks turn out to be known (a first full, an incremental), hash and compress in one
   * job; once many do (a full of a disk the repository holds), hash first and compress only new ones.
   */
  private mostlyNew(): boolean {
    return this.seen < 16 || this.reused * 5 < this.seen;
  }

  private async enter(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
