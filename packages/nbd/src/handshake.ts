import { ClientFlag, HandshakeFlag, Info, Option, OptionReply, OPTION_REPLY_HEADER_SIZE } from './protocol/constants.js';
import {
  encodeClientFlags, encodeGo, encodeMetaContextRequest, encodeOption, GREETING_SIZE, isOptionError, optionErrorName,
  parseGreeting, parseInfoReply, parseMetaContextReply, parseOptionReplyHeader,
} from './protocol/handshake.codec.js';
import { NbdError, protocolError } from './nbd-error.js';

/** Block size constraints advertised by the server (NBD_INFO_BLOCK_SIZE). */
export interface BlockSize {
  minimum: number;
  preferred: number;
  maximum: number;
}

/** What the handshake settled. */
export interface Negotiated {
  handshakeFlags: number;
  size: number;
  transmissionFlags: number;
  blockSize: BlockSize | undefined;
  structuredReplies: boolean;
  /** Meta contexts the server agreed to, by name, with the id its BLOCK_STATUS chunks carry. */
  contexts: ReadonlyMap<string, number>;
}

/** Byte stream of the handshake. */
export interface HandshakeIo {
  read(n: number): Promise<Buffer>;
  write(data: Buffer): void;
}

/** What the client asks for. */
export interface HandshakeRequest {
  exportName: string;
  metaContexts: readonly string[];
}

const MAX_OPTION_REPLY = 1024 * 1024;

/**
 * Runs the fixed newstyle handshake: client flags (NO_ZEROES when offered), STRUCTURED_REPLY,
 * SET_META_CONTEXT when contexts are asked for, then GO with the export name asking for block sizes.
 * A server that refuses structured replies yields `structuredReplies: false` and no contexts.
 */
export async function negotiate(io: HandshakeIo, req: HandshakeRequest): Promise<Negotiated> {
  const handshakeFlags = parseGreeting(await io.read(GREETING_SIZE));
  const noZeroes = (handshakeFlags & HandshakeFlag.NO_ZEROES) !== 0;
  io.write(encodeClientFlags(ClientFlag.FIXED_NEWSTYLE | (noZeroes ? ClientFlag.NO_ZEROES : 0)));

  io.write(encodeOption(Option.STRUCTURED_REPLY));
  const structured = await readReply(io, Option.STRUCTURED_REPLY);
  let structuredReplies = false;
  if (structured.type === OptionReply.ACK) structuredReplies = true;
  else if (!isOptionError(structured.type)) throw unexpected(structured.type, Option.STRUCTURED_REPLY);

  const contexts = new Map<string, number>();
  if (structuredReplies && req.metaContexts.length > 0) {
    io.write(encodeOption(Option.SET_META_CONTEXT, encodeMetaContextRequest(req.exportName, req.metaContexts)));
    for (;;) {
      const reply = await readReply(io, Option.SET_META_CONTEXT);
      if (reply.type === OptionReply.ACK) break;
      if (reply.type === OptionReply.META_CONTEXT) {
        const { id, name } = parseMetaContextReply(reply.data);
        contexts.set(name, id);
      } else if (reply.type === OptionReply.ERR_UNSUP) {
        break;
      } else {
        throw rejected(reply, 'SET_META_CONTEXT', req.exportName);
      }
    }
  }

  io.write(encodeOption(Option.GO, encodeGo(req.exportName, [Info.BLOCK_SIZE])));
  let exportInfo: { size: number; transmissionFlags: number } | undefined;
  let blockSize: BlockSize | undefined;
  for (;;) {
    const reply = await readReply(io, Option.GO);
    if (reply.type === OptionReply.ACK) break;
    if (reply.type !== OptionReply.INFO) throw rejected(reply, 'GO', req.exportName);
    const item = parseInfoReply(reply.data);
    if (item.kind === 'export') exportInfo = { size: item.size, transmissionFlags: item.transmissionFlags };
    else if (item.kind === 'block-size') blockSize = { minimum: item.minimum, preferred: item.preferred, maximum: item.maximum };
  }
  if (!exportInfo) throw protocolError('GO acknowledged without NBD_INFO_EXPORT');
  return { handshakeFlags, ...exportInfo, blockSize, structuredReplies, contexts };
}

async function readReply(io: HandshakeIo, option: number): Promise<{ type: number; data: Buffer }> {
  const header = parseOptionReplyHeader(await io.read(OPTION_REPLY_HEADER_SIZE));
  if (header.option !== option) throw protocolError(`reply to option ${header.option} while waiting for ${option}`);
  if (header.length > MAX_OPTION_REPLY) throw protocolError(`option reply of ${header.length} bytes`);
  const data = header.length > 0 ? await io.read(header.length) : Buffer.alloc(0);
  return { type: header.type, data };
}

function unexpected(type: number, option: number): NbdError {
  return protocolError(`unexpected reply type ${type} to option ${option}`);
}

function rejected(reply: { type: number; data: Buffer }, option: string, exportName: string): NbdError {
  if (!isOptionError(reply.type)) return protocolError(`unexpected reply type ${reply.type} to ${option}`);
  const name = optionErrorName(reply.type);
  const text = reply.data.length > 0 ? `: ${reply.data.toString('utf8')}` : '';
  if (reply.type === OptionReply.ERR_UNKNOWN) {
    return new NbdError(`NBD export "${exportName}" not found (${name}${text})`, { code: 'EXPORT_NOT_FOUND', transient: false });
  }
  return new NbdError(`NBD server rejected ${option} for export "${exportName}" with ${name}${text}`, {
    code: 'OPTION_REJECTED',
    transient: reply.type === OptionReply.ERR_SHUTDOWN,
  });
}
