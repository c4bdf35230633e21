import type { ByteRange, ReadInto } from '@vaultflow/nbd';
import { DEFAULT_READ_CONCURRENCY } from './cbt-planner.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { DEFAULT_STRIPES, ReadStripes } from './read-stripes.js';
import { TransferError } from './transfer-error.js';

/**
 * What a transfer needs from a disk transport: a DiskReader's `read`. Readers that can fill the
 * caller's buffer (`into`: NbdDiskReader, HttpFolderReader) do; others may ignore it and return their
 * own buffer. The transfer always uses the returned buffer.
 */
export interface ExtentReader {
  read(offset: number, length: number, into?: ReadInto): Promise<Buffer>;
}

/** What a transfer needs from a restore point being written: PointWriter fits as it is. */
export interface ExtentWriter {
  /** Stores data at a disk offset; may keep `data` only until it resolves. */
  writeExtent(diskKey: string, offset: number, data: Uint8Array): Promise<void>;
  /** Records a range that reads as zeroes, storing nothing. */
  zeroExtent(diskKey: string, offset: number, length: number): void;
}

/** Progress of one disk, as the job's progress reports it. */
export interface TransferProgress {
  /** Bytes read and handed to the writer. */
  bytes_done: number;
  /** Bytes of all planned reads. */
  bytes_total: number;
}

/** Options of {@link transferDisk}. */
export interface TransferDiskOptions {
  reader: ExtentReader;
  /** Planned reads (see planReads): disjoint, each at most the pool's buffer size. */
  reads: readonly ByteRange[];
  /**
   * Ranges known to read as zeroes (the transport's block status, see planDiskReads), disjoint from
   * `reads`: recorded with zeroExtent before any read, never read.
   */
  holes?: readonly ByteRange[];
  /** The point being written, e.g. a PointWriter with this disk already added. */
  writer: ExtentWriter;
  /** The disk's key in the point. */
  diskKey: string;
  /** A name for error messages (e.g. the datastore path); default the key. */
  diskName?: string;
  /** Reads in flight at once; default DEFAULT_READ_CONCURRENCY (16). */
  concurrency?: number;
  /**
   * Places of the disk read at once (see ReadStripes): the reads are cut into this many stripes of
   * about equal bytes and the reads in flight dealt among them. Default DEFAULT_STRIPES (4); 1 reads
   * in plan order.
   */
  stripes?: number;
  /** Stops the transfer between reads. */
  signal?: AbortSignal;
  /** Called every `progressIntervalMs` while running, and once at the end. */
  onProgress?: (p: TransferProgress) => void;
  /** Default 2000 ms. */
  progressIntervalMs?: number;
  /** Buffers to read into; default a pool of `concurrency` buffers of the largest read. */
  pool?: ReadBufferPool;
}

/** What a finished transfer did. */
export interface TransferResult {
  /** Bytes read from the disk (the sum of the planned reads). */
  bytesRead: number;
  /** Bytes handed to writeExtent (reads that held some non-zero byte). */
  bytesData: number;
  /** Bytes of all-zero reads, recorded with zeroExtent and never stored. */
  bytesZero: number;
  /** Bytes of the `holes` option, recorded with zeroExtent without reading them. */
  bytesHoles: number;
  reads: number;
}

let zeroes = Buffer.alloc(0);

function isAllZero(data: Buffer): boolean {
  if (zeroes.length < data.length) zeroes = Buffer.alloc(data.length);
  return data.equals(zeroes.subarray(0, data.length));
}

/**
 * Copies the planned reads of one disk into a restore point: reads up to `concurrency` extents at once
 * into reused buffers, from `stripes` places of the disk, records all-zero reads with zeroExtent (never
 * stored), writes the others with writeExtent. Reads complete in any order; each byte is written once.
 *
 * The signal is checked before every read, so an abort stops the transfer within one read per worker;
 * reads in flight are awaited and their data dropped. A caller that must not wait for a stalled read closes
 * the reader on abort (NbdDiskReader and HttpFolderReader then reject reads in flight), which still ends in
 * `ABORTED`. On any rejection (`ABORTED`, `READ_FAILED` naming disk and offset, or the writer's own error)
 * no read or write of this call is still running: the caller can then abort the point (PointWriter.abort).
 */
export async function transferDisk(opts: TransferDiskOptions): Promise<TransferResult> {
  const { reader, reads, writer, diskKey, signal } = opts;
  const disk = opts.diskName ?? diskKey;
  const concurrency = opts.concurrency ?? DEFAULT_READ_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new TransferError(`concurrency must be a positive integer, got ${concurrency}`, { code: 'INVALID_ARGUMENT' });
  }
  const stripeCount = opts.stripes ?? DEFAULT_STRIPES;
  if (!Number.isSafeInteger(stripeCount) || stripeCount < 1) {
    throw new TransferError(`stripes must be a positive integer, got ${stripeCount}`, { code: 'INVALID_ARGUMENT' });
  }
  let bytesTotal = 0;
  let largest = 0;
  for (const r of reads) {
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.offset < 0 || r.length < 1) {
      throw new TransferError(`disk ${disk}: bad read ${r.offset}+${r.length}`, { code: 'INVALID_ARGUMENT', disk });
    }
    bytesTotal += r.length;
    largest = Math.max(largest, r.length);
  }
  const pool = opts.pool ?? new ReadBufferPool(Math.max(1, largest), concurrency);
  if (pool.bufferSize < largest) {
    throw new TransferError(`disk ${disk}: a read of ${largest} bytes does not fit the pool's ${pool.bufferSize}-byte buffers`, { code: 'INVALID_ARGUMENT', disk });
  }
  const aborted = () => new TransferError(`transfer of disk ${disk} aborted`, { code: 'ABORTED', disk, cause: signal?.reason });
  if (signal?.aborted) throw aborted();

  const result: TransferResult = { bytesRead: 0, bytesData: 0, bytesZero: 0, bytesHoles: 0, reads: 0 };
  for (const h of opts.holes ?? []) {
    if (!Number.isSafeInteger(h.offset) || !Number.isSafeInteger(h.length) || h.offset < 0 || h.length < 1) {
      throw new TransferError(`disk ${disk}: bad hole ${h.offset}+${h.length}`, { code: 'INVALID_ARGUMENT', disk });
    }
    writer.zeroExtent(diskKey, h.offset, h.length);
    result.bytesHoles += h.length;
  }
  let done = 0;
  const queue = new ReadStripes(reads, stripeCount);
  let failure: unknown;
  const report = () => opts.onProgress?.({ bytes_done: done, bytes_total: bytesTotal });
  const timer = opts.onProgress ? setInterval(report, opts.progressIntervalMs ?? 2000) : undefined;
  timer?.unref();

  const worker = async (lane: number): Promise<void> => {
    while (failure === undefined) {
      if (signal?.aborted) {
        failure ??= aborted();
        return;
      }
      const r = queue.next(lane);
      if (!r) return;
      const buf = pool.acquire();
      try {
        let data: Buffer;
        try {
          data = await reader.read(r.offset, r.length, { buffer: buf });
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new TransferError(`disk ${disk}: reading ${r.length} bytes at offset ${r.offset} failed: ${msg}`, {
            code: 'READ_FAILED', disk, offset: r.offset, length: r.length, cause: err,
            transient: (err as { transient?: unknown } | null)?.transient === true,
          });
        }
        if (data.length !== r.length) {
          throw new TransferError(`disk ${disk}: a read at offset ${r.offset} returned ${data.length} bytes, not ${r.length}`, {
            code: 'READ_FAILED', disk, offset: r.offset, length: r.length,
          });
        }
        result.bytesRead += r.length;
        result.reads++;
        if (failure !== undefined || signal?.aborted) continue; // the loop head reports the abort
        if (isAllZero(data)) {
          writer.zeroExtent(diskKey, r.offset, r.length);
          result.bytesZero += r.length;
        } else {
          await writer.writeExtent(diskKey, r.offset, data);
          result.bytesData += r.length;
        }
        done += r.length;
      } catch (err) {
        failure ??= signal?.aborted ? aborted() : err; // a read cut short by the abort is not a read error
      } finally {
        pool.release(buf);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, reads.length) }, (_, lane) => worker(lane)));
  } finally {
    if (timer) clearInterval(timer);
  }
  if (failure !== undefined) throw failure;
  report();
  return result;
}
