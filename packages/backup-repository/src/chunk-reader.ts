import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { readFully } from './atomic-file.js';
import type { BufferPool } from './buffer-pool.js';
import { chunkId, compressBound, type ChunkCodec } from './chunk-codec.js';
import { PACK_SUFFIX, PACKS_DIR } from './format.js';
import type { ChunkLocation, RepositoryIndex } from './repository-index.js';
import { RepositoryError } from './repository-error.js';

const MAX_OPEN_PACKS = 32;

/**
 * Reads chunks out of packs: stored bytes, decompression into a caller's buffer, and the sha256
 * check against the id. Keeps a few pack files open. One reader serves one sequential consumer.
 */
export class ChunkReader {
  private readonly handles = new Map<string, FileHandle>();
  private stored: Buffer | undefined;

  constructor(
    private readonly root: string,
    readonly index: RepositoryIndex,
    private readonly pool: BufferPool,
    private readonly codec: ChunkCodec,
    private readonly chunkSize: number,
  ) {}

  /** Location of a chunk; throws CHUNK_MISSING when no pack holds it. */
  locate(id: string): ChunkLocation {
    const loc = this.index.get(id);
    if (!loc) throw new RepositoryError('CHUNK_MISSING', `chunk ${id} is in no pack`);
    return loc;
  }

  /**
   * Reads chunk `id` into `out` (at least its plaintext length) and returns the plaintext view.
   * With `verify`, re-hashes it: CHUNK_CORRUPT when it does not match or does not decode.
   */
  async read(id: string, out: Buffer, verify: boolean): Promise<Buffer> {
    const loc = this.locate(id);
    if (loc.raw_length > out.length) throw new RepositoryError('CHUNK_CORRUPT', `chunk ${id}: ${loc.raw_length} bytes exceed the chunk size`);
    const fh = await this.packHandle(loc.pack);
    let plain: Buffer;
    try {
      if (loc.compressed) {
        this.stored ??= this.pool.acquire(compressBound(this.chunkSize));
        if (loc.stored_length > this.stored.length) throw new Error(`stored length ${loc.stored_length} is too large`);
        await readFully(fh, this.stored, loc.stored_length, loc.offset);
        const n = this.codec.decompress(out.subarray(0, loc.raw_length), this.stored.subarray(0, loc.stored_length));
        if (n !== loc.raw_length) throw new Error(`decoded ${n} bytes, expected ${loc.raw_length}`);
      } else {
        if (loc.stored_length !== loc.raw_length) throw new Error('raw chunk with a stored length unlike its plaintext length');
        await readFully(fh, out, loc.raw_length, loc.offset);
      }
      plain = out.subarray(0, loc.raw_length);
    } catch (err) {
      throw new RepositoryError('CHUNK_CORRUPT', `chunk ${id} in pack ${loc.pack}: ${(err as Error).message}`, { cause: err });
    }
    if (verify && chunkId(plain).toString('hex') !== id) {
      throw new RepositoryError('CHUNK_CORRUPT', `chunk ${id} in pack ${loc.pack} fails its sha256`);
    }
    return plain;
  }

  /** Closes pack files and returns buffers. Idempotent. */
  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(handles.map((h) => h.close()));
    if (this.stored) this.pool.release(this.stored);
    this.stored = undefined;
  }

  /** An open handle on a pack file (kept open by the reader). */
  async packHandle(pack: string): Promise<FileHandle> {
    const open_ = this.handles.get(pack);
    if (open_) return open_;
    if (this.handles.size >= MAX_OPEN_PACKS) {
      const [oldest, fh] = this.handles.entries().next().value as [string, FileHandle];
      this.handles.delete(oldest);
      await fh.close();
    }
    try {
      const fh = await open(path.join(this.root, PACKS_DIR, pack + PACK_SUFFIX), 'r');
      this.handles.set(pack, fh);
      return fh;
    } catch (err) {
      throw new RepositoryError('CHUNK_MISSING', `pack ${pack} cannot be opened`, { cause: err });
    }
  }
}
