import type { ByteRange, DiskReader } from './disk-reader.js';
import { NbdClient, type NbdClientOptions, type ReadInto } from './nbd-client.js';
import { NbdError } from './nbd-error.js';
import { AllocationFlag } from './protocol/constants.js';
import type { Extent } from './protocol/transmission.codec.js';

/** The part of {@link NbdClient} the reader uses, so tests can hand it an in-memory fake. */
export interface NbdSession {
  readonly size: number;
  readonly isOpen: boolean;
  readonly contexts: string[];
  read(offset: number, length: number, into?: ReadInto): Promise<Buffer>;
  extents(context: string): Promise<Extent[]>;
  close(): Promise<void>;
}

/** Reported before each retry. */
export interface RetryEvent {
  operation: string;
  offset: number;
  length: number;
  /** The attempt that just failed, from 1. */
  attempt: number;
  delayMs: number;
  error: NbdError;
}

/** Retry policy and hooks of {@link NbdDiskReader}. */
export interface NbdDiskReaderOptions {
  /** Tries per call, the first included; default 5. */
  attempts?: number;
  /** Delay before the first retry, doubled for each next one; default 200 ms. */
  baseDelayMs?: number;
  /** Ceiling of one delay; default 10 s. */
  maxDelayMs?: number;
  /** Share of each delay taken off at random, so readers of one host do not retry in step; default 0.25. */
  jitter?: number;
  onRetry?: (event: RetryEvent) => void;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The meta context {@link NbdDiskReader.allocatedExtents} uses. */
export const BASE_ALLOCATION = 'base:allocation';

/**
 * {@link DiskReader} over NBD. Transient errors (EIO, a dropped connection, a timeout) are retried with
 * exponential backoff, on a new connection when the old one broke; permanent ones (EINVAL, out of range,
 * protocol violations) fail at once. Final errors are NbdErrors whose message names the offset.
 */
export class NbdDiskReader implements DiskReader {
  private reconnecting: Promise<NbdSession> | undefined;
  private closed = false;

  constructor(
    private session: NbdSession,
    private readonly connect: () => Promise<NbdSession>,
    private readonly options: NbdDiskReaderOptions = {},
  ) {}

  /** Connects (with the same retries) and asks for base:allocation besides any contexts in `client`. */
  static async open(client: NbdClientOptions, options: NbdDiskReaderOptions = {}): Promise<NbdDiskReader> {
    const contexts = [...new Set([BASE_ALLOCATION, ...(client.metaContexts ?? [])])];
    const connect = (): Promise<NbdSession> => NbdClient.connect({ ...client, metaContexts: contexts });
    const session = await retrying(options, 'connect', 0, 0, connect);
    return new NbdDiskReader(session, connect, options);
  }

  get size(): number {
    return this.session.size;
  }

  /** Reads exactly `length` bytes at `offset`, into `into` when given. */
  read(offset: number, length: number, into?: ReadInto): Promise<Buffer> {
    return retrying(this.options, 'read', offset, length, async () => (await this.live()).read(offset, length, into));
  }

  /** Extents of any negotiated meta context over the whole disk, e.g. `qemu:dirty-bitmap:NAME`. */
  extents(context: string): Promise<Extent[]> {
    return retrying(this.options, `extents of ${context}`, 0, this.size, async () => (await this.live()).extents(context));
  }

  /**
   * Ranges that may hold non-zero data: all but what base:allocation reports as reading as zeroes.
   * Returns the whole disk when the server has no base:allocation.
   */
  async allocatedExtents(): Promise<ByteRange[]> {
    if (!this.session.contexts.includes(BASE_ALLOCATION)) return this.size > 0 ? [{ offset: 0, length: this.size }] : [];
    const out: ByteRange[] = [];
    for (const e of await this.extents(BASE_ALLOCATION)) {
      if ((e.flags & AllocationFlag.ZERO) !== 0) continue;
      const last = out[out.length - 1];
      if (last && last.offset + last.length === e.offset) last.length += e.length;
      else out.push({ offset: e.offset, length: e.length });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.session.close();
  }

  /** The session, replaced by a new connection when the old one broke. */
  private async live(): Promise<NbdSession> {
    if (this.closed) throw new NbdError('disk reader is closed', { code: 'CLOSED', transient: false });
    if (this.session.isOpen) return this.session;
    this.reconnecting ??= (async () => {
      try {
        await this.session.close().catch(() => undefined);
        const next = await this.connect();
        if (next.size !== this.session.size) {
          await next.close();
          throw new NbdError(`disk size changed from ${this.session.size} to ${next.size} across a reconnect`, { code: 'PROTOCOL', transient: false });
        }
        this.session = next;
        return next;
      } finally {
        this.reconnecting = undefined;
      }
    })();
    return this.reconnecting;
  }
}

async function retrying<T>(options: NbdDiskReaderOptions, operation: string, offset: number, length: number, fn: () => Promise<T>): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof NbdError)) throw err;
      if (!err.transient || attempt >= attempts) throw final(err, operation, offset, length, attempt);
      const exp = Math.min(options.maxDelayMs ?? 10_000, (options.baseDelayMs ?? 200) * 2 ** (attempt - 1));
      const delayMs = Math.round(exp * (1 - (options.jitter ?? 0.25) * (options.random ?? Math.random)()));
      options.onRetry?.({ operation, offset, length, attempt, delayMs, error: err });
      await sleep(delayMs);
    }
  }
}

function final(err: NbdError, operation: string, offset: number, length: number, attempts: number): NbdError {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  const what = operation === 'connect' ? 'NBD connect' : `NBD ${operation} of ${length} bytes at offset ${offset}`;
  return new NbdError(`${what} failed${tries}: ${err.message}`, {
    code: err.code,
    transient: err.transient,
    offset: err.offset ?? offset,
    length: err.length ?? length,
    ...(err.errno === undefined ? {} : { errno: err.errno }),
    cause: err,
  });
}
