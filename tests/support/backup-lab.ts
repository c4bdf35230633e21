import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import type { Vcsim } from '@vaultflow/testing';
export { flipChunkByte } from '../../packages/backup-repository/src/testing/damage.js';
import type { Client } from './hub.js';

// Helpers of the backups API tests (tests/integration/backups-*.test.ts): a slow network in front of
// the simulator, so a running backup can be watched (and killed) mid-transfer; polling; disk contents;
// and (from the repository's test helpers) damage done on purpose to a pack.

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Random-looking bytes without zero bytes (every 64 KiB block written is data). */
export function noise(n: number, seed = Math.random()): Buffer {
  const out = Buffer.alloc(n);
  let x = Math.floor(seed * 0xffffffff) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x & 0xff) || 1;
  }
  return out;
}

/** Polls `fn` until it returns a value (not undefined), or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET `url` until the resource's status is final; returns every answer seen (the last is final). */
export async function follow(client: Client, url: string, final: string[] = ['success', 'failed', 'cancelled'], timeoutMs = 90_000): Promise<any[]> {
  const seen: any[] = [];
  await waitFor(async () => {
    const r = await client.get(url);
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${JSON.stringify(r.body)}`);
    seen.push(r.body);
    return final.includes(r.body.status) ? true : undefined;
  }, `${url} to end`, timeoutMs, 40);
  return seen;
}

/** The live disks of the simulator now, by `${vm moref}/${key}` (call while nothing writes to them). */
export async function liveImages(vc: Vcsim): Promise<Map<string, Buffer>> {
  const m = new Map<string, Buffer>();
  for (const v of (await vc.info()).vms) for (const d of v.disks) m.set(`${v.ref}/${d.key}`, await readFile(d.flatPath));
  return m;
}

/** 64 KiB blocks of `image` that are not all zero. */
export function nonZeroBlocks(image: Buffer, block = 64 * 1024): number {
  let n = 0;
  for (let at = 0; at < image.length; at += block) if (image.subarray(at, at + block).some((x) => x !== 0)) n++;
  return n;
}

/** Passes bytes on at about `rate()` bytes per second (0: unthrottled). */
class Throttle extends Transform {
  constructor(private readonly rate: () => number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    void (async () => {
      for (let at = 0; at < chunk.length;) {
        const r = this.rate();
        const step = r > 0 ? Math.max(1024, Math.floor(r / 20)) : chunk.length;
        this.push(chunk.subarray(at, at + step));
        at += step;
        if (r > 0) await new Promise((res) => setTimeout(res, 50));
      }
      cb();
    })();
  }
}

/** An HTTP front of the simulator whose datastore traffic (`/folder`) moves at an adjustable rate. */
export interface SlowFront {
  host: string;
  port: number;
  /** Bytes per second of /folder bodies, both ways (0: full speed). */
  setRate(bytesPerSecond: number): void;
  /** Bytes of /folder response bodies passed on so far (disk data read through the front). */
  bytesRead(): number;
  stop(): Promise<void>;
}

export async function startSlowFront(upstreamUrl: string, bytesPerSecond = 0): Promise<SlowFront> {
  let rate = bytesPerSecond;
  let read = 0;
  const upstream = new URL(upstreamUrl);
  const server = http.createServer((req, res) => {
    const slow = (req.url ?? '').startsWith('/folder');
    const fwd = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (slow) up.on('data', (d: Buffer) => (read += d.length));
      (slow ? up.pipe(new Throttle(() => rate)) : up).pipe(res);
    });
    fwd.on('error', () => res.destroy());
    res.on('close', () => fwd.destroy());
    (slow ? req.pipe(new Throttle(() => rate)) : req).pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    setRate: (n) => {
      rate = n;
    },
    bytesRead: () => read,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
