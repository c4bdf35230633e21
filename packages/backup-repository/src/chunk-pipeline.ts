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
 * index and the point's own chunks, zstd-1 in a chunk worker (only for new chunks), then a copy into
 * the pack buffer. At most `limit` chunks are in flight, which bounds the pooled buffers it holds;
 * callers may store many chunks at once, and the workers then run in parallel.
 */
export class ChunkPipeline {
  private readonly added = new Set<string>();
  private running = 0;
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
    const staged = isShared(data) ? undefined : this.pool.acquire(this.chunkSize);
    try {
      let src = data;
      if (staged) {
        staged.set(data);
        src = staged.subarray(0, data.length);
      }
      const id = await this.workers.hash(src);
      const hex = id.toString('hex');
      if (this.index.has(hex) || this.added.has(hex)) return { id, isNew: false, stored: 0 };
      this.added.add(hex);
      const dst = this.pool.acquire(compressBound(this.chunkSize));
      try {
        const n = await this.workers.compress(src, dst);
        const stored = await this.packs.appendEncoded(id, n > 0 ? dst.subarray(0, n) : src, src.length, n > 0);
        return { id, isNew: true, stored };
      } finally {
        this.pool.release(dst);
      }
    } finally {
      if (staged) this.pool.release(staged);
      this.leave();
    }
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
