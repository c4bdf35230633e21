import {
  ChunkType, ReplyFlag, SIMPLE_REPLY_HEADER_SIZE, SIMPLE_REPLY_MAGIC, STRUCTURED_REPLY_HEADER_SIZE, STRUCTURED_REPLY_MAGIC,
} from './constants.js';
import {
  type ErrorChunk, type ExtentDescriptor, isErrorChunk, parseBlockStatusChunk, parseErrorChunk, parseHoleChunk,
  parseSimpleReplyHeader, parseStructuredReplyHeader, readOffset,
} from './transmission.codec.js';
import { protocolError } from '../nbd-error.js';

/** Where the data of one READ request lands: export range [offset, offset+length) maps to buffer[bufferOffset...]. */
export interface ReadDestination {
  buffer: Buffer;
  bufferOffset: number;
  offset: number;
  length: number;
}

/** A structured reply chunk after decoding; data and hole bytes are already in the destination buffer. */
export type ReplyChunk =
  | { type: 'none' }
  | { type: 'data'; offset: number; length: number }
  | { type: 'hole'; offset: number; length: number }
  | { type: 'block-status'; contextId: number; extents: ExtentDescriptor[] }
  | ({ type: 'error'; chunkType: number } & ErrorChunk);

/** What the decoder needs to know about requests in flight, and where it reports replies. */
export interface ReplyRouter {
  /**
   * The destination for data of request `handle`: a ReadDestination for READ, null for commands
   * without data, undefined when no such request is in flight (a protocol violation).
   */
  destination(handle: bigint): ReadDestination | null | undefined;
  /** A complete simple reply (after its data, for a successful READ). */
  simpleReply(handle: bigint, errno: number): void;
  /** One structured chunk; `done` marks the last chunk of its request. */
  chunk(handle: bigint, chunk: ReplyChunk, done: boolean): void;
}

const HEADER = 0, SIMPLE_DATA = 1, DATA_OFFSET = 2, DATA = 3, PAYLOAD = 4;

/** Default ceiling for the payload of a non-data chunk (block status, errors). */
export const DEFAULT_MAX_CHUNK_PAYLOAD = 64 * 1024 * 1024;

/**
 * Incremental parser of the transmission-phase byte stream. Bytes may arrive split anywhere; READ data
 * is copied straight from the input into its destination, and nothing of the input is retained, so
 * the caller may reuse its input buffer after push() returns. Throws an NbdError (code PROTOCOL) on
 * any violation, after which the stream cannot be resynchronised: drop the connection.
 */
export class ReplyDecoder {
  private state = HEADER;
  private readonly scratch = Buffer.alloc(32);
  private need = 4;
  private fill = 0;
  private simple = { errno: 0, handle: 0n };
  private header = { flags: 0, type: 0, handle: 0n, length: 0 };
  private dest: ReadDestination | null = null;
  private writeAt = 0;
  private remaining = 0;
  private dataOffset = 0;
  private payload: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly router: ReplyRouter, private readonly maxChunkPayload = DEFAULT_MAX_CHUNK_PAYLOAD) {}

  /** True when the decoder sits between replies (no partial reply buffered). */
  get idle(): boolean {
    return this.state === HEADER && this.fill === 0;
  }

  /** Feeds bytes from the socket. */
  push(input: Buffer): void {
    if (this.failed) throw protocolError('decoder used after a protocol error');
    try {
      this.consume(input);
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  private consume(input: Buffer): void {
    let pos = 0;
    while (pos < input.length) {
      if (this.state === HEADER || this.state === DATA_OFFSET) {
        const n = Math.min(this.need - this.fill, input.length - pos);
        input.copy(this.scratch, this.fill, pos, pos + n);
        this.fill += n;
        pos += n;
        if (this.fill === this.need) this.state === HEADER ? this.onHeaderBytes() : this.onDataOffset();
      } else if (this.state === SIMPLE_DATA || this.state === DATA) {
        const n = Math.min(this.remaining, input.length - pos);
        input.copy(this.dest!.buffer, this.writeAt, pos, pos + n);
        this.writeAt += n;
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.onDataEnd();
      } else {
        const n = Math.min(this.remaining, input.length - pos);
        input.copy(this.payload, this.payload.length - this.remaining, pos, pos + n);
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.finishChunk(this.payload);
      }
    }
  }

  private onHeaderBytes(): void {
    if (this.need === 4) {
      const magic = this.scratch.readUInt32BE(0);
      if (magic === SIMPLE_REPLY_MAGIC) this.need = SIMPLE_REPLY_HEADER_SIZE;
      else if (magic === STRUCTURED_REPLY_MAGIC) this.need = STRUCTURED_REPLY_HEADER_SIZE;
      else throw protocolError(`bad reply magic 0x${magic.toString(16)}`);
      return;
    }
    if (this.need === SIMPLE_REPLY_HEADER_SIZE) this.onSimpleHeader();
    else this.onStructuredHeader();
  }

  private lookup(handle: bigint): ReadDestination | null {
    const dest = this.router.destination(handle);
    if (dest === undefined) throw protocolError(`reply for handle ${handle}, which is not in flight`);
    return dest;
  }

  private onSimpleHeader(): void {
    this.simple = parseSimpleReplyHeader(this.scratch);
    const dest = this.lookup(this.simple.handle);
    if (this.simple.errno === 0 && dest && dest.length > 0) {
      this.dest = dest;
      this.writeAt = dest.bufferOffset;
      this.remaining = dest.length;
      this.state = SIMPLE_DATA;
      return;
    }
    this.resetHeader();
    this.router.simpleReply(this.simple.handle, this.simple.errno);
  }

  private onStructuredHeader(): void {
    this.header = parseStructuredReplyHeader(this.scratch);
    const dest = this.lookup(this.header.handle);
    const { type, length } = this.header;
    if (type === ChunkType.OFFSET_DATA) {
      if (!dest) throw protocolError('OFFSET_DATA for a request without data');
      if (length <= 8) throw protocolError(`OFFSET_DATA chunk of ${length} bytes`);
      this.dest = dest;
      this.state = DATA_OFFSET;
      this.need = 8;
      this.fill = 0;
      return;
    }
    if (length > this.maxChunkPayload) throw protocolError(`chunk payload of ${length} bytes`);
    this.dest = dest;
    if (length === 0) return this.finishChunk(Buffer.alloc(0));
    this.payload = Buffer.allocUnsafe(length);
    this.remaining = length;
    this.state = PAYLOAD;
  }

  private onDataOffset(): void {
    const offset = readOffset(this.scratch, 0);
    const length = this.header.length - 8;
    const dest = this.dest;
    this.checkInside(dest, offset, length, 'OFFSET_DATA');
    this.dataOffset = offset;
    this.writeAt = dest.bufferOffset + (offset - dest.offset);
    this.remaining = length;
    this.state = DATA;
  }

  private checkInside(
    dest: ReadDestination | null, offset: number, length: number, what: string,
  ): asserts dest is ReadDestination {
    if (!dest) throw protocolError(`${what} for a request without data`, offset);
    if (offset < dest.offset || offset + length > dest.offset + dest.length) {
      throw protocolError(`${what} [${offset}, +${length}) outside the request [${dest.offset}, +${dest.length})`, offset);
    }
  }

  private onDataEnd(): void {
    const wasSimple = this.state === SIMPLE_DATA;
    this.resetHeader();
    if (wasSimple) return this.router.simpleReply(this.simple.handle, 0);
    const { handle, flags, length } = this.header;
    this.router.chunk(handle, { type: 'data', offset: this.dataOffset, length: length - 8 }, (flags & ReplyFlag.DONE) !== 0);
  }

  private finishChunk(payload: Buffer): void {
    const { handle, flags, type } = this.header;
    const dest = this.dest;
    this.resetHeader();
    let chunk: ReplyChunk;
    if (type === ChunkType.NONE) {
      if (payload.length !== 0) throw protocolError('NONE chunk with a payload');
      chunk = { type: 'none' };
    } else if (type === ChunkType.OFFSET_HOLE) {
      const hole = parseHoleChunk(payload);
      this.checkInside(dest, hole.offset, hole.length, 'OFFSET_HOLE');
      const at = dest.bufferOffset + (hole.offset - dest.offset);
      dest.buffer.fill(0, at, at + hole.length);
      chunk = { type: 'hole', ...hole };
    } else if (type === ChunkType.BLOCK_STATUS) {
      chunk = { type: 'block-status', ...parseBlockStatusChunk(payload) };
    } else if (isErrorChunk(type)) {
      chunk = { type: 'error', chunkType: type, ...parseErrorChunk(type, payload) };
    } else {
      throw protocolError(`unknown chunk type ${type}`);
    }
    this.router.chunk(handle, chunk, (flags & ReplyFlag.DONE) !== 0);
  }

  private resetHeader(): void {
    this.state = HEADER;
    this.need = 4;
    this.fill = 0;
    this.dest = null;
    this.payload = Buffer.alloc(0);
  }
}
