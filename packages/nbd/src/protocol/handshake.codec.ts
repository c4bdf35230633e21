import {
  HandshakeFlag, IHAVEOPT, Info, NBD_MAGIC, OLDSTYLE_MAGIC, OPTION_REPLY_ERROR_BIT, OPTION_REPLY_MAGIC, OptionReply,
} from './constants.js';
import { NbdError, protocolError } from '../nbd-error.js';

/** Bytes of the server greeting of the newstyle handshake. */
export const GREETING_SIZE = 18;

/** Header of one option reply; `length` bytes of data follow it. */
export interface OptionReplyHeader {
  option: number;
  type: number;
  length: number;
}

/** What NBD_REP_INFO carries, for the items this client understands. */
export type InfoItem =
  | { kind: 'export'; size: number; transmissionFlags: number }
  | { kind: 'block-size'; minimum: number; preferred: number; maximum: number }
  | { kind: 'other'; infoType: number };

/** Parses the 18-byte greeting and returns the server's handshake flags; refuses oldstyle and non-fixed servers. */
export function parseGreeting(buf: Buffer): number {
  if (buf.length < GREETING_SIZE) throw protocolError(`greeting of ${buf.length} bytes`);
  if (buf.readBigUInt64BE(0) !== NBD_MAGIC) throw notNewstyle('the peer is not an NBD server');
  const second = buf.readBigUInt64BE(8);
  if (second === OLDSTYLE_MAGIC) throw notNewstyle('the server speaks the oldstyle handshake');
  if (second !== IHAVEOPT) throw notNewstyle('unknown handshake magic');
  const flags = buf.readUInt16BE(16);
  if ((flags & HandshakeFlag.FIXED_NEWSTYLE) === 0) throw notNewstyle('the server lacks fixed newstyle');
  return flags;
}

function notNewstyle(message: string): NbdError {
  return new NbdError(message, { code: 'NOT_NEWSTYLE', transient: false });
}

/** The 4 client flags bytes answering the greeting. */
export function encodeClientFlags(flags: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(flags >>> 0);
  return buf;
}

/** One option request: IHAVEOPT, option, length, data. */
export function encodeOption(option: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(16);
  header.writeBigUInt64BE(IHAVEOPT, 0);
  header.writeUInt32BE(option, 8);
  header.writeUInt32BE(data.length, 12);
  return Buffer.concat([header, data]);
}

/** A string prefixed by its u32 byte length, as options carry export names and queries. */
export function encodeString(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** Data of NBD_OPT_SET_META_CONTEXT / LIST_META_CONTEXT: export name, query count, queries. */
export function encodeMetaContextRequest(exportName: string, queries: readonly string[]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(queries.length);
  return Buffer.concat([encodeString(exportName), count, ...queries.map(encodeString)]);
}

/** Data of NBD_OPT_GO / NBD_OPT_INFO: export name, then the information items requested. */
export function encodeGo(exportName: string, infoRequests: readonly number[] = [Info.BLOCK_SIZE]): Buffer {
  const items = Buffer.alloc(2 + 2 * infoRequests.length);
  items.writeUInt16BE(infoRequests.length, 0);
  infoRequests.forEach((item, i) => items.writeUInt16BE(item, 2 + 2 * i));
  return Buffer.concat([encodeString(exportName), items]);
}

/** Parses the 20-byte header of an option reply. */
export function parseOptionReplyHeader(buf: Buffer): OptionReplyHeader {
  if (buf.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC) throw protocolError('bad option reply magic');
  return { option: buf.readUInt32BE(8), type: buf.readUInt32BE(12), length: buf.readUInt32BE(16) };
}

/** True for option reply types that report an error. */
export function isOptionError(type: number): boolean {
  return (type & OPTION_REPLY_ERROR_BIT) !== 0;
}

const OPTION_ERROR_NAMES = new Map<number, string>(
  Object.entries(OptionReply).filter(([, v]) => isOptionError(v)).map(([k, v]) => [v, `NBD_REP_${k}`]),
);

/** Names an option error type, e.g. `NBD_REP_ERR_UNKNOWN`. */
export function optionErrorName(type: number): string {
  return OPTION_ERROR_NAMES.get(type) ?? `NBD_REP_ERR_0x${(type >>> 0).toString(16)}`;
}

/** Parses NBD_REP_META_CONTEXT data: the id the server gave a context and its name. */
export function parseMetaContextReply(data: Buffer): { id: number; name: string } {
  if (data.length < 4) throw protocolError(`meta context reply of ${data.length} bytes`);
  return { id: data.readUInt32BE(0), name: data.subarray(4).toString('utf8') };
}

/** Parses NBD_REP_INFO data. */
export function parseInfoReply(data: Buffer): InfoItem {
  if (data.length < 2) throw protocolError('empty info reply');
  const infoType = data.readUInt16BE(0);
  if (infoType === Info.EXPORT) {
    if (data.length !== 12) throw protocolError(`export info of ${data.length} bytes`);
    const size = data.readBigUInt64BE(2);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw protocolError(`export size ${size} is too large`);
    return { kind: 'export', size: Number(size), transmissionFlags: data.readUInt16BE(10) };
  }
  if (infoType === Info.BLOCK_SIZE) {
    if (data.length !== 14) throw protocolError(`block size info of ${data.length} bytes`);
    const minimum = data.readUInt32BE(2);
    const preferred = data.readUInt32BE(6);
    const maximum = data.readUInt32BE(10);
    if (minimum < 1 || (minimum & (minimum - 1)) !== 0 || preferred < minimum || maximum < minimum) {
      throw protocolError(`inconsistent block sizes ${minimum}/${preferred}/${maximum}`);
    }
    return { kind: 'block-size', minimum, preferred, maximum };
  }
  return { kind: 'other', infoType };
}
