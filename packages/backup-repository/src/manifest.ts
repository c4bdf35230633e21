import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { EXTENT_BYTES, FORMAT_VERSION, POINT_MAGIC } from './format.js';
import { ExtentTable } from './extent-table.js';
import { RepositoryError } from './repository-error.js';

/** How a disk's map was built: from nothing (`full`) or from the parent point's map (`incremental`). */
export type DiskMode = 'full' | 'incremental';

/** Per-disk facts of a restore point (the manifest's JSON header). */
export interface DiskInfo {
  key: string;
  uuid: string | null;
  capacity: number;
  change_id: string | null;
  mode: DiskMode;
  extent_count: number;
  /** Bytes handed to the writer for this disk (data and zero ranges). */
  bytes_written: number;
  /** Plaintext bytes of chunks this point added to the repository for this disk. */
  bytes_new: number;
}

/** What a point's writer did, summed over its disks. */
export interface PointStats {
  bytes_written: number;
  bytes_zero: number;
  bytes_new: number;
  bytes_stored: number;
  chunks_new: number;
  chunks_reused: number;
  packs_written: number;
}

/** A restore point without its extent tables: what listing returns. */
export interface PointInfo {
  format: number;
  id: string;
  vm: string;
  parent: string | null;
  created_at: string;
  meta: Record<string, unknown>;
  disks: DiskInfo[];
  stats: PointStats;
}

/** A disk of a loaded point: its facts and its full map. */
export interface PointDisk extends DiskInfo {
  extents: ExtentTable;
}

/** A loaded restore point. Every disk's extents cover [0, capacity) exactly. */
export interface PointManifest extends Omit<PointInfo, 'disks'> {
  disks: PointDisk[];
}

/**
 * The manifest file: magic[8] header_length:u32 header(JSON) extent tables (one per disk, in header
 * order) sha256(all before)[32]. Written last and atomically; the checksum catches later damage.
 */
export function encodeManifest(info: PointInfo, tables: readonly ExtentTable[]): Buffer {
  const header = Buffer.from(JSON.stringify(info), 'utf8');
  const lengthField = Buffer.alloc(4);
  lengthField.writeUInt32LE(header.length);
  const body = Buffer.concat([POINT_MAGIC, lengthField, header, ...tables.map((t) => t.records)]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function corrupt(id: string, why: string): RepositoryError {
  return new RepositoryError('MANIFEST_CORRUPT', `restore point ${id}: ${why}`);
}

function parseHeader(id: string, json: string): PointInfo {
  let info: PointInfo;
  try {
    info = JSON.parse(json) as PointInfo;
  } catch (err) {
    throw new RepositoryError('MANIFEST_CORRUPT', `restore point ${id}: header is not JSON`, { cause: err });
  }
  if (info.format !== FORMAT_VERSION) throw new RepositoryError('UNSUPPORTED_FORMAT', `restore point ${id}: format ${info.format}`);
  if (info.id !== id || !Array.isArray(info.disks)) throw corrupt(id, 'header does not describe this point');
  return info;
}

/** Decodes and checks a whole manifest (checksum, header, and that every map covers its disk). */
export function decodeManifest(id: string, buf: Buffer): PointManifest {
  if (buf.length < 44 || !buf.subarray(0, 8).equals(POINT_MAGIC)) throw corrupt(id, 'no manifest header');
  const body = buf.subarray(0, buf.length - 32);
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - 32))) throw corrupt(id, 'checksum mismatch');
  const headerLength = buf.readUInt32LE(8);
  const info = parseHeader(id, buf.toString('utf8', 12, 12 + headerLength));
  let at = 12 + headerLength;
  const disks: PointDisk[] = info.disks.map((d) => {
    const end = at + d.extent_count * EXTENT_BYTES;
    if (end > body.length) throw corrupt(id, `extent table of disk ${d.key} is truncated`);
    const extents = new ExtentTable(body.subarray(at, end));
    extents.assertCovers(d.capacity);
    at = end;
    return { ...d, extents };
  });
  if (at !== body.length) throw corrupt(id, 'trailing bytes after the extent tables');
  return { ...info, disks };
}

/** Reads a manifest file whole and decodes it. */
export async function readManifest(id: string, file: string): Promise<PointManifest> {
  return decodeManifest(id, await readFile(file));
}

/** Reads only the JSON header of a manifest (listing); the checksum is checked by full reads. */
export async function readManifestHeader(id: string, file: string): Promise<PointInfo> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead < 12 || !head.subarray(0, 8).equals(POINT_MAGIC)) throw corrupt(id, 'no manifest header');
    const headerLength = head.readUInt32LE(8);
    let header = head.subarray(12, Math.min(bytesRead, 12 + headerLength));
    if (header.length < headerLength) {
      header = Buffer.alloc(headerLength);
      const r = await fh.read(header, 0, headerLength, 12);
      if (r.bytesRead < headerLength) throw corrupt(id, 'header is truncated');
    }
    return parseHeader(id, header.toString('utf8'));
  } finally {
    await fh.close();
  }
}
