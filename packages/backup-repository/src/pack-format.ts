import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { readFully } from './atomic-file.js';
import {
  ID_BYTES, PACK_ENTRY_BYTES, PACK_FLAG_COMPRESSED, PACK_FOOTER_BYTES, PACK_MAGIC,
} from './format.js';
import { RepositoryError } from './repository-error.js';

/** Where a chunk lives inside a pack. */
export interface PackEntry {
  /** sha256 of the plaintext, hex. */
  id: string;
  offset: number;
  /** Bytes in the pack (compressed or raw). */
  stored_length: number;
  /** Plaintext bytes. */
  raw_length: number;
  compressed: boolean;
}

/** Encodes one pack index entry at `at`. */
export function writePackEntry(buf: Buffer, at: number, id: Uint8Array, e: Omit<PackEntry, 'id'>): void {
  buf.set(id.subarray(0, ID_BYTES), at);
  buf.writeUInt32LE(e.offset, at + 32);
  buf.writeUInt32LE(e.stored_length, at + 36);
  buf.writeUInt32LE(e.raw_length, at + 40);
  buf.writeUInt32LE(e.compressed ? PACK_FLAG_COMPRESSED : 0, at + 44);
}

/** Decodes one pack index entry at `at`. */
export function readPackEntry(buf: Buffer, at: number): PackEntry {
  return {
    id: buf.toString('hex', at, at + ID_BYTES),
    offset: buf.readUInt32LE(at + 32),
    stored_length: buf.readUInt32LE(at + 36),
    raw_length: buf.readUInt32LE(at + 40),
    compressed: (buf.readUInt32LE(at + 44) & PACK_FLAG_COMPRESSED) !== 0,
  };
}

/** The trailer written after a pack's chunks: its entries, then a footer sealing them. */
export function encodePackTrailer(entries: Buffer): Buffer {
  const count = entries.length / PACK_ENTRY_BYTES;
  const footer = Buffer.alloc(PACK_FOOTER_BYTES);
  createHash('sha256').update(entries).digest().copy(footer, 0);
  footer.writeUInt32LE(count, 32);
  PACK_MAGIC.copy(footer, 40);
  return Buffer.concat([entries, footer]);
}

/**
 * Reads the index a pack carries after its chunks (used when the repository index is missing or
 * does not cover the pack). Throws PACK_CORRUPT when the trailer fails its checks.
 */
export async function readPackTrailer(file: string): Promise<PackEntry[]> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size < PACK_FOOTER_BYTES) throw new RepositoryError('PACK_CORRUPT', `${file}: too short for a pack`);
    const footer = Buffer.alloc(PACK_FOOTER_BYTES);
    await readFully(fh, footer, PACK_FOOTER_BYTES, size - PACK_FOOTER_BYTES);
    if (!footer.subarray(40).equals(PACK_MAGIC)) throw new RepositoryError('PACK_CORRUPT', `${file}: no pack footer`);
    const count = footer.readUInt32LE(32);
    const entriesLength = count * PACK_ENTRY_BYTES;
    if (entriesLength + PACK_FOOTER_BYTES > size) throw new RepositoryError('PACK_CORRUPT', `${file}: bad entry count`);
    const entries = Buffer.alloc(entriesLength);
    await readFully(fh, entries, entriesLength, size - PACK_FOOTER_BYTES - entriesLength);
    if (!createHash('sha256').update(entries).digest().equals(footer.subarray(0, 32))) {
      throw new RepositoryError('PACK_CORRUPT', `${file}: pack index checksum mismatch`);
    }
    const dataEnd = size - PACK_FOOTER_BYTES - entriesLength;
    const out: PackEntry[] = [];
    for (let at = 0; at < entriesLength; at += PACK_ENTRY_BYTES) {
      const e = readPackEntry(entries, at);
      if (e.offset + e.stored_length > dataEnd) throw new RepositoryError('PACK_CORRUPT', `${file}: entry past the data`);
      out.push(e);
    }
    return out;
  } finally {
    await fh.close();
  }
}
