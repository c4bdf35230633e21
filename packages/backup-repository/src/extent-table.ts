import { EXTENT_BYTES, EXTENT_FLAG_ZERO, ID_BYTES, readU64, writeU64 } from './format.js';
import { RepositoryError } from './repository-error.js';

/** One range of a disk: either zeroes or bytes `chunk_offset ..` of a chunk's plaintext. */
export interface Extent {
  offset: number;
  length: number;
  /** Chunk id (sha256 hex); absent for a zero range. */
  chunk?: string;
  /** Where in the chunk's plaintext this range starts (non-zero once an incremental cut a chunk). */
  chunk_offset?: number;
  zero?: true;
}

/**
 * A disk's map from offsets to chunks, as stored in a manifest: sorted, contiguous records of
 * EXTENT_BYTES each (offset:u64 length:u64 chunk_offset:u32 flags:u32 chunk[32]). Kept binary so a
 * multi-terabyte disk costs bytes, not millions of objects.
 */
export class ExtentTable {
  constructor(readonly records: Buffer) {
    if (records.length % EXTENT_BYTES !== 0) throw new RepositoryError('MANIFEST_CORRUPT', 'extent table has a partial record');
  }

  get count(): number {
    return this.records.length / EXTENT_BYTES;
  }

  offsetAt(i: number): number {
    return readU64(this.records, i * EXTENT_BYTES);
  }

  lengthAt(i: number): number {
    return readU64(this.records, i * EXTENT_BYTES + 8);
  }

  chunkOffsetAt(i: number): number {
    return this.records.readUInt32LE(i * EXTENT_BYTES + 16);
  }

  isZeroAt(i: number): boolean {
    return (this.records.readUInt32LE(i * EXTENT_BYTES + 20) & EXTENT_FLAG_ZERO) !== 0;
  }

  /** The raw 32-byte chunk id of record `i` (a view; all zero for a zero range). */
  chunkIdAt(i: number): Buffer {
    const at = i * EXTENT_BYTES + 24;
    return this.records.subarray(at, at + ID_BYTES);
  }

  get(i: number): Extent {
    const base = { offset: this.offsetAt(i), length: this.lengthAt(i) };
    if (this.isZeroAt(i)) return { ...base, zero: true };
    return { ...base, chunk: this.chunkIdAt(i).toString('hex'), chunk_offset: this.chunkOffsetAt(i) };
  }

  *[Symbol.iterator](): IterableIterator<Extent> {
    for (let i = 0; i < this.count; i++) yield this.get(i);
  }

  /** Index of the record containing `offset`, or -1 when it lies past the end. */
  find(offset: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = this.offsetAt(mid);
      if (offset < start) hi = mid - 1;
      else if (offset >= start + this.lengthAt(mid)) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Throws MANIFEST_CORRUPT unless the records cover [0, capacity) exactly, in order. */
  assertCovers(capacity: number): void {
    let pos = 0;
    for (let i = 0; i < this.count; i++) {
      const length = this.lengthAt(i);
      if (this.offsetAt(i) !== pos || length <= 0) {
        throw new RepositoryError('MANIFEST_CORRUPT', `extent ${i} does not continue at offset ${pos}`);
      }
      pos += length;
    }
    if (pos !== capacity) throw new RepositoryError('MANIFEST_CORRUPT', `extents end at ${pos}, capacity is ${capacity}`);
  }

  /** Distinct chunk ids referenced (hex). */
  chunkIds(into = new Set<string>()): Set<string> {
    for (let i = 0; i < this.count; i++) if (!this.isZeroAt(i)) into.add(this.chunkIdAt(i).toString('hex'));
    return into;
  }

  /** A table of one zero extent (a blank disk), or empty for capacity 0. */
  static zero(capacity: number): ExtentTable {
    const b = new ExtentTableBuilder(1);
    if (capacity > 0) b.pushZero(0, capacity);
    return b.build();
  }
}

/** Appends extent records into a growing buffer. Adjacent zero ranges are merged. */
export class ExtentTableBuilder {
  private buf: Buffer;
  private n = 0;

  constructor(initialRecords = 64) {
    this.buf = Buffer.alloc(Math.max(1, initialRecords) * EXTENT_BYTES);
  }

  get count(): number {
    return this.n;
  }

  pushZero(offset: number, length: number): void {
    if (length <= 0) return;
    const last = this.n - 1;
    if (last >= 0) {
      const at = last * EXTENT_BYTES;
      const lastEnd = readU64(this.buf, at) + readU64(this.buf, at + 8);
      if ((this.buf.readUInt32LE(at + 20) & EXTENT_FLAG_ZERO) !== 0 && lastEnd === offset) {
        writeU64(this.buf, readU64(this.buf, at + 8) + length, at + 8);
        return;
      }
    }
    this.pushRecord(offset, length, 0, EXTENT_FLAG_ZERO, undefined);
  }

  pushChunk(offset: number, length: number, chunk: Uint8Array, chunkOffset = 0): void {
    if (length <= 0) return;
    this.pushRecord(offset, length, chunkOffset, 0, chunk);
  }

  /** Copies record `i` of `table`, narrowed to [from, to). */
  pushSlice(table: ExtentTable, i: number, from: number, to: number): void {
    if (to <= from) return;
    if (table.isZeroAt(i)) this.pushZero(from, to - from);
    else this.pushChunk(from, to - from, table.chunkIdAt(i), table.chunkOffsetAt(i) + (from - table.offsetAt(i)));
  }

  build(): ExtentTable {
    return new ExtentTable(this.buf.subarray(0, this.n * EXTENT_BYTES));
  }

  private pushRecord(offset: number, length: number, chunkOffset: number, flags: number, chunk: Uint8Array | undefined): void {
    if ((this.n + 1) * EXTENT_BYTES > this.buf.length) {
      const grown = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(grown);
      this.buf = grown;
    }
    const at = this.n * EXTENT_BYTES;
    writeU64(this.buf, offset, at);
    writeU64(this.buf, length, at + 8);
    this.buf.writeUInt32LE(chunkOffset, at + 16);
    this.buf.writeUInt32LE(flags, at + 20);
    if (chunk) this.buf.set(chunk, at + 24);
    else this.buf.fill(0, at + 24, at + EXTENT_BYTES);
    this.n++;
  }
}

/**
 * Sorts new extents by offset and rejects overlaps: a point may write each byte once.
 * Returns a table view over the same records.
 */
export function sortExtents(table: ExtentTable, diskKey: string): ExtentTable {
  const order = Array.from({ length: table.count }, (_, i) => i).sort((a, b) => table.offsetAt(a) - table.offsetAt(b));
  const b = new ExtentTableBuilder(table.count);
  let end = 0;
  for (const i of order) {
    const offset = table.offsetAt(i);
    if (offset < end) throw new RepositoryError('INVALID_ARGUMENT', `disk ${diskKey}: writes overlap at offset ${offset}`);
    end = offset + table.lengthAt(i);
    b.pushSlice(table, i, offset, end);
  }
  return b.build();
}

/**
 * The disk map of a new point: `base` (the parent's map, or blank for a full) overlaid with the
 * sorted, disjoint `changes`, cut or extended to `capacity` (bytes past the base's end read as
 * zero). One pass over both tables.
 */
export function overlay(base: ExtentTable, changes: ExtentTable, capacity: number): ExtentTable {
  const out = new ExtentTableBuilder(base.count + 2 * changes.count + 1);
  let bi = 0;
  let pos = 0;
  const fillFromBase = (to: number): void => {
    while (pos < to) {
      while (bi < base.count && base.offsetAt(bi) + base.lengthAt(bi) <= pos) bi++;
      if (bi >= base.count) {
        out.pushZero(pos, to - pos);
        pos = to;
        return;
      }
      const end = Math.min(to, base.offsetAt(bi) + base.lengthAt(bi));
      out.pushSlice(base, bi, pos, end);
      pos = end;
    }
  };
  for (let ci = 0; ci < changes.count && pos < capacity; ci++) {
    const start = changes.offsetAt(ci);
    if (start >= capacity) break;
    fillFromBase(start);
    const end = Math.min(capacity, start + changes.lengthAt(ci));
    out.pushSlice(changes, ci, start, end);
    pos = end;
  }
  fillFromBase(capacity);
  return out.build();
}
