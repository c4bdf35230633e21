import {
  CHUNK_ERROR_BIT, ChunkType, REQUEST_HEADER_SIZE, REQUEST_MAGIC, SIMPLE_REPLY_HEADER_SIZE, SIMPLE_REPLY_MAGIC,
  STRUCTURED_REPLY_HEADER_SIZE, STRUCTURED_REPLY_MAGIC,
} from './constants.js';
import { protocolError } from '../nbd-error.js';

/** One transmission-phase request. */
export interface RequestHeader {
  flags: number;
  command: number;
  handle: bigint;
  offset: number;
  length: number;
}

/** Header of a simple reply; for a successful READ without structured replies, the data follows. */
export interface SimpleReplyHeader {
  errno: number;
  handle: bigint;
}

/** Header of one structured reply chunk; `length` bytes of payload follow. */
export interface StructuredReplyHeader {
  flags: number;
  type: number;
  handle: bigint;
  length: number;
}

/** One (length, flags) descriptor of a BLOCK_STATUS chunk; extents follow each other from the request offset. */
export interface ExtentDescriptor {
  length: number;
  flags: number;
}

/** An extent placed in the export. */
export interface Extent {
  offset: number;
  length: number;
  flags: number;
}

/** Payload of an error chunk. */
export interface ErrorChunk {
  errno: number;
  message: string;
  /** Only in NBD_REPLY_TYPE_ERROR_OFFSET. */
  offset?: number;
}

/** Encodes the 28-byte request header. */
export function encodeRequest(req: RequestHeader): Buffer {
  const buf = Buffer.allocUnsafe(REQUEST_HEADER_SIZE);
  buf.writeUInt32BE(REQUEST_MAGIC, 0);
  buf.writeUInt16BE(req.flags, 4);
  buf.writeUInt16BE(req.command, 6);
  buf.writeBigUInt64BE(req.handle, 8);
  buf.writeBigUInt64BE(BigInt(req.offset), 16);
  buf.writeUInt32BE(req.length, 24);
  return buf;
}

/** Parses the 16-byte simple reply header (magic included). */
export function parseSimpleReplyHeader(buf: Buffer): SimpleReplyHeader {
  if (buf.length < SIMPLE_REPLY_HEADER_SIZE || buf.readUInt32BE(0) !== SIMPLE_REPLY_MAGIC) {
    throw protocolError('bad simple reply header');
  }
  return { errno: buf.readUInt32BE(4), handle: buf.readBigUInt64BE(8) };
}

/** Parses the 20-byte structured reply header (magic included). */
export function parseStructuredReplyHeader(buf: Buffer): StructuredReplyHeader {
  if (buf.length < STRUCTURED_REPLY_HEADER_SIZE || buf.readUInt32BE(0) !== STRUCTURED_REPLY_MAGIC) {
    throw protocolError('bad structured reply header');
  }
  return { flags: buf.readUInt16BE(4), type: buf.readUInt16BE(6), handle: buf.readBigUInt64BE(8), length: buf.readUInt32BE(16) };
}

/** Reads a u64 export offset, refusing values JavaScript numbers cannot hold exactly. */
export function readOffset(buf: Buffer, at: number): number {
  const value = buf.readBigUInt64BE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw protocolError(`offset ${value} out of range`);
  return Number(value);
}

/** Parses an OFFSET_HOLE payload: offset and length of a range that reads as zeroes. */
export function parseHoleChunk(payload: Buffer): { offset: number; length: number } {
  if (payload.length !== 12) throw protocolError(`OFFSET_HOLE payload of ${payload.length} bytes`);
  const length = payload.readUInt32BE(8);
  if (length === 0) throw protocolError('OFFSET_HOLE of length 0');
  return { offset: readOffset(payload, 0), length };
}

/** Parses a BLOCK_STATUS payload: the context id, then (length, flags) pairs. */
export function parseBlockStatusChunk(payload: Buffer): { contextId: number; extents: ExtentDescriptor[] } {
  if (payload.length < 12 || (payload.length - 4) % 8 !== 0) {
    throw protocolError(`BLOCK_STATUS payload of ${payload.length} bytes`);
  }
  const extents: ExtentDescriptor[] = [];
  for (let at = 4; at < payload.length; at += 8) {
    extents.push({ length: payload.readUInt32BE(at), flags: payload.readUInt32BE(at + 4) });
  }
  return { contextId: payload.readUInt32BE(0), extents };
}

/** True for chunk types carrying an error (bit 15), including ones this client does not know. */
export function isErrorChunk(type: number): boolean {
  return (type & CHUNK_ERROR_BIT) !== 0;
}

/** Parses an error chunk payload: errno, message and, for ERROR_OFFSET, the offset at fault. */
export function parseErrorChunk(type: number, payload: Buffer): ErrorChunk {
  if (payload.length < 6) throw protocolError(`error chunk of ${payload.length} bytes`);
  const errno = payload.readUInt32BE(0);
  const messageLength = payload.readUInt16BE(4);
  if (6 + messageLength > payload.length) throw protocolError('error chunk message overruns its payload');
  const message = payload.subarray(6, 6 + messageLength).toString('utf8');
  if (errno === 0) throw protocolError('error chunk with errno 0');
  if (type === ChunkType.ERROR_OFFSET) {
    if (payload.length !== 6 + messageLength + 8) throw protocolError('ERROR_OFFSET payload has the wrong length');
    return { errno, message, offset: readOffset(payload, 6 + messageLength) };
  }
  return { errno, message };
}

/**
 * Places the descriptors of one BLOCK_STATUS chunk in the export from `start`, clipped to `end`
 * (servers may describe past the requested range). Throws on a zero-length descriptor, which the
 * protocol forbids and which would stall a caller that loops until covered.
 */
export function placeExtents(start: number, descriptors: readonly ExtentDescriptor[], end: number): Extent[] {
  const out: Extent[] = [];
  let at = start;
  for (const d of descriptors) {
    if (d.length === 0) throw protocolError('BLOCK_STATUS extent of length 0', at);
    if (at >= end) break;
    const length = Math.min(d.length, end - at);
    out.push({ offset: at, length, flags: d.flags });
    at += length;
  }
  return out;
}

/** Joins neighbouring extents with equal flags; the input must be sorted and contiguous where it touches. */
export function mergeExtents(extents: readonly Extent[]): Extent[] {
  const out: Extent[] = [];
  for (const e of extents) {
    const last = out[out.length - 1];
    if (last && last.flags === e.flags && last.offset + last.length === e.offset) last.length += e.length;
    else out.push({ ...e });
  }
  return out;
}
