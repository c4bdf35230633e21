import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { IO_ALIGN } from '@vaultflow/backup-repository';
import type { ByteRange, DiskReader, ReadInto } from '@vaultflow/nbd';
import { TransferError } from './transfer-error.js';

const execFileAsync = promisify(execFile);

/** How {@link LocalFileDiskReader.allocatedExtents} found its answer. */
export type AllocationMapSource = 'qemu-img-map' | 'whole-disk';

/** Options of {@link LocalFileDiskReader.open}. */
export interface LocalFileDiskReaderOptions {
  /**
   * Ask `qemu-img map` (SEEK_DATA/SEEK_HOLE for a raw file) which areas are allocated, the way
   * CBT's `"*"` reports a thin disk. Default true. When false, or when qemu-img is missing or fails,
   * the whole disk is reported (a full then reads everything and the transfer skips the zeroes).
   */
  allocationMap?: boolean;
  /** The qemu-img binary; default `qemu-img` from PATH. */
  qemuImg?: string;
  /** Image format for `qemu-img map`; default `raw`. */
  format?: string;
  /**
   * Read aligned ranges with O_DIRECT, past the page cache (default true): a backup reads each byte
   * once, and filling the page cache is the slowest part of a cold read on our machines. Reads into
   * unaligned buffers, unaligned ranges and file systems without direct I/O are read buffered.
   */
  direct?: boolean;
}

/** One row of `qemu-img map --output=json`. */
interface MapRow {
  start: number;
  length: number;
  data: boolean;
  zero: boolean;
}

/**
 * A DiskReader over a raw disk image on a local path (a flat VMDK, an exported image, a restore):
 * reads straight into the caller's buffer and reports the allocated areas like CBT's `"*"` query,
 * so a full backup of a sparse image never reads its holes. The size is fixed when it is opened.
 */
export class LocalFileDiskReader implements DiskReader {
  private fh: FileHandle | undefined;
  private direct: FileHandle | undefined;
  private source: AllocationMapSource | undefined;
  /** Bytes read with O_DIRECT and through the page cache. */
  readonly bytesRead = { direct: 0, buffered: 0 };

  private constructor(
    readonly file: string, fh: FileHandle, direct: FileHandle | undefined, readonly size: number, private readonly options: LocalFileDiskReaderOptions,
  ) {
    this.fh = fh;
    this.direct = direct;
  }

  /** Opens `file` read-only. Rejects NOT_FOUND when it cannot be opened. */
  static async open(file: string, options: LocalFileDiskReaderOptions = {}): Promise<LocalFileDiskReader> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      throw new TransferError(`disk image ${file} cannot be opened: ${(err as Error).message}`, { code: 'NOT_FOUND', disk: file, cause: err });
    }
    let direct: FileHandle | undefined;
    try {
      const { size } = await fh.stat();
      direct = options.direct === false ? undefined : await open(file, constants.O_RDONLY | constants.O_DIRECT).catch(() => undefined);
      return new LocalFileDiskReader(file, fh, direct, size, options);
    } catch (err) {
      await direct?.close();
      await fh.close();
      throw err;
    }
  }

  /** Where the last {@link allocatedExtents} answer came from. */
  get allocationSource(): AllocationMapSource | undefined {
    return this.source;
  }

  /**
   * Reads exactly `length` bytes at `offset`, into `into.buffer` when given (else a new buffer).
   * Rejects OUT_OF_RANGE outside the image, SHORT_READ when the file shrank, CLOSED after close.
   */
  async read(offset: number, length: number, into?: ReadInto): Promise<Buffer> {
    const fh = this.fh;
    if (!fh) throw new TransferError(`disk image ${this.file} is closed`, { code: 'CLOSED', disk: this.file });
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new TransferError(`range ${offset}+${length} is outside disk image ${this.file} (${this.size} bytes)`, {
        code: 'OUT_OF_RANGE', disk: this.file, offset, length,
      });
    }
    const buffer = into?.buffer ?? Buffer.allocUnsafe(length);
    const base = into?.offset ?? 0;
    if (!Number.isSafeInteger(base) || base < 0 || base + length > buffer.length) {
      throw new TransferError(`a buffer of ${buffer.length} bytes cannot take ${length} bytes at index ${base}`, { code: 'INVALID_ARGUMENT', disk: this.file });
    }
    let done = await this.readDirect(buffer, base, offset, length);
    while (done < length) {
      const { bytesRead } = await fh.read(buffer, base + done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new TransferError(`disk image ${this.file} ended at ${offset + done}, before ${offset + length}`, {
          code: 'SHORT_READ', disk: this.file, offset, length,
        });
      }
      done += bytesRead;
      this.bytesRead.buffered += bytesRead;
    }
    return buffer.subarray(base, base + length);
  }

  /** Reads what it can of an aligned range with O_DIRECT; returns the bytes read (0: read it buffered). */
  private async readDirect(buffer: Buffer, base: number, offset: number, length: number): Promise<number> {
    const fh = this.direct;
    if (!fh || offset % IO_ALIGN !== 0 || length % IO_ALIGN !== 0) return 0;
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await fh.read(buffer, base + done, length - done, offset + done);
        done += bytesRead;
        if (bytesRead === 0 || bytesRead % IO_ALIGN !== 0) break; // end of file or a partial block: the rest goes buffered
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      // this buffer is not aligned: read buffered
    }
    this.bytesRead.direct += done;
    return done;
  }

  /**
   * The areas that may hold data, sorted, disjoint and merged; holes and areas the file system knows
   * to be zero are left out. Falls back to the whole disk when the map is off or unavailable.
   */
  async allocatedExtents(): Promise<ByteRange[]> {
    if (this.options.allocationMap !== false) {
      const rows = await this.mapRows();
      if (rows) {
        this.source = 'qemu-img-map';
        return allocatedFromMap(rows, this.size);
      }
    }
    this.source = 'whole-disk';
    return this.size > 0 ? [{ offset: 0, length: this.size }] : [];
  }

  /** Closes the file. Idempotent; reads after it reject CLOSED. */
  async close(): Promise<void> {
    const fh = this.fh;
    const direct = this.direct;
    this.fh = undefined;
    this.direct = undefined;
    await direct?.close();
    await fh?.close();
  }

  private async mapRows(): Promise<MapRow[] | undefined> {
    try {
      const { stdout } = await execFileAsync(
        this.options.qemuImg ?? 'qemu-img',
        ['map', '-f', this.options.format ?? 'raw', '--output=json', this.file],
        { maxBuffer: 256 * 1024 * 1024 },
      );
      const rows = JSON.parse(stdout) as unknown;
      return Array.isArray(rows) ? (rows as MapRow[]) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Merged [start, start+length) of the rows that hold data and are not known zeroes, clipped to `size`. */
export function allocatedFromMap(rows: readonly MapRow[], size: number): ByteRange[] {
  const data: ByteRange[] = [];
  for (const r of rows) {
    if (!r.data || r.zero || !Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.length)) continue;
    const from = Math.max(0, r.start);
    const to = Math.min(size, r.start + r.length);
    if (to > from) data.push({ offset: from, length: to - from });
  }
  data.sort((a, b) => a.offset - b.offset);
  const out: ByteRange[] = [];
  for (const e of data) {
    const last = out[out.length - 1];
    if (last && last.offset + last.length >= e.offset) last.length = Math.max(last.length, e.offset + e.length - last.offset);
    else out.push({ ...e });
  }
  return out;
}
