import net from 'node:net';
import { ByteQueue } from '../byte-queue.js';
import type { NbdAddress } from '../nbd-connection.js';
import {
  ChunkType, Command, IHAVEOPT, Info, NBD_MAGIC, Option, OPTION_REPLY_MAGIC, OptionReply, ReplyFlag, REQUEST_MAGIC,
  SIMPLE_REPLY_MAGIC, STRUCTURED_REPLY_MAGIC,
} from '../protocol/constants.js';

/** One request as the fake server decoded it. */
export interface FakeRequest {
  flags: number;
  command: number;
  handle: bigint;
  offset: number;
  length: number;
}

/** The server side of one accepted connection. */
export interface FakeConnection {
  clientFlags: number;
  /** Options in the order the client sent them, with their data. */
  options: Array<{ option: number; data: Buffer }>;
  requests: FakeRequest[];
  /** Writes bytes, cut into pieces of the given sizes (cycled), each pushed to the socket on its own. */
  send(data: Buffer, pieces?: number[]): Promise<void>;
  /** Drops the connection. */
  destroy(): void;
}

/** How the fake server behaves. */
export interface FakeServerScript {
  size: number;
  transmissionFlags?: number;
  handshakeFlags?: number;
  structuredReplies?: boolean;
  /** Meta contexts it knows, with their ids. */
  contexts?: Record<string, number>;
  blockSize?: { minimum: number; preferred: number; maximum: number };
  /** Export names it serves; any when absent. */
  exports?: string[];
  /** Called for each request except DISC; the script answers through `conn.send`. */
  onRequest(req: FakeRequest, conn: FakeConnection): void | Promise<void>;
}

/** A scripted NBD server on 127.0.0.1 for codec and client specs. */
export interface FakeServer {
  address: NbdAddress;
  connections: FakeConnection[];
  close(): Promise<void>;
}

/** Starts the scripted server on an ephemeral loopback port. */
export async function startFakeServer(script: FakeServerScript): Promise<FakeServer> {
  const connections: FakeConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const conn = accept(socket, script);
    connections.push(conn);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: { host: '127.0.0.1', port },
    connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function accept(socket: net.Socket, script: FakeServerScript): FakeConnection {
  const queue = new ByteQueue();
  socket.on('data', (d) => queue.push(d));
  socket.on('error', () => queue.fail(new Error('gone')));
  socket.on('close', () => queue.fail(new Error('gone')));
  const conn: FakeConnection = {
    clientFlags: -1,
    options: [],
    requests: [],
    async send(data, pieces) {
      if (!pieces) { socket.write(data); return; }
      for (let at = 0, i = 0; at < data.length; i++) {
        const n = Math.max(1, pieces[i % pieces.length]!);
        socket.write(data.subarray(at, at + n));
        at += n;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },
    destroy: () => socket.destroy(),
  };
  void serve(socket, queue, conn, script).catch(() => socket.destroy());
  return conn;
}

async function serve(socket: net.Socket, queue: ByteQueue, conn: FakeConnection, script: FakeServerScript): Promise<void> {
  const greeting = Buffer.alloc(18);
  greeting.writeBigUInt64BE(NBD_MAGIC, 0);
  greeting.writeBigUInt64BE(IHAVEOPT, 8);
  greeting.writeUInt16BE(script.handshakeFlags ?? 3, 16);
  socket.write(greeting);
  conn.clientFlags = (await queue.read(4)).readUInt32BE(0);
  for (let go = false; !go;) {
    const head = await queue.read(16);
    if (head.readBigUInt64BE(0) !== IHAVEOPT) throw new Error('bad option magic');
    const option = head.readUInt32BE(8);
    const len = head.readUInt32BE(12);
    const data = len > 0 ? await queue.read(len) : Buffer.alloc(0);
    conn.options.push({ option, data });
    go = answerOption(socket, script, option, data);
  }
  for (;;) {
    const head = await queue.read(28);
    if (head.readUInt32BE(0) !== REQUEST_MAGIC) throw new Error('bad request magic');
    const req: FakeRequest = {
      flags: head.readUInt16BE(4), command: head.readUInt16BE(6), handle: head.readBigUInt64BE(8),
      offset: Number(head.readBigUInt64BE(16)), length: head.readUInt32BE(24),
    };
    conn.requests.push(req);
    if (req.command === Command.DISC) { socket.end(); return; }
    void Promise.resolve(script.onRequest(req, conn)).catch(() => socket.destroy());
  }
}

/** Answers one option; returns true after a successful GO. */
function answerOption(socket: net.Socket, script: FakeServerScript, option: number, data: Buffer): boolean {
  const rep = (type: number, payload: Buffer = Buffer.alloc(0)): void => {
    const h = Buffer.alloc(20);
    h.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(type, 12);
    h.writeUInt32BE(payload.length, 16);
    socket.write(Buffer.concat([h, payload]));
  };
  if (option === Option.STRUCTURED_REPLY) {
    rep(script.structuredReplies === false ? OptionReply.ERR_UNSUP : OptionReply.ACK);
    return false;
  }
  if (option === Option.SET_META_CONTEXT) {
    const nameLen = data.readUInt32BE(0);
    let at = 8 + nameLen;
    for (let i = 0; i < data.readUInt32BE(4 + nameLen); i++) {
      const qLen = data.readUInt32BE(at);
      const query = data.subarray(at + 4, at + 4 + qLen).toString();
      at += 4 + qLen;
      const id = script.contexts?.[query];
      if (id !== undefined) rep(OptionReply.META_CONTEXT, Buffer.concat([u32(id), Buffer.from(query)]));
    }
    rep(OptionReply.ACK);
    return false;
  }
  if (option === Option.GO) {
    const name = data.subarray(4, 4 + data.readUInt32BE(0)).toString();
    if (script.exports && !script.exports.includes(name)) {
      rep(OptionReply.ERR_UNKNOWN, Buffer.from(`no export ${name}`));
      return false;
    }
    const info = Buffer.alloc(12);
    info.writeUInt16BE(Info.EXPORT, 0);
    info.writeBigUInt64BE(BigInt(script.size), 2);
    info.writeUInt16BE(script.transmissionFlags ?? 3, 10);
    rep(OptionReply.INFO, info);
    if (script.blockSize) {
      const bs = script.blockSize;
      rep(OptionReply.INFO, Buffer.concat([Buffer.from([0, Info.BLOCK_SIZE]), u32(bs.minimum), u32(bs.preferred), u32(bs.maximum)]));
    }
    rep(OptionReply.ACK);
    return true;
  }
  rep(OptionReply.ERR_UNSUP);
  return false;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function chunk(handle: bigint, type: number, payload: Buffer, done: boolean): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
  h.writeUInt16BE(done ? ReplyFlag.DONE : 0, 4);
  h.writeUInt16BE(type, 6);
  h.writeBigUInt64BE(handle, 8);
  h.writeUInt32BE(payload.length, 16);
  return Buffer.concat([h, payload]);
}

/** Server-side encoders of replies, written from the protocol text independently of the client's decoder. */
export const replies = {
  simple(handle: bigint, errno: number, data: Buffer = Buffer.alloc(0)): Buffer {
    const h = Buffer.alloc(16);
    h.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
    h.writeUInt32BE(errno, 4);
    h.writeBigUInt64BE(handle, 8);
    return Buffer.concat([h, data]);
  },
  data: (handle: bigint, offset: number, data: Buffer, done = false) => chunk(handle, ChunkType.OFFSET_DATA, Buffer.concat([u64(offset), data]), done),
  hole: (handle: bigint, offset: number, length: number, done = false) => chunk(handle, ChunkType.OFFSET_HOLE, Buffer.concat([u64(offset), u32(length)]), done),
  blockStatus: (handle: bigint, contextId: number, extents: Array<[number, number]>, done = false) =>
    chunk(handle, ChunkType.BLOCK_STATUS, Buffer.concat([u32(contextId), ...extents.flatMap(([l, f]) => [u32(l), u32(f)])]), done),
  error(handle: bigint, errno: number, message: string, done = true, offset?: number): Buffer {
    const msg = Buffer.from(message);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(msg.length);
    const tail = offset === undefined ? [] : [u64(offset)];
    return chunk(handle, offset === undefined ? ChunkType.ERROR : ChunkType.ERROR_OFFSET, Buffer.concat([u32(errno), len, msg, ...tail]), done);
  },
  none: (handle: bigint) => chunk(handle, ChunkType.NONE, Buffer.alloc(0), true),
};

/** Deterministic content of byte `i` of a fake disk, distinct across nearby offsets. */
export function patternAt(offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) {
    const x = offset + i;
    b[i] = (x * 31 + Math.floor(x / 251) + 7) & 0xff;
  }
  return b;
}
