import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ChunkCodec } from './chunk-codec.js';
import { runJob, type WorkerReply, type WorkerRequest } from './chunk-job.js';

type Done = Extract<WorkerReply, { error?: undefined }>;

type Job = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'seq'> : never) : never;

interface Slot {
  worker: Worker;
  /** Started and listening: until then its jobs would wait for it, so they run inline. */
  ready: boolean;
  /** Resolves once the worker is ready or gone. */
  started: Promise<void>;
  onStarted: () => void;
  pending: Map<number, { req: WorkerRequest; resolve: (r: WorkerReply) => void }>;
}

/** True when `u8` lives in a SharedArrayBuffer: a worker can then use it without a copy. */
export function isShared(u8: Uint8Array): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && u8.buffer instanceof SharedArrayBuffer;
}

/** Jobs a worker holds at once: one running and a backlog, so it keeps working while the calling thread runs a job inline. */
const WORKER_QUEUE = 6;

/**
 * A small pool of worker threads that hash, compress and decode chunks (chunk-worker.ts), so a backup
 * or a restore uses every core. The calling thread is one of the hands: a job goes to the least busy
 * worker unless every worker already holds {@link WORKER_QUEUE} jobs, and then runs inline. So
 * `cores - 1` workers keep every core busy, and each worker thread (about 10 MB) earns its memory.
 * Buffers must be SharedArrayBuffer views (see {@link isShared}); jobs on other buffers, and every job
 * of a pool of size 0, run inline. Workers start on first use and do not keep the process alive while
 * idle. A worker that fails (it cannot start, it crashes) is dropped and its jobs run inline: slower,
 * never wrong.
 */
export class ChunkWorkers {
  private static readonly pools = new Map<number, ChunkWorkers>();
  private readonly slots: Slot[] = [];
  private readonly codec = new ChunkCodec();
  private seq = 0;
  private broken = false;
  private closing = false;
  /** Jobs run so far by a worker thread and inline. */
  readonly counts = { worker: 0, inline: 0 };

  /** @param size worker threads; 0 runs every job inline. */
  constructor(readonly size: number) {}

  /**
   * The process-wide pool of `size` workers (workers are costly to start; repositories share them).
   * The default is one worker per core beside the calling thread's, at most 3; 0 runs jobs inline.
   */
  static shared(size = Math.min(3, availableParallelism() - 1)): ChunkWorkers {
    let pool = ChunkWorkers.pools.get(size);
    if (!pool) ChunkWorkers.pools.set(size, (pool = new ChunkWorkers(size)));
    return pool;
  }

  /** Jobs the workers take at once; callers keep more in flight so the calling thread works too. */
  get capacity(): number {
    return this.size * WORKER_QUEUE;
  }

  /** sha256 of `src` (the chunk id). */
  async hash(src: Uint8Array): Promise<Buffer> {
    const r = await this.run({ op: 'hash', src }, [src]);
    return Buffer.from(r.id!.buffer, r.id!.byteOffset, r.id!.byteLength);
  }

  /** zstd-1 of `src` into `dst`; resolves 0 when compression saves less than 1/32 (store it raw). */
  async compress(src: Uint8Array, dst: Uint8Array): Promise<number> {
    return (await this.run({ op: 'compress', src, dst }, [src, dst])).n!;
  }

  /** sha256 of `src` and zstd-1 of it into `dst` in one job (see {@link compress} for `n`). */
  async encode(src: Uint8Array, dst: Uint8Array): Promise<{ id: Buffer; n: number }> {
    const r = await this.run({ op: 'encode', src, dst }, [src, dst]);
    return { id: Buffer.from(r.id!.buffer, r.id!.byteOffset, r.id!.byteLength), n: r.n! };
  }

  /**
   * Turns a stored chunk back into plaintext at the start of `dst` (decompressed, or copied when it
   * is stored raw) and, with `id`, checks its sha256. Rejects with the reason when it fails. Decodes
   * queue on the workers rather than run inline whenever a worker is ready: a restore's calling
   * thread keeps the disk busy instead (a restore is bound by its reads and writes, not by decoding).
   */
  async decode(src: Uint8Array, dst: Uint8Array, rawLength: number, compressed: boolean, id?: Uint8Array): Promise<void> {
    await this.run({ op: 'decode', src, dst, rawLength, compressed, id }, [src, dst], false);
  }

  /** Starts every worker and resolves once each is ready (or failed: its share then runs inline). */
  async warmUp(): Promise<void> {
    while (!this.broken && this.slots.length < this.size) {
      try {
        this.spawn();
      } catch {
        this.broken = true;
      }
    }
    await Promise.all(this.slots.map((s) => s.started));
  }

  /** Stops the workers (they also stop with the process). */
  async close(): Promise<void> {
    this.closing = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private async run(job: Job, buffers: Uint8Array[], mayRunInline = true): Promise<Done> {
    const req = { ...job, seq: ++this.seq } as WorkerRequest;
    const slot = this.size > 0 && !this.broken && buffers.every(isShared) ? this.pick(mayRunInline) : undefined;
    this.counts[slot ? 'worker' : 'inline']++;
    const reply = slot ? await this.post(slot, req) : runJob(this.codec, req);
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply as Done;
  }

  /**
   * The least busy ready worker that can take a job (with `mayRunInline`, only below its queue
   * limit); undefined: run it inline. Starts another worker when every one is busy or starting and
   * the pool is not full yet.
   */
  private pick(mayRunInline: boolean): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (s.ready && (!best || s.pending.size < best.pending.size)) best = s;
    if ((!best || best.pending.size > 0) && this.slots.length < this.size && this.slots.every((s) => s.ready)) {
      try {
        this.spawn();
      } catch {
        this.broken = true;
      }
    }
    return best && (!mayRunInline || best.pending.size < WORKER_QUEUE) ? best : undefined;
  }

  private post(slot: Slot, req: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(req.seq, { req, resolve });
      slot.worker.postMessage(req);
    });
  }

  private spawn(): void {
    const worker = startWorker();
    let onStarted = (): void => undefined;
    const started = new Promise<void>((resolve) => (onStarted = resolve));
    const slot: Slot = { worker, ready: false, started, onStarted, pending: new Map() };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.seq === 0) {
        slot.ready = true;
        slot.onStarted();
        return;
      }
      const p = slot.pending.get(reply.seq);
      if (!p) return;
      slot.pending.delete(reply.seq);
      if (slot.pending.size === 0) worker.unref();
      p.resolve(reply);
    });
    const fail = (): void => {
      slot.onStarted();
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots.splice(at, 1);
      if (!this.closing) this.broken = true; // do not spawn again in this process; what was queued runs inline
      for (const p of slot.pending.values()) p.resolve(runJob(this.codec, p.req));
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    worker.unref();
    this.slots.push(slot);
  }
}

/**
 * Starts chunk-worker.js beside this module (dist, or a bundle that emits it). From TypeScript
 * sources under tsx (tests, development) the worker registers tsx before loading chunk-worker.ts,
 * since loader hooks of the main thread do not reach worker threads.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./chunk-worker.js', here));
  const workerData = { entry: new URL('./chunk-worker.ts', here).href, tsx: tsxEsmApi(here) };
  const boot = "const d = require('node:worker_threads').workerData; import(d.tsx).then((m) => { m.register(); return import(d.entry); });";
  return new Worker(boot, { eval: true, workerData });
}

/** URL of tsx's ESM API (`tsx/esm/api`, import condition), read from its package.json exports. */
function tsxEsmApi(from: string): string {
  const pkgFile = createRequire(from).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(pkgFile), pkg.exports['./esm/api']!.import.default)).href;
}
