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
  /** The same file opened with O_DIRECT (undefined where refused): whole blocks at block offsets go this way. */
  direct: FileHandle | undefined;
  /** File position of the active buffer's first byte. */
  position: number;
  entries: Buffer;
  count: number;
  writes: Promise<void>[];
}

const noop = (): void => undefined;

/** Raw chunks at least this long skip the write buffer (smaller ones are cheaper to copy than to pad). */
const RAW_UNBUFFERED_MIN = 64 * 1024;

/**
 * Appends encoded chunks to pack files through two pooled write buffers: while one buffer is being
 * written by the thread pool the other fills, so hashing and compression overlap the disk. A raw
 * chunk of whole blocks skips the buffers: it is written from the caller's buffer at the next block
 * boundary (no copy here, and restores read it in place with direct I/O). Whole blocks are written with
 * O_DIRECT, past the page cache: filling fresh page-cache pages is the slow part of a write on our
 * machines (2 GB: ~2.8 s buffered, ~0.85 s direct), and a backup never reads its packs back soon. A
 * flush writes the buffer's whole blocks and carries the last partial block into the other buffer; a
 * pack's last partial block and its trailer go through the page cache, and the fsync at its end makes
 * the whole file durable. Where O_DIRECT is refused, everything goes through the page cache. A full
 * pack is finalized (trailer, fsync, rename, directory fsync) in the background while the next one
 * fills. Not safe for concurrent `finish`/`abort` with `append`.
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
   * `id`; the caller may reuse `stored` once this resolves. Resolves to its size. A raw chunk of whole
   * blocks (see {@link appendRaw}) is written from `stored`; any other chunk is copied into the buffer.
   */
  async appendEncoded(id: Uint8Array, stored: Uint8Array, rawLength: number, compressed: boolean): Promise<number> {
    if (!compressed && stored.length >= RAW_UNBUFFERED_MIN && stored.length % IO_ALIGN === 0) {
      while (!this.ready(IO_ALIGN)) await this.makeRoom();
      return this.appendRaw(id, stored);
    }
    while (!this.ready(stored.length)) await this.makeRoom();
    // From here to the end nothing awaits: the space checked above is still ours.
    this.bufs[this.active]!.set(stored, this.used);
    return this.record(id, stored.length, rawLength, compressed);
  }

  /**
   * A raw chunk without a copy: the buffered bytes are padded with zeroes to a block boundary and
   * flushed, the chunk is written from the caller's buffer at that boundary, and the next bytes follow
   * it. Resolves once that write is done.
   */
  private async appendRaw(id: Uint8Array, data: Uint8Array): Promise<number> {
    const pack = this.pack!;
    const pad = (IO_ALIGN - ((pack.position + this.used) % IO_ALIGN)) % IO_ALIGN;
    this.bufs[this.active]!.fill(0, this.used, this.used + pad); // no stale bytes of a reused buffer in the gap
    this.used += pad;
    const at = pack.position + this.used;
    this.addEntry(pack, id, { offset: at, stored_length: data.length, raw_length: data.length, compressed: false });
    let write: Promise<void> = Promise.resolve();
    this.busy = (async () => {
      await this.flush();
      write = this.writeAt(pack, data, at);
      write.catch(noop);
      pack.writes.push(write);
      pack.position = at + data.length;
      if (pack.position >= this.options.packSize) await this.rollOver();
    })().finally(() => {
      this.busy = undefined;
    });
    await this.busy;
    await write;
    return data.length;
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
        await pack.direct?.close();
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

  private addEntry(pack: OpenPack, id: Uint8Array, entry: Omit<PackEntry, 'id'>): void {
    if ((pack.count + 1) * PACK_ENTRY_BYTES > pack.entries.length) {
      const grown = Buffer.alloc(pack.entries.length * 2);
      pack.entries.copy(grown);
      pack.entries = grown;
    }
    writePackEntry(pack.entries, pack.count * PACK_ENTRY_BYTES, id, entry);
    pack.count++;
  }

  private record(id: Uint8Array, stored: number, rawLength: number, compressed: boolean): number {
    const pack = this.pack!;
    const offset = pack.position + this.used;
    this.addEntry(pack, id, { offset, stored_length: stored, raw_length: rawLength, compressed });
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
    const direct = constants.O_DIRECT === undefined ? undefined : await open(tmp, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
    this.pack = { id, tmp, fh, direct, position: 0, entries: Buffer.alloc(256 * PACK_ENTRY_BYTES), count: 0, writes: [] };
    this.used = 0;
  }

  /**
   * Hands the active buffer to the thread pool and switches to the other once its last write is done.
   * With direct writes only the buffer's whole blocks go (the pack's position stays on a block
   * boundary) and the partial block left is carried to the start of the other buffer; `final` writes
   * everything (the pack's end).
   */
  private async flush(final = false): Promise<void> {
    const pack = this.pack!;
    if (this.used > 0) {
      const buf = this.bufs[this.active]!;
      const body = pack.direct && !final ? this.used - (this.used % IO_ALIGN) : this.used;
      const tail = this.used - body;
      const other = this.active ^ 1;
      if (tail > 0) {
        await this.inflight[other]; // the partial block moves into the other buffer once its last write is done
        this.bufs[other]!.set(buf.subarray(body, this.used), 0);
      }
      if (body > 0) {
        const write = this.writeAt(pack, buf.subarray(0, body), pack.position);
        write.catch(noop);
        pack.writes.push(write);
        this.inflight[this.active] = write;
        pack.position += body;
      }
      this.active = other;
      this.used = tail;
    }
    await this.inflight[this.active];
  }

  /** Writes whole blocks at a block offset with O_DIRECT when the file allows it, else through the page cache. */
  private async writeAt(pack: OpenPack, data: Uint8Array, position: number): Promise<void> {
    if (pack.direct && position % IO_ALIGN === 0 && data.length % IO_ALIGN === 0) {
      try {
        await writeFully(pack.direct, data, position);
        return;
      } catch (err) {
        // EINVAL: memory that is not block-aligned (a caller's buffer); the page cache takes it
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
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
