import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, writeFully } from './atomic-file.js';
import type { BufferPool } from './buffer-pool.js';
import { compressBound, type ChunkCodec } from './chunk-codec.js';
import { MiB, PACK_ENTRY_BYTES, PACK_SUFFIX, randomId, TEMP_SUFFIX } from './format.js';
import { encodePackTrailer, readPackEntry, writePackEntry, type PackEntry } from './pack-format.js';

/** A pack whose file is complete, fsynced and renamed into place: its chunks are durable. */
export interface FinishedPack {
  id: string;
  entries: PackEntry[];
  /** File size. */
  bytes: number;
}

export interface PackWriterOptions {
  /** Roll to a new pack once this many bytes are written. */
  packSize: number;
  /** Largest plaintext chunk that will be appended. */
  chunkSize: number;
  /** Called once per pack, when it became durable (before `finish` resolves). */
  onDurable?: (pack: FinishedPack) => void;
}

interface OpenPack {
  id: string;
  tmp: string;
  fh: FileHandle;
  /** File position of the active buffer's first byte. */
  position: number;
  entries: Buffer;
  count: number;
  writes: Promise<void>[];
}

const noop = (): void => undefined;

/**
 * Appends chunks to pack files. Chunks are compressed straight into one of two pooled write buffers;
 * while one buffer is being written by the thread pool the other fills, so hashing and compression
 * overlap the disk. A full pack is finalized (trailer, fsync, rename, directory fsync) in the
 * background while the next one fills. Not safe for concurrent `finish`/`abort` with `append`.
 */
export class PackWriter {
  private pack: OpenPack | undefined;
  private bufs: Buffer[] = [];
  private active = 0;
  private used = 0;
  private readonly inflight: (Promise<void> | undefined)[] = [undefined, undefined];
  private busy: Promise<void> | undefined;
  private readonly finalizing: Promise<void>[] = [];
  private readonly bufferSize: number;
  readonly finished: FinishedPack[] = [];

  constructor(
    private readonly dir: string,
    private readonly pool: BufferPool,
    private readonly codec: ChunkCodec,
    private readonly options: PackWriterOptions,
  ) {
    this.bufferSize = Math.max(8 * MiB, compressBound(options.chunkSize));
  }

  /** Compresses `raw` (or stores it raw when that does not help) under `id`; resolves to the stored size. */
  async append(id: Uint8Array, raw: Uint8Array): Promise<number> {
    const need = compressBound(raw.length);
    while (!this.ready(need)) await this.makeRoom();
    // From here to the end nothing awaits: the space checked above is still ours.
    const buf = this.bufs[this.active]!;
    const n = this.codec.compress(buf.subarray(this.used, this.used + need), raw);
    if (n === 0) buf.set(raw, this.used);
    return this.record(id, n === 0 ? raw.length : n, raw.length, n > 0);
  }

  /** Copies an already encoded chunk (prune moving chunks between packs). */
  async appendStored(entry: PackEntry, stored: Uint8Array): Promise<void> {
    while (!this.ready(stored.length)) await this.makeRoom();
    this.bufs[this.active]!.set(stored, this.used);
    this.record(Buffer.from(entry.id, 'hex'), stored.length, entry.raw_length, entry.compressed);
  }

  /** Finalizes the open pack and waits for every pack to be durable. Returns all packs written. */
  async finish(): Promise<FinishedPack[]> {
    while (this.busy) await this.busy;
    const pack = this.pack;
    if (pack) {
      if (pack.count === 0) {
        this.pack = undefined;
        await pack.fh.close();
        await rm(pack.tmp, { force: true });
      } else {
        await this.flush();
        this.pack = undefined;
        await this.finalize(pack);
      }
    }
    await Promise.all(this.finalizing);
    await Promise.all(this.inflight);
    this.releaseBuffers();
    return this.finished;
  }

  /** Drops the open pack's temp file. Packs already finalized stay: they are complete, prune reclaims them. */
  async abort(): Promise<void> {
    while (this.busy) await this.busy.catch(noop);
    const pack = this.pack;
    this.pack = undefined;
    if (pack) {
      await Promise.allSettled(pack.writes);
      await pack.fh.close().catch(noop);
      await rm(pack.tmp, { force: true });
    }
    await Promise.allSettled([...this.finalizing, ...this.inflight]);
    this.releaseBuffers();
  }

  private ready(need: number): boolean {
    return !this.busy && this.pack !== undefined && this.used + need <= this.bufferSize;
  }

  private async makeRoom(): Promise<void> {
    if (this.busy) {
      await this.busy;
      return;
    }
    this.busy = (this.pack ? this.flush() : this.openPack()).finally(() => {
      this.busy = undefined;
    });
    await this.busy;
  }

  private record(id: Uint8Array, stored: number, rawLength: number, compressed: boolean): number {
    const pack = this.pack!;
    if ((pack.count + 1) * PACK_ENTRY_BYTES > pack.entries.length) {
      const grown = Buffer.alloc(pack.entries.length * 2);
      pack.entries.copy(grown);
      pack.entries = grown;
    }
    const offset = pack.position + this.used;
    writePackEntry(pack.entries, pack.count * PACK_ENTRY_BYTES, id, { offset, stored_length: stored, raw_length: rawLength, compressed });
    pack.count++;
    this.used += stored;
    if (offset + stored >= this.options.packSize) {
      this.busy = this.rollOver().finally(() => {
        this.busy = undefined;
      });
      this.busy.catch(noop);
    }
    return stored;
  }

  private async openPack(): Promise<void> {
    if (this.bufs.length === 0) this.bufs = [this.pool.acquire(this.bufferSize), this.pool.acquire(this.bufferSize)];
    const id = randomId(16);
    const tmp = path.join(this.dir, `${id}${PACK_SUFFIX}${TEMP_SUFFIX}`);
    const fh = await open(tmp, 'wx');
    this.pack = { id, tmp, fh, position: 0, entries: Buffer.alloc(256 * PACK_ENTRY_BYTES), count: 0, writes: [] };
    this.used = 0;
  }

  /** Hands the active buffer to the thread pool and switches to the other once its last write is done. */
  private async flush(): Promise<void> {
    const pack = this.pack!;
    if (this.used > 0) {
      const write = writeFully(pack.fh, this.bufs[this.active]!.subarray(0, this.used), pack.position);
      write.catch(noop);
      pack.writes.push(write);
      this.inflight[this.active] = write;
      pack.position += this.used;
      this.active ^= 1;
      this.used = 0;
    }
    await this.inflight[this.active];
  }

  private async rollOver(): Promise<void> {
    await this.flush();
    const pack = this.pack!;
    this.pack = undefined;
    const done = this.finalize(pack);
    done.catch(noop);
    this.finalizing.push(done);
  }

  private async finalize(pack: OpenPack): Promise<void> {
    await Promise.all(pack.writes);
    const entries = pack.entries.subarray(0, pack.count * PACK_ENTRY_BYTES);
    const trailer = encodePackTrailer(entries);
    await writeFully(pack.fh, trailer, pack.position);
    await pack.fh.datasync();
    await pack.fh.close();
    const final = path.join(this.dir, `${pack.id}${PACK_SUFFIX}`);
    await rename(pack.tmp, final);
    await fsyncDir(this.dir);
    const list: PackEntry[] = [];
    for (let at = 0; at < entries.length; at += PACK_ENTRY_BYTES) list.push(readPackEntry(entries, at));
    const finished = { id: pack.id, entries: list, bytes: pack.position + trailer.length };
    this.finished.push(finished);
    this.options.onDurable?.(finished);
  }

  private releaseBuffers(): void {
    for (const b of this.bufs) this.pool.release(b);
    this.bufs = [];
  }
}
