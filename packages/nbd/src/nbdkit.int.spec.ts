import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NbdClient } from './nbd-client.js';
import { NbdDiskReader, type NbdDiskReaderOptions, type RetryEvent } from './nbd-disk-reader.js';
import { NbdError } from './nbd-error.js';
import { AllocationFlag } from './protocol/constants.js';
import { type NbdServer, runTool, startNbdkit } from './testing/servers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const uri = (s: NbdServer): string => `nbd+unix:///?socket=${s.socket}`;

async function rejection(p: Promise<unknown>): Promise<NbdError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(NbdError);
    return err as NbdError;
  }
  throw new Error('expected a rejection');
}

// Integration against real nbdkit plugins and filters: memory, sparse-random, file behind the error
// filter (EIO injection), and the delay filter with out-of-order completion.
describe('nbd against nbdkit', function () {
  this.timeout(20_000);
  let dir: string;
  let disk: Buffer;
  let diskPath: string;
  const servers: NbdServer[] = [];
  const closers: Array<{ close(): Promise<void> }> = [];

  const serve = async (args: string[], filters: string[] = []): Promise<NbdServer> => {
    const s = await startNbdkit(args, { filters });
    servers.push(s);
    return s;
  };
  const connect = async (s: NbdServer, metaContexts: string[] = []): Promise<NbdClient> => {
    const c = await NbdClient.connect({ address: { socketPath: s.socket }, metaContexts });
    closers.push(c);
    return c;
  };
  const openReader = async (s: NbdServer, options: NbdDiskReaderOptions): Promise<NbdDiskReader> => {
    const r = await NbdDiskReader.open({ address: { socketPath: s.socket }, maxRequestBytes: 256 * KiB }, { baseDelayMs: 2, maxDelayMs: 20, ...options });
    closers.push(r);
    return r;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vaultflow-nbd-kit-'));
    disk = randomBytes(4 * MiB);
    diskPath = join(dir, 'disk.raw');
    await writeFile(diskPath, disk);
  });

  afterEach(async () => {
    for (const c of closers.splice(0)) await c.close().catch(() => undefined);
    for (const s of servers.splice(0)) await s.stop();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads back a memory disk filled by nbdcopy, and sees its untouched part as a hole', async () => {
    const image = Buffer.concat([randomBytes(MiB), Buffer.alloc(2 * MiB), randomBytes(MiB)]);
    await writeFile(join(dir, 'fill.raw'), image);
    const server = await serve(['memory', 'size=4M']);
    await runTool('nbdcopy', [join(dir, 'fill.raw'), uri(server)]);
    const client = await connect(server, ['base:allocation']);
    expect(client.size).to.equal(4 * MiB);
    expect(client.readOnly).to.equal(false);
    const into = Buffer.alloc(client.size, 0xff);
    await client.read(0, client.size, { buffer: into });
    expect(sha256(into)).to.equal(sha256(image));
    const zero = (await client.extents('base:allocation')).filter((e) => (e.flags & AllocationFlag.ZERO) !== 0);
    const zeroInMiddle = zero.filter((e) => e.offset >= MiB && e.offset + e.length <= 3 * MiB).reduce((n, e) => n + e.length, 0);
    expect(zeroInMiddle).to.equal(2 * MiB);
    expect(zero.every((e) => e.offset >= MiB && e.offset + e.length <= 3 * MiB)).to.equal(true);
  });

  it('agrees with nbdcopy on a sparse-random disk, and finds all its data inside the allocated extents', async () => {
    const server = await serve(['sparse-random', 'size=16M', 'seed=4242', 'percent=10', 'runlength=65536', 'random-content=true']);
    await runTool('nbdcopy', [uri(server), join(dir, 'sparse-copy.raw')]);
    const reference = await readFile(join(dir, 'sparse-copy.raw'));
    const reader = await openReader(server, {});
    const whole = await reader.read(0, reader.size);
    expect(sha256(whole)).to.equal(sha256(reference));
    const allocated = await reader.allocatedExtents();
    const allocatedBytes = allocated.reduce((n, e) => n + e.length, 0);
    expect(allocatedBytes).to.be.within(0.03 * 16 * MiB, 0.3 * 16 * MiB);
    const rebuilt = Buffer.alloc(reader.size);
    for (const e of allocated) {
      const part = await reader.read(e.offset, e.length);
      expect(part.some((b) => b !== 0), `extent at ${e.offset}`).to.equal(true);
      part.copy(rebuilt, e.offset);
    }
    expect(sha256(rebuilt)).to.equal(sha256(whole));
  });

  it('retries EIO injected by the error filter until the fault clears, returning the right bytes', async () => {
    const trigger = join(dir, 'inject-eio');
    await writeFile(trigger, '');
    const server = await serve(['file', `file=${diskPath}`, 'error-pread=EIO', 'error-pread-rate=100%', `error-pread-file=${trigger}`], ['error']);
    const retries: RetryEvent[] = [];
    const reader = await openReader(server, {
      attempts: 5,
      // Synchronous, so the fault is gone before the reader sleeps and tries again.
      onRetry: (e) => { retries.push(e); if (retries.length === 2) unlinkSync(trigger); },
    });
    const data = await reader.read(MiB, 2 * MiB);
    expect(data.equals(disk.subarray(MiB, 3 * MiB))).to.equal(true);
    expect(retries.map((r) => r.attempt)).to.deep.equal([1, 2]);
    expect(retries[0]!.error).to.include({ code: 'EIO', transient: true });
    expect(retries[0]!.error.offset).to.be.within(MiB, 3 * MiB - 1);
  });

  it('rides out a 25% random EIO rate over many reads', async () => {
    const server = await serve(['file', `file=${diskPath}`, 'error-pread=EIO', 'error-pread-rate=25%'], ['error']);
    let retried = 0;
    const reader = await openReader(server, { attempts: 15, onRetry: () => { retried++; } });
    const pieces = await Promise.all(Array.from({ length: 32 }, (_, i) => reader.read(i * 128 * KiB, 128 * KiB)));
    expect(sha256(Buffer.concat(pieces))).to.equal(sha256(disk));
    expect(retried).to.be.greaterThan(0);
  });

  it('gives up on persistent EIO after the configured attempts, naming the offset', async () => {
    const server = await serve(['file', `file=${diskPath}`, 'error-pread=EIO', 'error-pread-rate=100%'], ['error']);
    let retried = 0;
    const reader = await openReader(server, { attempts: 3, onRetry: () => { retried++; } });
    const err = await rejection(reader.read(3 * MiB + 4096, 8192));
    expect(retried).to.equal(2);
    expect(err).to.include({ code: 'EIO', transient: true, offset: 3 * MiB + 4096 });
    expect(err.message).to.contain(`offset ${3 * MiB + 4096}`).and.contain('after 3 attempts');
  });

  it('does not retry EINVAL and names the offset', async () => {
    const server = await serve(['file', `file=${diskPath}`, 'error-pread=EINVAL', 'error-pread-rate=100%'], ['error']);
    let retried = 0;
    const reader = await openReader(server, { attempts: 5, onRetry: () => { retried++; } });
    const err = await rejection(reader.read(MiB, 4096));
    expect(retried).to.equal(0);
    expect(err).to.include({ code: 'EINVAL', transient: false, offset: MiB });
    expect(err.message).to.contain(`offset ${MiB}`);
  });

  it('keeps many delayed reads in flight at once and matches each reply to its read', async () => {
    const server = await serve(['file', `file=${diskPath}`, 'delay-read=40ms'], ['delay']);
    const client = await connect(server);
    const started = Date.now();
    const offsets = Array.from({ length: 16 }, (_, i) => (15 - i) * 256 * KiB + i * 512);
    const results = await Promise.all(offsets.map((o) => client.read(o, 64 * KiB)));
    const elapsed = Date.now() - started;
    offsets.forEach((o, i) => expect(results[i]!.equals(disk.subarray(o, o + 64 * KiB)), `read at ${o}`).to.equal(true));
    expect(elapsed).to.be.below(16 * 40 * 0.6);
  });

  it('handles replies that overtake each other behind the delay filter', async () => {
    // The eval plugin sleeps 600, 450, 300, 150 ms for the four offsets, so replies come back in reverse order.
    const pread = `sleep 0.$(( (4 - $4 / 262144) * 15 )); dd if=${diskPath} skip=$4 count=$3 iflag=skip_bytes,count_bytes status=none`;
    const server = await serve(['eval', `get_size=echo ${MiB}`, `pread=${pread}`, 'thread_model=echo parallel', 'delay-read=20ms'], ['delay']);
    const client = await connect(server);
    const order: number[] = [];
    const offsets = [0, 262144, 524288, 786432];
    const results = await Promise.all(offsets.map((o) => client.read(o, 4096).then((b) => { order.push(o); return b; })));
    offsets.forEach((o, i) => expect(results[i]!.equals(disk.subarray(o, o + 4096)), `read at ${o}`).to.equal(true));
    expect(order).to.deep.equal([...offsets].reverse());
  });
});
