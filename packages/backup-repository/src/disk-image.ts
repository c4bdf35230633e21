import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import type { BufferPool } from './buffer-pool.js';
import { zeroes } from './chunk-codec.js';
import type { ChunkReader } from './chunk-reader.js';
import { writeFully } from './atomic-file.js';
import type { PointDisk } from './manifest.js';

/** Where a restored image goes. `write` may not keep `data` after it resolves. */
export interface RestoreSink {
  write(data: Buffer, offset: number): Promise<void>;
  /** A zero range; absent means zeroes are written through `write`. A file sink leaves a hole. */
  zero?(offset: number, length: number): Promise<void>;
  /** Called once after the last byte, with the disk's capacity. */
  finish?(capacity: number): Promise<void>;
}

/** Progress of a restore or range read. */
export interface RestoreProgress {
  bytes_done: number;
  bytes_total: number;
}

/** A segment of a disk image: data valid until the next segment is requested, or a zero range. */
interface Segment {
  offset: number;
  length: number;
  data: Buffer | undefined;
}

const CACHE_SLOTS = 3;

/**
 * Walks a disk of a point from `start` to `end` in one pass, decoding each chunk once. A chunk that
 * incrementals cut into several pieces is served from a small cache of decoded chunks.
 */
export async function* walkDisk(
  disk: PointDisk, start: number, end: number, reader: ChunkReader, pool: BufferPool, chunkSize: number, verify: boolean,
): AsyncGenerator<Segment> {
  const slots: { id: string; plain: Buffer; buf: Buffer }[] = [];
  try {
    const table = disk.extents;
    let i = table.find(start);
    let pos = start;
    while (pos < end && i >= 0 && i < table.count) {
      const eStart = table.offsetAt(i);
      const segEnd = Math.min(end, eStart + table.lengthAt(i));
      if (table.isZeroAt(i)) {
        yield { offset: pos, length: segEnd - pos, data: undefined };
      } else {
        const id = table.chunkIdAt(i).toString('hex');
        let slot = slots.find((s) => s.id === id);
        if (!slot) {
          const reuse = slots.length >= CACHE_SLOTS ? slots.shift()! : undefined;
          const buf = reuse?.buf ?? pool.acquire(chunkSize);
          slot = { id, buf, plain: await reader.read(id, buf, verify) };
          slots.push(slot);
        }
        const from = table.chunkOffsetAt(i) + (pos - eStart);
        yield { offset: pos, length: segEnd - pos, data: slot.plain.subarray(from, from + (segEnd - pos)) };
      }
      pos = segEnd;
      i++;
    }
  } finally {
    for (const s of slots) pool.release(s.buf);
  }
}

/**
 * Writes zero ranges as holes; creates or truncates the file and sets its size to the capacity at
 * the end. With `sync`, the image is flushed to stable storage before the restore resolves.
 */
export function fileSink(file: string, options: { sync?: boolean } = {}): RestoreSink & { close(): Promise<void> } {
  let fh: FileHandle | undefined;
  const handle = async (): Promise<FileHandle> => (fh ??= await open(file, 'w'));
  return {
    async write(data, offset) {
      await writeFully(await handle(), data, offset);
    },
    async zero() {
      // a hole: nothing to write in a fresh file
    },
    async finish(capacity) {
      const h = await handle();
      await h.truncate(capacity);
      if (options.sync) await h.datasync();
      await h.close();
      fh = undefined;
    },
    async close() {
      await fh?.close();
      fh = undefined;
    },
  };
}

/** Adapts a Writable: data is written and awaited (so buffers can be reused), zeroes come from a shared page. */
export function writableSink(out: Writable): RestoreSink {
  return {
    write: (data) => new Promise<void>((resolve, reject) => {
      out.write(data, (err) => (err ? reject(err) : resolve()));
    }),
    async zero(_offset, length) {
      for (let left = length; left > 0;) {
        const part = zeroes(left);
        left -= part.length;
        if (!out.write(part)) await once(out, 'drain');
      }
    },
  };
}

/** Sends the walk to a sink, reporting progress. Returns bytes of data and of zeroes. */
export async function restoreInto(
  segments: AsyncIterable<Segment>, sink: RestoreSink, total: number, onProgress?: (p: RestoreProgress) => void, intervalMs = 1000,
): Promise<{ data_bytes: number; zero_bytes: number }> {
  let dataBytes = 0;
  let zeroBytes = 0;
  let last = 0;
  for await (const s of segments) {
    if (s.data) {
      await sink.write(s.data, s.offset);
      dataBytes += s.length;
    } else {
      if (sink.zero) await sink.zero(s.offset, s.length);
      else for (let at = 0; at < s.length;) {
        const part = zeroes(s.length - at);
        await sink.write(part, s.offset + at);
        at += part.length;
      }
      zeroBytes += s.length;
    }
    const now = Date.now();
    if (onProgress && now - last >= intervalMs) {
      last = now;
      onProgress({ bytes_done: dataBytes + zeroBytes, bytes_total: total });
    }
  }
  onProgress?.({ bytes_done: dataBytes + zeroBytes, bytes_total: total });
  return { data_bytes: dataBytes, zero_bytes: zeroBytes };
}

/** A Readable of the bytes in [start, end); every data buffer it emits is its own copy. */
export function rangeStream(segments: AsyncGenerator<Segment>, onEnd: () => Promise<void>): Readable {
  async function* copies(): AsyncGenerator<Buffer> {
    try {
      for await (const s of segments) {
        if (s.data) yield Buffer.from(s.data);
        else for (let at = 0; at < s.length;) {
          const part = zeroes(s.length - at);
          at += part.length;
          yield part;
        }
      }
    } finally {
      await onEnd();
    }
  }
  return Readable.from(copies(), { objectMode: false });
}
