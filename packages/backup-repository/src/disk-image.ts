import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import type { BufferPool } from './buffer-pool.js';
import { zeroes } from './chunk-codec.js';
import { ChunkFetcher } from './chunk-fetcher.js';
import type { ChunkReader } from './chunk-reader.js';
import type { ChunkWorkers } from './chunk-workers.js';
import { FILE_WRITES } from './file-sink.js';
import type { PointDisk } from './manifest.js';

export { fileSink } from './file-sink.js';

/** Where a restored image goes. `write` may not keep `data` after it resolves. */
export interface RestoreSink {
  /** Called once before the first write, with the disk's capacity. */
  start?(capacity: number): Promise<void>;
  write(data: Buffer, offset: number): Promise<void>;
  /**
   * Writes that may be in flight at once, each at its own offset (they are still started in disk
   * order). Default 1: each write is awaited before the next starts.
   */
  parallelWrites?: number;
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
  /** Keeps `data` valid past the next segment, until the returned function is called. */
  hold?: () => () => void;
}

/**
 * Walks a disk of a point from `start` to `end` in one pass. Chunks are announced to a read-ahead
 * ({@link ChunkFetcher}) a few extents ahead, so reading, decoding and re-hashing overlap the
 * consumer; a chunk that incrementals cut into several pieces is loaded once.
 */
export async function* walkDisk(
  disk: PointDisk, start: number, end: number, reader: ChunkReader, pool: BufferPool, chunkSize: number, verify: boolean, workers: ChunkWorkers,
): AsyncGenerator<Segment> {
  const fetcher = new ChunkFetcher(reader, workers, pool, chunkSize, verify);
  const depth = readAhead(chunkSize, workers.capacity);
  const table = disk.extents;
  try {
    let i = table.find(start);
    let ahead = i;
    let pos = start;
    while (pos < end && i >= 0 && i < table.count) {
      for (; ahead < table.count && fetcher.held < depth && table.offsetAt(ahead) < end; ahead++) {
        if (!table.isZeroAt(ahead)) fetcher.want(table.chunkIdAt(ahead).toString('hex'));
      }
      const eStart = table.offsetAt(i);
      const segEnd = Math.min(end, eStart + table.lengthAt(i));
      if (table.isZeroAt(i)) {
        yield { offset: pos, length: segEnd - pos, data: undefined };
      } else {
        const id = table.chunkIdAt(i).toString('hex');
        const plain = await fetcher.get(id);
        const from = table.chunkOffsetAt(i) + (pos - eStart);
        yield { offset: pos, length: segEnd - pos, data: plain.subarray(from, from + (segEnd - pos)), hold: () => fetcher.hold(id) };
        fetcher.release(id);
      }
      pos = segEnd;
      i++;
    }
  } finally {
    await fetcher.close();
  }
}

/**
 * Chunks loaded ahead (including those whose writes are in flight): enough to keep the workers, the
 * disk and parallel writes busy; 8 MiB of plaintext at most (more bought no speed, only memory).
 */
function readAhead(chunkSize: number, workerCapacity: number): number {
  return Math.max(2, Math.min(workerCapacity + 4 + FILE_WRITES, Math.floor((8 * 1024 * 1024) / chunkSize)));
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

/** The data writes of a restore: up to the sink's `parallelWrites` in flight, each holding its chunk. */
class WriteWindow {
  private readonly pending = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private readonly limit: number;

  constructor(private readonly sink: RestoreSink) {
    this.limit = Math.max(1, sink.parallelWrites ?? 1);
  }

  /** Starts writing a data segment; resolves once another write may start. Rejects after a failed write. */
  async write(s: Segment): Promise<void> {
    if (this.limit === 1 || !s.hold) return this.sink.write(s.data!, s.offset);
    const release = s.hold();
    const write: Promise<void> = this.sink.write(s.data!, s.offset)
      .catch((error: unknown) => void (this.failure ??= { error }))
      .finally(() => {
        release();
        this.pending.delete(write);
      });
    this.pending.add(write);
    while (this.pending.size >= this.limit) await Promise.race(this.pending);
    if (this.failure) await this.drain();
  }

  /** Waits for every write in flight; rejects with the first failure. */
  async drain(): Promise<void> {
    await this.settled();
    if (this.failure) throw this.failure.error;
  }

  /** Waits for every write in flight, whatever happened. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled(this.pending);
  }
}

/**
 * Sends the walk to a sink, reporting progress. Returns bytes of data and of zeroes. Up to the sink's
 * `parallelWrites` data writes run at once; none is still running when this settles.
 */
export async function restoreInto(
  segments: AsyncIterable<Segment>, sink: RestoreSink, total: number, onProgress?: (p: RestoreProgress) => void, intervalMs = 1000,
): Promise<{ data_bytes: number; zero_bytes: number }> {
  const writes = new WriteWindow(sink);
  let dataBytes = 0;
  let zeroBytes = 0;
  let last = 0;
  try {
    for await (const s of segments) {
      if (s.data) {
        await writes.write(s);
        dataBytes += s.length;
      } else {
        await writeZeroes(sink, s.offset, s.length);
        zeroBytes += s.length;
      }
      const now = Date.now();
      if (onProgress && now - last >= intervalMs) {
        last = now;
        onProgress({ bytes_done: dataBytes + zeroBytes, bytes_total: total });
      }
    }
  } finally {
    await writes.settled();
  }
  await writes.drain();
  onProgress?.({ bytes_done: dataBytes + zeroBytes, bytes_total: total });
  return { data_bytes: dataBytes, zero_bytes: zeroBytes };
}

async function writeZeroes(sink: RestoreSink, offset: number, length: number): Promise<void> {
  if (sink.zero) return sink.zero(offset, length);
  for (let at = 0; at < length;) {
    const part = zeroes(length - at);
    await sink.write(part, offset + at);
    at += part.length;
  }
}

/** A Readable of the bytes in [start, end); every data buffer it emits is its own copy. */
export function rangeStream(segments: AsyncGenerator<Segment>, onEnd: () => Promise<void>): Readable {
  let started = false;
  async function* copies(): AsyncGenerator<Buffer> {
    started = true;
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
  const stream = Readable.from(copies(), { objectMode: false });
  // a stream destroyed before its first read (the client left at once) never enters copies(), so its
  // `finally` would never release what the range holds (the repository's shared lock among others)
  stream.once('close', () => {
    if (!started) onEnd().catch(() => undefined);
  });
  return stream;
}
