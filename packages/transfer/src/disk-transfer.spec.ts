import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { ReadInto } from '@vaultflow/nbd';
import { planReads } from './cbt-planner.js';
import { transferDisk, type ExtentReader, type ExtentWriter, type TransferProgress } from './disk-transfer.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { rejection } from './testing/rejection.js';

const KiB = 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An in-memory disk that counts reads in flight and can be slowed down or broken. */
class MemoryReader implements ExtentReader {
  inFlight = 0;
  maxInFlight = 0;
  started: number[] = [];
  intoUsed = 0;
  constructor(
    private readonly image: Buffer,
    private readonly opts: { delayMs?: number; honourInto?: boolean; fail?: (offset: number) => Error | undefined; shortBy?: number } = {},
  ) {}

  async read(offset: number, length: number, into?: ReadInto): Promise<Buffer> {
    this.started.push(offset);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.opts.delayMs) await sleep(this.opts.delayMs);
      const err = this.opts.fail?.(offset);
      if (err) throw err;
      const n = length - (this.opts.shortBy ?? 0);
      if (this.opts.honourInto !== false && into) {
        this.intoUsed++;
        this.image.copy(into.buffer, into.offset ?? 0, offset, offset + n);
        return into.buffer.subarray(into.offset ?? 0, (into.offset ?? 0) + n);
      }
      return Buffer.from(this.image.subarray(offset, offset + n));
    } finally {
      this.inFlight--;
    }
  }
}

/** Records what a PointWriter would be given; copies data (the buffer is reused after writeExtent). */
class RecordingWriter implements ExtentWriter {
  data = new Map<number, Buffer>();
  zeros: Array<[number, number]> = [];
  pending = 0;
  constructor(private readonly opts: { delayMs?: number; failAt?: number } = {}) {}

  async writeExtent(diskKey: string, offset: number, data: Uint8Array): Promise<void> {
    expect(diskKey).to.equal('2000');
    this.pending++;
    try {
      if (this.opts.delayMs) await sleep(this.opts.delayMs);
      if (offset === this.opts.failAt) throw new Error('pack write failed: ENOSPC');
      this.data.set(offset, Buffer.from(data));
    } finally {
      this.pending--;
    }
  }

  zeroExtent(diskKey: string, offset: number, length: number): void {
    expect(diskKey).to.equal('2000');
    this.zeros.push([offset, length]);
  }
}

/** 20 blocks of 64 KiB: every third one all zero, the others random (some with zero halves). */
function image(): Buffer {
  const img = randomBytes(20 * 64 * KiB);
  for (let b = 0; b < 20; b += 3) img.fill(0, b * 64 * KiB, (b + 1) * 64 * KiB);
  img.fill(0, 64 * KiB, 96 * KiB); // block 1 is half zero: not an all-zero read
  return img;
}


describe('transferDisk', () => {
  const img = image();
  const plan = planReads([{ start: 0, length: img.length }], 64 * KiB);

  it('writes every non-zero read with its bytes, records all-zero reads as zero, and counts both', async () => {
    const reader = new MemoryReader(img);
    const writer = new RecordingWriter();
    const res = await transferDisk({ reader, reads: plan.reads, writer, diskKey: '2000' });
    const zeroBlocks = [0, 3, 6, 9, 12, 15, 18];
    expect(writer.zeros.sort((a, b) => a[0] - b[0])).to.deep.equal(zeroBlocks.map((b) => [b * 64 * KiB, 64 * KiB]));
    expect([...writer.data.keys()].sort((a, b) => a - b)).to.deep.equal([...Array(20).keys()].filter((b) => !zeroBlocks.includes(b)).map((b) => b * 64 * KiB));
    for (const [offset, data] of writer.data) expect(data.equals(img.subarray(offset, offset + 64 * KiB)), `block at ${offset}`).to.equal(true);
    expect(res).to.deep.equal({ bytesRead: 20 * 64 * KiB, bytesData: 13 * 64 * KiB, bytesZero: 7 * 64 * KiB, bytesHoles: 0, reads: 20 });
  });

  it('keeps at most `concurrency` reads in flight, using several, into a few reused buffers', async () => {
    const reader = new MemoryReader(img, { delayMs: 5 });
    const pool = new ReadBufferPool(64 * KiB);
    await transferDisk({ reader, reads: plan.reads, writer: new RecordingWriter(), diskKey: '2000', concurrency: 3, pool });
    expect(reader.maxInFlight).to.equal(3);
    expect(reader.intoUsed).to.equal(20);
    expect(pool.allocated).to.equal(3);
  });

  it('reads several places of the disk at once (stripes), each byte once', async () => {
    const reader = new MemoryReader(img, { delayMs: 2 });
    const writer = new RecordingWriter();
    await transferDisk({ reader, reads: plan.reads, writer, diskKey: '2000', concurrency: 4, stripes: 4 });
    // 20 reads of 64 KiB: the first four start at the four quarters of the disk
    expect(reader.started.slice(0, 4)).to.deep.equal([0, 5, 10, 15].map((b) => b * 64 * KiB));
    expect(reader.started.slice().sort((a, b) => a - b)).to.deep.equal(plan.reads.map((r) => r.offset));
    for (const [offset, data] of writer.data) expect(data.equals(img.subarray(offset, offset + 64 * KiB)), `block at ${offset}`).to.equal(true);
    const plain = new MemoryReader(img);
    await transferDisk({ reader: plain, reads: plan.reads, writer: new RecordingWriter(), diskKey: '2000', concurrency: 4, stripes: 1 });
    expect(plain.started).to.deep.equal(plan.reads.map((r) => r.offset));
  });

  it('uses the returned buffer when the reader ignores `into`', async () => {
    const reader = new MemoryReader(img, { honourInto: false });
    const writer = new RecordingWriter();
    await transferDisk({ reader, reads: plan.reads, writer, diskKey: '2000' });
    expect(reader.intoUsed).to.equal(0);
    expect(writer.data.get(2 * 64 * KiB)!.equals(img.subarray(2 * 64 * KiB, 3 * 64 * KiB))).to.equal(true);
  });

  it('reports progress every interval while running and the total at the end', async () => {
    const events: TransferProgress[] = [];
    await transferDisk({
      reader: new MemoryReader(img, { delayMs: 10 }), reads: plan.reads, writer: new RecordingWriter(), diskKey: '2000',
      concurrency: 1, progressIntervalMs: 30, onProgress: (p) => events.push(p),
    });
    expect(events.length).to.be.greaterThan(3);
    expect(events.every((e) => e.bytes_total === img.length)).to.equal(true);
    for (let i = 1; i < events.length; i++) expect(events[i]!.bytes_done).to.be.at.least(events[i - 1]!.bytes_done);
    expect(events.some((e) => e.bytes_done > 0 && e.bytes_done < img.length)).to.equal(true);
    expect(events[events.length - 1]).to.deep.equal({ bytes_done: img.length, bytes_total: img.length });
  });

  it('stops issuing reads once aborted, rejects ABORTED promptly, with no write still pending', async () => {
    const reader = new MemoryReader(img, { delayMs: 20 });
    const writer = new RecordingWriter({ delayMs: 15 });
    const ac = new AbortController();
    const run = transferDisk({ reader, reads: plan.reads, writer, diskKey: '2000', concurrency: 2, signal: ac.signal });
    await sleep(70);
    ac.abort(new Error('cancelled by user'));
    const startedAtAbort = reader.started.length;
    const t0 = Date.now();
    const err = await rejection(run);
    expect(Date.now() - t0).to.be.below(1000);
    expect(err.code).to.equal('ABORTED');
    expect((err.cause as Error).message).to.equal('cancelled by user');
    expect(writer.pending).to.equal(0);
    expect(reader.inFlight).to.equal(0);
    expect(reader.started.length).to.equal(startedAtAbort);
    expect(startedAtAbort).to.be.within(2, 19);
  });

  it('ends in ABORTED, not READ_FAILED, when the caller closes the reader on abort to cut stalled reads short', async () => {
    const hanging: Array<(err: Error) => void> = [];
    const reader: ExtentReader = { read: () => new Promise<Buffer>((_resolve, reject) => hanging.push(reject)) };
    const ac = new AbortController();
    ac.signal.addEventListener('abort', () => { for (const reject of hanging.splice(0)) reject(new Error('reader closed')); });
    const run = transferDisk({ reader, reads: plan.reads, writer: new RecordingWriter(), diskKey: '2000', concurrency: 2, signal: ac.signal });
    await sleep(20);
    expect(hanging).to.have.length(2);
    ac.abort();
    const err = await rejection(run);
    expect(err.code).to.equal('ABORTED');
  });

  it('rejects ABORTED before reading anything when the signal is already aborted', async () => {
    const reader = new MemoryReader(img);
    const err = await rejection(transferDisk({ reader, reads: plan.reads, writer: new RecordingWriter(), diskKey: '2000', signal: AbortSignal.abort() }));
    expect([err.code, reader.started.length]).to.deep.equal(['ABORTED', 0]);
  });

  it('fails with READ_FAILED naming the disk and offset, after the reads in flight settle, and reads no further', async () => {
    const bad = 5 * 64 * KiB;
    const cause = Object.assign(new Error('EIO from the server'), { transient: true });
    const reader = new MemoryReader(img, { delayMs: 5, fail: (o) => (o === bad ? cause : undefined) });
    const err = await rejection(transferDisk({ reader, reads: plan.reads, writer: new RecordingWriter(), diskKey: '2000', diskName: '[ds] vm/disk.vmdk', concurrency: 2 }));
    expect(err.code).to.equal('READ_FAILED');
    expect(err.message).to.equal(`disk [ds] vm/disk.vmdk: reading 65536 bytes at offset ${bad} failed: EIO from the server`);
    expect([err.disk, err.offset, err.length, err.transient, err.cause]).to.deep.equal(['[ds] vm/disk.vmdk', bad, 64 * KiB, true, cause]);
    expect(reader.inFlight).to.equal(0);
    expect(reader.started.length).to.be.at.most(7); // the failed read plus at most one more per worker
  });

  it('fails when a reader returns fewer bytes than asked', async () => {
    const err = await rejection(transferDisk({ reader: new MemoryReader(img, { shortBy: 1 }), reads: plan.reads.slice(1, 2), writer: new RecordingWriter(), diskKey: '2000' }));
    expect([err.code, err.offset]).to.deep.equal(['READ_FAILED', 64 * KiB]);
    expect(err.message).to.match(/returned 65535 bytes, not 65536/);
  });

  it('passes the writer error through unchanged', async () => {
    const err = await transferDisk({ reader: new MemoryReader(img), reads: plan.reads, writer: new RecordingWriter({ failAt: 64 * KiB }), diskKey: '2000' })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).to.equal('pack write failed: ENOSPC');
  });

  it('refuses reads that do not fit the pool, a bad concurrency and bad stripes', async () => {
    const big = planReads([{ start: 0, length: 256 * KiB }], 128 * KiB).reads;
    const err = await rejection(transferDisk({ reader: new MemoryReader(img), reads: big, writer: new RecordingWriter(), diskKey: '2000', pool: new ReadBufferPool(64 * KiB) }));
    expect(err.code).to.equal('INVALID_ARGUMENT');
    const err2 = await rejection(transferDisk({ reader: new MemoryReader(img), reads: big, writer: new RecordingWriter(), diskKey: '2000', concurrency: 0 }));
    expect(err2.code).to.equal('INVALID_ARGUMENT');
    const err3 = await rejection(transferDisk({ reader: new MemoryReader(img), reads: plan.reads, writer: new RecordingWriter(), diskKey: '2000', stripes: 0 }));
    expect(err3.code).to.equal('INVALID_ARGUMENT');
    expect(err3.message).to.contain('stripes');
  });

  it('does nothing for an empty plan', async () => {
    const reader = new MemoryReader(img);
    expect(await transferDisk({ reader, reads: [], writer: new RecordingWriter(), diskKey: '2000' })).to.deep.equal({ bytesRead: 0, bytesData: 0, bytesZero: 0, bytesHoles: 0, reads: 0 });
    expect(reader.started).to.deep.equal([]);
  });
});
