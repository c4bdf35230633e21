import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { readFully } from './atomic-file.js';
import type { BufferPool } from './buffer-pool.js';
import { chunkId, compressBound, type ChunkCodec } from './chunk-codec.js';
import { openDirect, readDirect } from './direct-io.js';
import { PACK_SUFFIX, PACKS_DIR } from './format.js';
import type { ChunkLocation, RepositoryIndex } from './repository-index.js';
import { RepositoryError } from './repository-error.js';

const MAX_OPEN_PACKS = 32;

interface OpenPack {
  fh: Promise<FileHandle>;
  /** The same pack opened with O_DIRECT (undefined where refused), opened on first use. */
  direct?: Promise<FileHandle | undefined>;
  /** Reads in progress on it: such a handle is never closed to make room. */
  users: number;
}

/**
 * Reads chunks out of packs: stored bytes, decompression into a caller's buffer, and the sha256
 * check against the id. Keeps a few pack files open. `read` serves one sequential consumer;
 * `readStored` and `readStoredDirect` may run concurrently (the restore's read-ahead).
 */
export class ChunkReader {
  private readonly handles = new Map<string, OpenPack>();
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
    let plain: Buffer;
    if (loc.compressed) {
      this.stored ??= this.pool.acquire(compressBound(this.chunkSize));
      const src = await this.readStored(id, loc, this.stored);
      try {
        const n = this.codec.decompress(out.subarray(0, loc.raw_length), src);
        if (n !== loc.raw_length) throw new Error(`decoded ${n} bytes, expected ${loc.raw_length}`);
      } catch (err) {
        throw corrupt(id, loc, (err as Error).message, err);
      }
      plain = out.subarray(0, loc.raw_length);
    } else {
      plain = await this.readStored(id, loc, out);
    }
    if (verify && chunkId(plain).toString('hex') !== id) throw corrupt(id, loc, 'fails its sha256');
    return plain;
  }

  /**
   * Reads the stored bytes of a chunk (compressed or raw, as in its pack) into `into` and returns
   * that view. Safe to run concurrently. Rejects CHUNK_MISSING (pack gone) or CHUNK_CORRUPT.
   */
  async readStored(id: string, loc: ChunkLocation, into: Buffer): Promise<Buffer> {
    if (!loc.compressed && loc.stored_length !== loc.raw_length) throw corrupt(id, loc, 'raw chunk with a stored length unlike its plaintext length');
    if (loc.stored_length > into.length) throw corrupt(id, loc, `stored length ${loc.stored_length} is too large`);
    const entry = await this.use(loc.pack);
    try {
      await readFully(await entry.fh, into, loc.stored_length, loc.offset);
    } catch (err) {
      if (err instanceof RepositoryError) throw err;
      throw corrupt(id, loc, (err as Error).message, err);
    } finally {
      entry.users--;
    }
    return into.subarray(0, loc.stored_length);
  }

  /**
   * Reads the stored bytes of a chunk bypassing the page cache (O_DIRECT) into `scratch`, a pooled
   * (aligned) buffer at least `stored_length + 2 * IO_ALIGN` long, and returns their view, which
   * need not start at scratch[0]. Falls back to a buffered read where direct reads are refused.
   */
  async readStoredDirect(id: string, loc: ChunkLocation, scratch: Buffer): Promise<Buffer> {
    if (!loc.compressed && loc.stored_length !== loc.raw_length) throw corrupt(id, loc, 'raw chunk with a stored length unlike its plaintext length');
    const entry = await this.use(loc.pack);
    try {
      entry.direct ??= openDirect(path.join(this.root, PACKS_DIR, loc.pack + PACK_SUFFIX)).catch(() => undefined);
      const fh = await entry.direct;
      const view = fh && (await readDirect(fh, scratch, loc.offset, loc.stored_length));
      if (view) return view;
    } catch (err) {
      throw corrupt(id, loc, (err as Error).message, err);
    } finally {
      entry.users--;
    }
    return this.readStored(id, loc, scratch);
  }

  /** Closes pack files and returns buffers. Idempotent. */
  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(handles.map(closePack));
    if (this.stored) this.pool.release(this.stored);
    this.stored = undefined;
  }

  /** An open handle on a pack file (kept open by the reader). */
  async packHandle(pack: string): Promise<FileHandle> {
    const entry = await this.use(pack);
    entry.users--;
    return entry.fh;
  }

  /** The pack's open entry with one more user (the caller decrements). Rejects CHUNK_MISSING. */
  private async use(pack: string): Promise<OpenPack> {
    let entry = this.handles.get(pack);
    if (!entry) {
      this.evictIdle();
      const fh = open(path.join(this.root, PACKS_DIR, pack + PACK_SUFFIX), 'r');
      entry = { fh, users: 0 };
      this.handles.set(pack, entry);
      fh.catch(() => this.handles.get(pack) === entry && this.handles.delete(pack));
    }
    entry.users++;
    try {
      await entry.fh;
    } catch (err) {
      entry.users--;
      throw new RepositoryError('CHUNK_MISSING', `pack ${pack} cannot be opened`, { cause: err });
    }
    return entry;
  }

  /** Closes the oldest idle handles beyond the limit (handles in use stay open). */
  private evictIdle(): void {
    for (const [pack, entry] of this.handles) {
      if (this.handles.size < MAX_OPEN_PACKS) return;
      if (entry.users > 0) continue;
      this.handles.delete(pack);
      closePack(entry).catch(() => undefined);
    }
  }
}

async function closePack(entry: OpenPack): Promise<void> {
  const [fh, direct] = await Promise.all([entry.fh.catch(() => undefined), entry.direct]);
  await Promise.allSettled([fh?.close(), direct?.close()]);
}

function corrupt(id: string, loc: ChunkLocation, why: string, cause?: unknown): RepositoryError {
  return new RepositoryError('CHUNK_CORRUPT', `chunk ${id} in pack ${loc.pack}: ${why}`, cause === undefined ? undefined : { cause });
}
