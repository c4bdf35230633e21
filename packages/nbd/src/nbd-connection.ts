import net from 'node:net';
import { ByteQueue } from './byte-queue.js';
import { negotiate, type Negotiated } from './handshake.js';
import { NbdError, protocolError, serverError } from './nbd-error.js';
import { Command } from './protocol/constants.js';
import { ReplyDecoder, type ReadDestination, type ReplyChunk, type ReplyRouter } from './protocol/reply-decoder.js';
import { encodeRequest, type ExtentDescriptor } from './protocol/transmission.codec.js';

/** Where the server listens. */
export type NbdAddress = { socketPath: string } | { host: string; port: number };

/** Options of one connection. */
export interface NbdConnectionOptions {
  address: NbdAddress;
  /** Export to open; '' is the default export. */
  exportName?: string;
  /** Meta contexts to negotiate, e.g. `base:allocation`, `qemu:dirty-bitmap:NAME`. */
  metaContexts?: readonly string[];
  /** Time allowed for connecting and the handshake together; default 10 s. */
  connectTimeoutMs?: number;
  /** A request without its final reply after this long drops the connection (NBD cannot cancel one); 0 = never. */
  requestTimeoutMs?: number;
}

/** The BLOCK_STATUS chunks of one completed request. */
export interface Completed {
  statuses: Array<{ contextId: number; extents: ExtentDescriptor[] }>;
}

interface Pending {
  command: number;
  offset: number;
  length: number;
  dest: ReadDestination | null;
  ranges: Array<[number, number]>;
  statuses: Completed['statuses'];
  error: NbdError | undefined;
  timer: NodeJS.Timeout | undefined;
  resolve: (c: Completed) => void;
  reject: (e: NbdError) => void;
}

const COMMAND_NAMES: Record<number, string> = { [Command.READ]: 'READ', [Command.BLOCK_STATUS]: 'BLOCK_STATUS' };
const RECEIVE_BUFFER = 1024 * 1024;

/**
 * One NBD connection after the handshake: sends requests, matches replies to them by handle (replies
 * may interleave), and fails every request in flight when the connection breaks.
 */
export class NbdConnection implements ReplyRouter {
  private readonly pending = new Map<bigint, Pending>();
  private readonly decoder = new ReplyDecoder(this);
  private nextHandle = 1n;
  private broken: NbdError | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  private constructor(
    private readonly socket: net.Socket,
    readonly negotiated: Negotiated,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Connects and negotiates; rejects with a transient NbdError when the server cannot be reached. */
  static async open(options: NbdConnectionOptions): Promise<NbdConnection> {
    const queue = new ByteQueue();
    let sink: (data: Buffer) => void = (data) => queue.push(data);
    const where = 'socketPath' in options.address ? options.address.socketPath : `${options.address.host}:${options.address.port}`;
    // One reused receive buffer: the decoder copies everything out of it synchronously.
    const receiveBuffer = Buffer.allocUnsafe(RECEIVE_BUFFER);
    const socket = net.connect({
      ...('socketPath' in options.address ? { path: options.address.socketPath } : options.address),
      onread: { buffer: receiveBuffer, callback: (n) => { sink(receiveBuffer.subarray(0, n)); return true; } },
    });
    const fail = (err: unknown) => queue.fail(connectionFailed(where, err));
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed during the handshake')));
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => queue.fail(new NbdError(`NBD handshake with ${where} timed out after ${timeoutMs} ms`, { code: 'TIMEOUT', transient: true })), timeoutMs);
    try {
      const negotiated = await negotiate(
        { read: (n) => queue.read(n), write: (data) => { socket.write(data); } },
        { exportName: options.exportName ?? '', metaContexts: options.metaContexts ?? [] },
      );
      socket.removeAllListeners('error').removeAllListeners('close');
      if (!('socketPath' in options.address)) socket.setNoDelay(true);
      const conn = new NbdConnection(socket, negotiated, options.requestTimeoutMs ?? 0);
      sink = (data) => conn.receive(data);
      const early = queue.drain();
      if (early.length > 0) conn.receive(early);
      socket.on('error', (err) => conn.fail(connectionLost(err)));
      socket.on('close', () => conn.fail(connectionLost(new Error('connection closed by the server'))));
      return conn;
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** False once the connection is closed or broken; requests then fail at once. */
  get isOpen(): boolean {
    return !this.broken && !this.closing;
  }

  /** Sends one request; for READ, `dest` receives the data. Resolves when the server sends its final reply. */
  request(command: number, offset: number, length: number, dest: ReadDestination | null): Promise<Completed> {
    return new Promise((resolve, reject) => {
      const at = { offset, length };
      if (this.broken) return reject(forRequest(this.broken, COMMAND_NAMES[command] ?? String(command), at));
      if (this.closing) return reject(new NbdError('NBD connection is closing', { code: 'CLOSED', transient: false, ...at }));
      const handle = this.nextHandle++;
      const p: Pending = { command, offset, length, dest, ranges: [], statuses: [], error: undefined, timer: undefined, resolve, reject };
      if (this.requestTimeoutMs > 0) {
        p.timer = setTimeout(() => this.fail(new NbdError(`NBD request timed out after ${this.requestTimeoutMs} ms`, { code: 'TIMEOUT', transient: true })), this.requestTimeoutMs);
      }
      this.pending.set(handle, p);
      this.socket.write(encodeRequest({ flags: 0, command, handle, offset, length }));
    });
  }

  /**
   * Waits for requests in flight (failing them with CLOSED after `drainTimeoutMs`), sends NBD_CMD_DISC
   * and closes the socket. Idempotent.
   */
  close(drainTimeoutMs = 30_000): Promise<void> {
    this.closed ??= this.shutDown(drainTimeoutMs);
    return this.closed;
  }

  private async shutDown(drainTimeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        timer = setTimeout(() => this.fail(new NbdError(`NBD connection closed with requests unanswered after ${drainTimeoutMs} ms`, { code: 'CLOSED', transient: false })), drainTimeoutMs);
      });
      clearTimeout(timer);
    }
    if (!this.broken) {
      this.socket.write(encodeRequest({ flags: 0, command: Command.DISC, handle: this.nextHandle++, offset: 0, length: 0 }));
      this.broken = new NbdError('NBD connection closed', { code: 'CLOSED', transient: false });
      const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
      this.socket.end();
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      await closed;
      clearTimeout(timer);
    }
  }

  destination(handle: bigint): ReadDestination | null | undefined {
    return this.pending.get(handle)?.dest;
  }

  simpleReply(handle: bigint, errno: number): void {
    const p = this.pending.get(handle)!;
    if (errno !== 0) p.error ??= serverError(COMMAND_NAMES[p.command] ?? '', errno, p);
    else if (p.command === Command.READ) p.ranges.push([p.offset, p.length]);
    else if (p.command === Command.BLOCK_STATUS) throw protocolError('simple reply without error to BLOCK_STATUS', p.offset);
    this.finish(handle, p);
  }

  chunk(handle: bigint, chunk: ReplyChunk, done: boolean): void {
    const p = this.pending.get(handle)!;
    if (chunk.type === 'data' || chunk.type === 'hole') p.ranges.push([chunk.offset, chunk.length]);
    else if (chunk.type === 'block-status') {
      if (p.command !== Command.BLOCK_STATUS) throw protocolError('BLOCK_STATUS chunk for another command', p.offset);
      p.statuses.push({ contextId: chunk.contextId, extents: chunk.extents });
    } else if (chunk.type === 'error') {
      p.error ??= serverError(COMMAND_NAMES[p.command] ?? '', chunk.errno, { offset: chunk.offset ?? p.offset, length: p.length }, chunk.message);
    }
    if (done) this.finish(handle, p);
  }

  private finish(handle: bigint, p: Pending): void {
    if (!p.error && p.command === Command.READ) checkCoverage(p);
    this.pending.delete(handle);
    clearTimeout(p.timer);
    if (p.error) p.reject(p.error);
    else p.resolve({ statuses: p.statuses });
    if (this.pending.size === 0) this.drained?.();
  }

  private receive(data: Buffer): void {
    if (this.broken) return;
    try {
      this.decoder.push(data);
    } catch (err) {
      this.fail(err instanceof NbdError ? err : protocolError(String(err)));
    }
  }

  /** Breaks the connection: every request in flight fails with `err`, placed at its own offset. */
  private fail(err: NbdError): void {
    if (this.broken) return;
    this.broken = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(forRequest(err, COMMAND_NAMES[p.command] ?? '', p));
    }
    this.pending.clear();
    this.drained?.();
    this.socket.destroy();
  }
}

/** A successful READ must cover its range exactly once with data and hole chunks. */
function checkCoverage(p: Pending): void {
  const ranges = p.ranges.sort((a, b) => a[0] - b[0]);
  let at = p.offset;
  for (const [offset, length] of ranges) {
    if (offset !== at) throw protocolError(`READ reply ${offset < at ? 'overlaps' : 'leaves a gap'} at offset ${Math.min(offset, at)}`, Math.min(offset, at));
    at += length;
  }
  if (at !== p.offset + p.length) throw protocolError(`READ reply ends at ${at}, short of ${p.offset + p.length}`, at);
}

function forRequest(err: NbdError, command: string, at: { offset: number; length: number }): NbdError {
  if (err.offset !== undefined) return err;
  return new NbdError(`${err.message} (${command} of ${at.length} bytes at offset ${at.offset})`, {
    code: err.code, transient: err.transient, offset: at.offset, length: at.length, cause: err.cause ?? err,
  });
}

function connectionFailed(where: string, cause: unknown): NbdError {
  if (cause instanceof NbdError) return cause;
  return new NbdError(`NBD connection to ${where} failed: ${(cause as Error).message}`, { code: 'CONNECTION_FAILED', transient: true, cause });
}

function connectionLost(cause: Error): NbdError {
  return new NbdError(`NBD connection lost: ${cause.message}`, { code: 'CONNECTION_CLOSED', transient: true, cause });
}
