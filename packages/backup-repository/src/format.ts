/** Layout constants and little-endian helpers shared by the on-disk codecs (docs/repository-format.md). */
import { randomBytes } from 'node:crypto';

export const FORMAT_VERSION = 1;

export const CONFIG_FILE = 'config.json';
export const PACKS_DIR = 'packs';
export const INDEX_DIR = 'index';
export const POINTS_DIR = 'points';
export const LOCKS_DIR = 'locks';
/** Present while points were deleted since the last prune: their chunks may be unused. */
export const PRUNE_WANTED_FILE = 'prune-wanted';

export const PACK_SUFFIX = '.pack';
export const INDEX_SUFFIX = '.idx';
export const POINT_SUFFIX = '.point';
export const LOCK_SUFFIX = '.lock';
/** Files being written end in this; only prune (under the exclusive lock) removes leftovers. */
export const TEMP_SUFFIX = '.tmp';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Defaults chosen at `init` and stored in config.json. */
export const DEFAULT_CHUNK_SIZE = 1 * MiB;
export const DEFAULT_ZERO_BLOCK = 64 * KiB;
export const DEFAULT_PACK_SIZE = 256 * MiB;
export const ZSTD_LEVEL = 1;

/** sha256 length: chunk ids and file checksums. */
export const ID_BYTES = 32;

/** Pack index entry: id[32] offset:u32 stored_length:u32 raw_length:u32 flags:u32. */
export const PACK_ENTRY_BYTES = 48;
/** Pack footer: sha256(entries)[32] count:u32 reserved:u32 magic[8]. */
export const PACK_FOOTER_BYTES = 48;
export const PACK_MAGIC = Buffer.from('VFPACK01', 'latin1');
export const PACK_FLAG_COMPRESSED = 1;

export const INDEX_MAGIC = Buffer.from('VFINDEX1', 'latin1');
export const POINT_MAGIC = Buffer.from('VFPOINT1', 'latin1');

/** Manifest extent record: offset:u64 length:u64 chunk_offset:u32 flags:u32 chunk[32]. */
export const EXTENT_BYTES = 56;
export const EXTENT_FLAG_ZERO = 1;

const TWO_32 = 0x1_0000_0000;

/** Writes a non-negative safe integer as u64 little endian. */
export function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32LE(value % TWO_32, at);
  buf.writeUInt32LE(Math.floor(value / TWO_32), at + 4);
}

/** Reads a u64 little endian that must fit in a safe integer. */
export function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32;
}

/** A random lowercase hex id of `bytes` bytes. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}
