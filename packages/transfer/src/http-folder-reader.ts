import http from 'node:http';
import https from 'node:https';
import type { DiskReader, ReadInto } from '@vaultflow/nbd';
import { TransferError } from './transfer-error.js';

/** Reported before each retry. */
export interface HttpRetryEvent {
  offset: number;
  length: number;
  /** The attempt that just failed, from 1. */
  attempt: number;
  delayMs: number;
  error: TransferError;
}

/** Options of {@link HttpFolderReader.open}. */
export interface HttpFolderReaderOptions {
  /** The file's `/folder` URL (VsphereClient.datastoreFileRequest). */
  url: string;
  /** Request headers (the session cookie); a function is called per request, so a new session is picked up. */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** The agent carrying the vCenter's TLS policy (VsphereClient.agent); default Node's global agent. */
  agent?: http.Agent;
  /** The disk, for error messages (e.g. `[ds] vm/disk.vmdk`); default the URL's path. */
  disk?: string;
  /** Range requests in flight at once, across all reads of this reader; default 4. */
  maxInFlight?: number;
  /** Reads larger than this go out as several range requests in parallel; default 4 MiB. */
  maxRequestBytes?: number;
  /** A request that sends nothing for this long fails (transient); default 60 s. */
  timeoutMs?: number;
  /** Tries per range request, the first included; default 5. */
  attempts?: number;
  /** Delay before the first retry, doubled for each next one; default 200 ms. */
  baseDelayMs?: number;
  /** Ceiling of one delay; default 10 s. */
  maxDelayMs?: number;
  /** Share of each delay taken off at random; default 0.25. */
  jitter?: number;
  onRetry?: (event: HttpRetryEvent) => void;
  /**
   * Called when the server answers 401/403, before one more try with fresh headers: renew the session
   * there (for a VsphereClient, any SOAP call re-logs in). Without it, 401/403 fail at once.
   */
  onUnauthorized?: () => Promise<void>;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The part of a VsphereClient that {@link HttpFolderReader.forDisk} uses. */
export interface FolderSession {
  datastoreFileRequest(fileName: string, datacenter: string): { url: string; headers: Record<string, string> };
  readonly agent: http.Agent | undefined;
  /** Any SOAP call; the session logs in again when it finds itself logged out. */
  currentTime(): Promise<Date>;
}

const DEFAULT_REQUEST_BYTES = 4 * 1024 * 1024;
const TLS_ERROR = /CERT|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH|THUMBPRINT/;

/**
 * A {@link DiskReader} over a datastore file's `/folder` URL with HTTP Range requests (the `https`
 * transport; best for test and development, see the data-path notes). Reads are split into range
 * requests of at most `maxRequestBytes`, at most `maxInFlight` at once, and land directly in the caller's
 * buffer when one is given. Transient failures (5xx, 408, 429, resets, short bodies, timeouts) are retried
 * with exponential backoff; what escapes is final for the call: a {@link TransferError} naming the disk
 * and offset, whose `transient` still tells whether a later retry of the whole job may help.
 */
export class HttpFolderReader implements DiskReader {
  private readonly active = new Set<http.ClientRequest>();
  private readonly waiting: Array<() => void> = [];
  private inFlight = 0;
  private closed = false;
  private refreshing: Promise<void> | undefined;
  private readonly url: URL;
  readonly disk: string;

  private constructor(readonly size: number, private readonly opts: HttpFolderReaderOptions) {
    this.url = new URL(opts.url);
    this.disk = opts.disk ?? decodeURIComponent(this.url.pathname);
  }

  /** Finds the file's size with a one-byte range request (retried like reads) and returns the reader. */
  static async open(opts: HttpFolderReaderOptions): Promise<HttpFolderReader> {
    const probe = new HttpFolderReader(0, opts);
    const size = await probe.withRetries(0, 1, () => probe.probeSize());
    return new HttpFolderReader(size, opts);
  }

  /**
   * A reader of a snapshot disk through a VsphereClient: its `/folder` URL, agent and session cookie,
   * re-logging in on 401. Rejects BAD_RESPONSE when the file's size is not `capacityBytes`.
   */
  static async forDisk(
    client: FolderSession, disk: { fileName: string; capacityBytes: number }, datacenter: string,
    opts: Omit<HttpFolderReaderOptions, 'url' | 'headers' | 'agent' | 'onUnauthorized'> = {},
  ): Promise<HttpFolderReader> {
    const reader = await HttpFolderReader.open({
      ...opts,
      url: client.datastoreFileRequest(disk.fileName, datacenter).url,
      headers: () => client.datastoreFileRequest(disk.fileName, datacenter).headers,
      ...(client.agent ? { agent: client.agent } : {}),
      onUnauthorized: async () => void (await client.currentTime()),
      disk: opts.disk ?? disk.fileName,
    });
    if (reader.size !== disk.capacityBytes) {
      await reader.close();
      throw new TransferError(`disk ${disk.fileName}: its file holds ${reader.size} bytes, not its capacity of ${disk.capacityBytes}`, {
        code: 'BAD_RESPONSE', disk: disk.fileName,
      });
    }
    return reader;
  }

  /** Reads exactly `length` bytes at `offset`, into `into` when given (the result is then a view of it). */
  async read(offset: number, length: number, into?: ReadInto): Promise<Buffer> {
    if (this.closed) throw new TransferError(`disk ${this.disk}: reader is closed`, { code: 'CLOSED', disk: this.disk, offset, length });
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new TransferError(`disk ${this.disk}: range ${offset}+${length} is outside its ${this.size} bytes`, { code: 'OUT_OF_RANGE', disk: this.disk, offset, length });
    }
    const buffer = into?.buffer ?? Buffer.allocUnsafe(length);
    const base = into?.offset ?? 0;
    if (!Number.isSafeInteger(base) || base < 0 || base + length > buffer.length) {
      throw new TransferError(`disk ${this.disk}: a ${buffer.length}-byte buffer cannot take ${length} bytes at index ${base}`, { code: 'INVALID_ARGUMENT', disk: this.disk });
    }
    const step = this.opts.maxRequestBytes ?? DEFAULT_REQUEST_BYTES;
    const parts: Promise<void>[] = [];
    for (let at = 0; at < length; at += step) {
      const n = Math.min(step, length - at);
      parts.push(this.withRetries(offset + at, n, () => this.fetchRange(offset + at, n, buffer, base + at)));
    }
    // Settle every part before failing, so no late bytes land in a buffer the caller has reused.
    const failed = (await Promise.allSettled(parts)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return buffer.subarray(base, base + length);
  }

  /** Aborts requests in flight (they reject CLOSED) and refuses new reads. Idempotent; leaves the agent open. */
  async close(): Promise<void> {
    this.closed = true;
    for (const req of this.active) req.destroy(new TransferError('the reader was closed', { code: 'CLOSED', disk: this.disk }));
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async withRetries<T>(offset: number, length: number, fn: () => Promise<T>): Promise<T> {
    const attempts = Math.max(1, this.opts.attempts ?? 5);
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.slot();
        try {
          return await fn();
        } finally {
          this.freeSlot();
        }
      } catch (e) {
        const err = asTransferError(e, this.disk, offset, length);
        if (err.code === 'UNAUTHORIZED' && this.opts.onUnauthorized && !renewed && !this.closed) {
          renewed = true;
          await this.renewSession();
          attempt--; // a renewed session is not a failed try
          continue;
        }
        if (!err.transient || attempt >= attempts || this.closed) throw this.final(err, offset, length, attempt);
        const exp = Math.min(this.opts.maxDelayMs ?? 10_000, (this.opts.baseDelayMs ?? 200) * 2 ** (attempt - 1));
        const delayMs = Math.round(exp * (1 - (this.opts.jitter ?? 0.25) * (this.opts.random ?? Math.random)()));
        this.opts.onRetry?.({ offset, length, attempt, delayMs, error: err });
        await sleep(delayMs);
      }
    }
  }

  private renewSession(): Promise<void> {
    this.refreshing ??= this.opts.onUnauthorized!().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private final(err: TransferError, offset: number, length: number, attempts: number): TransferError {
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    return new TransferError(`disk ${this.disk}: reading ${length} bytes at offset ${offset} failed${tries}: ${err.message}`, {
      code: err.code, transient: err.transient, disk: this.disk, offset, length, ...(err.status === undefined ? {} : { status: err.status }), cause: err,
    });
  }

  private async slot(): Promise<void> {
    const max = Math.max(1, this.opts.maxInFlight ?? 4);
    while (this.inFlight >= max) {
      if (this.closed) break;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.closed) throw new TransferError('the reader was closed', { code: 'CLOSED', disk: this.disk });
    this.inFlight++;
  }

  private freeSlot(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const h = typeof this.opts.headers === 'function' ? this.opts.headers() : this.opts.headers ?? {};
    return { ...h, 'accept-encoding': 'identity', ...extra };
  }

  /** GET bytes=0-0: the total from Content-Range (or from a 416's `bytes *\/N` for an empty file). */
  private probeSize(): Promise<number> {
    return this.exchange<number>({ range: 'bytes=0-0' }, (res) => {
      const status = res.statusCode ?? 0;
      const range = parseContentRange(res.headers['content-range']);
      if ((status === 206 || status === 416) && range?.total !== undefined) return { value: range.total };
      if (status === 200 && res.headers['content-length'] !== undefined) return { value: Number(res.headers['content-length']) };
      if (status === 206 || status === 200) return { error: new TransferError('the server reports no size', { code: 'BAD_RESPONSE', disk: this.disk, status }) };
      return { error: statusError(status, this.disk) };
    });
  }

  /** One range request, its body copied into `target` at `at`. */
  private fetchRange(offset: number, length: number, target: Buffer, at: number): Promise<void> {
    return this.exchange<void>({ range: `bytes=${offset}-${offset + length - 1}` }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 200 && offset === 0 && length === this.size) return { into: target, at, length };
      if (status === 200) return { error: new TransferError('the server ignored the Range header', { code: 'BAD_RESPONSE', disk: this.disk, status }) };
      if (status !== 206) return { error: statusError(status, this.disk) };
      const range = parseContentRange(res.headers['content-range']);
      if (!range || range.start !== offset || range.end !== offset + length - 1) {
        return { error: new TransferError(`asked for bytes ${offset}-${offset + length - 1}, got Content-Range ${String(res.headers['content-range'])}`, { code: 'BAD_RESPONSE', disk: this.disk, status }) };
      }
      return { into: target, at, length };
    });
  }

  /**
   * Sends a GET and lets `decide` look at the response: settle with a value or an error (the body is
   * drained, so the connection can be reused), or stream exactly `length` body bytes into a buffer.
   */
  private exchange<T>(extraHeaders: Record<string, string>, decide: (res: http.IncomingMessage) => Decision<T>): Promise<T> {
    const lib = this.url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (err: TransferError | undefined, value?: T) => {
        if (settled) return;
        settled = true;
        this.active.delete(req);
        if (err !== undefined) reject(err);
        else resolve(value as T);
      };
      const agent = this.opts.agent ? { agent: this.opts.agent } : {};
      const req = lib.request(this.url, { method: 'GET', headers: this.headers(extraHeaders), ...agent }, (res) => {
        const d = decide(res);
        if (!('into' in d)) {
          res.resume();
          settle('error' in d ? d.error : undefined, 'value' in d ? d.value : undefined);
          return;
        }
        let got = 0;
        const short = (how: string) => new TransferError(`${how} after ${got} of ${d.length} bytes`, { code: 'SHORT_READ', transient: true, disk: this.disk });
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          if (got + chunk.length > d.length) {
            const err = new TransferError(`the server sent more than the ${d.length} bytes asked for`, { code: 'BAD_RESPONSE', disk: this.disk });
            settle(err);
            req.destroy(); // the connection is out of step; never reuse it
            return;
          }
          chunk.copy(d.into, d.at + got);
          got += chunk.length;
        });
        res.on('end', () => settle(got === d.length ? undefined : short('the body ended')));
        res.on('error', (err) => settle(networkError(err, this.disk)));
        res.on('close', () => {
          if (!res.complete) settle(short('the connection closed'));
        });
      });
      this.active.add(req);
      const timeoutMs = this.opts.timeoutMs ?? 60_000;
      req.setTimeout(timeoutMs, () => {
        req.destroy(new TransferError(`no data from ${this.url.host} within ${timeoutMs} ms`, { code: 'TIMEOUT', transient: true, disk: this.disk }));
      });
      req.on('error', (err) => settle(networkError(err, this.disk)));
      req.end();
    });
  }
}

/** What {@link HttpFolderReader} does with a response. */
type Decision<T> = { value: T } | { error: TransferError } | { into: Buffer; at: number; length: number };

function parseContentRange(value: string | string[] | undefined): { start?: number; end?: number; total?: number } | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(text.trim());
  if (!m) return undefined;
  const num = (s: string | undefined) => (s === undefined || s === '*' ? undefined : Number(s));
  return { start: num(m[1]), end: num(m[2]), total: num(m[3]) };
}

function statusError(status: number, disk: string): TransferError {
  if (status === 401 || status === 403) return new TransferError(`HTTP ${status}: the session was refused`, { code: 'UNAUTHORIZED', disk, status });
  if (status === 404) return new TransferError('HTTP 404: no such file', { code: 'NOT_FOUND', disk, status });
  if (status === 416) return new TransferError('HTTP 416: range not satisfiable', { code: 'OUT_OF_RANGE', disk, status });
  const transient = status >= 500 || status === 408 || status === 429;
  return new TransferError(`HTTP ${status}`, { code: 'HTTP_STATUS', transient, disk, status });
}

function networkError(err: unknown, disk: string): TransferError {
  if (err instanceof TransferError) return err;
  const e = err as NodeJS.ErrnoException & { transient?: unknown };
  const permanent = e?.transient === false || TLS_ERROR.test(String(e?.code ?? ''));
  return new TransferError(e?.message ?? String(err), { code: 'NETWORK', transient: !permanent, disk, cause: err });
}

function asTransferError(err: unknown, disk: string, offset: number, length: number): TransferError {
  if (err instanceof TransferError) return err;
  const e = networkError(err, disk);
  return new TransferError(e.message, { code: e.code, transient: e.transient, disk, offset, length, cause: err });
}
