import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, writeFully } from './atomic-file.js';
import type { BufferPool } from './buffer-pool.js';
import { compressBound } from './chunk-codec.js';
import { IO_ALIGN } from './direct-io.js';
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
  /**
   * The temp file opened again with O_DIRECT (undefined where refused): whole blocks of the buffers
   * are written past the page cache, the last partial block and the trailer through `fh`.
   */
  direct: FileHandle | undefined;
  /** File position of the active buffer's first byte. */
  position: number;
  entries: Buffer;
  count: number;
  writes: Promise<void>[];
}

const noop = (): void => undefined;

/**
 * Appends encoded chunks to pack files through two pooled write buffers: while one buffer is being
 * written by the thread pool the other fills, so hashing and compression overlap the disk. Whole
 * blocks go out with O_DIRECT where the file system allows it (filling the page cache with fresh pages
 * is slow on our machines, and nobody reads a pack right after writing it); the partial block at a
 * buffer's end moves to the other buffer. A full pack is finalized (trailer, fsync, rename, directory
 * fsync) in the background while the next one fills. Not safe for concurrent `finish`/`abort` with
 * `append`.
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
    private readonly options: PackWriterOptions,
  ) {
    // two write buffers of two chunks each: writes stay large, memory small (4 MiB for 1 MiB chunks)
    this.bufferSize = Math.max(2 * MiB, 2 * compressBound(options.chunkSize));
  }

  /**
   * Appends a chunk already encoded (compressed by a chunk worker, stored raw, or moved by prune) under
   * `id`; `stored` is copied, so the caller may reuse it once this resolves. Resolves to its size.
   */
  async appendEncoded(id: Uint8Array, stored: Uint8Array, rawLength: number, compressed: boolean): Promise<number> {
    while (!this.ready(stored.length)) await this.makeRoom();
    // From here to the end nothing awaits: the space checked above is still ours.
    this.bufs[this.active]!.set(stored, this.used);
    return this.record(id, stored.length, rawLength, compressed);
  }

  /** Copies an already encoded chunk (prune moving chunks between packs). */
  async appendStored(entry: PackEntry, stored: Uint8Array): Promise<void> {
    await this.appendEncoded(Buffer.from(entry.id, 'hex'), stored, entry.raw_length, entry.compressed);
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
        await this.flush(true);
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
      await pack.direct?.close().catch(noop);
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
    const direct = await open(tmp, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
    this.pack = { id, tmp, fh, direct, position: 0, entries: Buffer.alloc(256 * PACK_ENTRY_BYTES), count: 0, writes: [] };
    this.used = 0;
  }

  /**
   * Hands the active buffer to the thread pool and switches to the other once its last write is done.
   * In direct mode the partial block at the end moves to the other buffer, unless this is the pack's
   * `last` flush: then it is written through the page cache (the trailer follows it there).
   */
  private async flush(last = false): Promise<void> {
    const pack = this.pack!;
    const next = this.active ^ 1;
    if (this.used > 0) {
      const buf = this.bufs[this.active]!;
      const whole = pack.direct ? Math.floor(this.used / IO_ALIGN) * IO_ALIGN : 0;
      const carry = pack.direct && !last ? this.used - whole : 0;
      const write = Promise.all([
        whole > 0 ? this.writeDirect(pack, buf.subarray(0, whole), pack.position) : undefined,
        this.used - whole - carry > 0 ? writeFully(pack.fh, buf.subarray(whole, this.used - carry), pack.position + whole) : undefined,
      ]).then(noop);
      write.catch(noop);
      pack.writes.push(write);
      this.inflight[this.active] = write;
      pack.position += this.used - carry;
      await this.inflight[next];
      if (carry > 0) this.bufs[next]!.set(buf.subarray(this.used - carry, this.used), 0);
      this.active = next;
      this.used = carry;
      return;
    }
    await this.inflight[next];
  }

  /** Writes whole blocks with O_DIRECT; where the kernel refuses (EINVAL), this and later writes go through the page cache. */
  private async writeDirect(pack: OpenPack, data: Buffer, position: number): Promise<void> {
    const direct = pack.direct;
    if (direct) {
      try {
        return await writeFully(direct, data, position);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        if (pack.direct === direct) pack.direct = undefined;
        await direct.close().catch(noop);
      }
    }
    await writeFully(pack.fh, data, position);
  }

  private async rollOver(): Promise<void> {
    await this.flush(true);
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
    await pack.direct?.close();
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
