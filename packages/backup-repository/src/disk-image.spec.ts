import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileSink, Repository, type RestoreSink } from './index.js';
import { scatterChanges } from './testing/changes.js';
import { mixedImage, Prng, writeWhole } from './testing/images.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A sink that copies what it gets, with writes that take a while, counting those in flight. */
function slowSink(capacity: number, parallelWrites: number, failAt?: number): RestoreSink & { image: Buffer; inFlight: number; maxInFlight: number } {
  const prng = new Prng('slow-sink');
  const sink = {
    image: Buffer.alloc(capacity),
    inFlight: 0,
    maxInFlight: 0,
    parallelWrites,
    async write(data: Buffer, offset: number) {
      sink.inFlight++;
      sink.maxInFlight = Math.max(sink.maxInFlight, sink.inFlight);
      try {
        await sleep(prng.int(4));
        if (failAt !== undefined && offset >= failAt) throw new Error(`ENOSPC at ${offset}`);
        data.copy(sink.image, offset); // after the wait: the data must still be valid
      } finally {
        sink.inFlight--;
      }
    },
    async zero(offset: number, length: number) {
      sink.image.fill(0, offset, offset + length);
    },
  };
  return sink;
}

describe('restore with parallel writes', function () {
  this.timeout(60_000);
  let dir: string;
  let repo: Repository;
  let image: Buffer;
  let pointId: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-parallel-restore-'));
    repo = await Repository.init(path.join(dir, 'repo'));
    const prng = new Prng('parallel-restore');
    image = mixedImage(24 * MiB, 'parallel-restore', 64 * 1024, 2 * MiB);
    const full = await repo.beginPoint({ vm: 'vm' });
    full.addDisk({ key: '2000', capacity: image.length, mode: 'full' });
    await writeWhole(full, '2000', image);
    const base = await full.commit();
    // an incremental cuts chunks: one chunk then serves several segments, some while others are written
    const areas = scatterChanges(image, prng, 60);
    const incr = await repo.beginPoint({ vm: 'vm', parent: base.id });
    incr.addDisk({ key: '2000', capacity: image.length, mode: 'incremental' });
    for (const a of areas) await incr.writeExtent('2000', a.offset, image.subarray(a.offset, a.offset + a.length));
    pointId = (await incr.commit()).id;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps several writes in flight, each with its data intact, and restores bit-identical', async () => {
    const sink = slowSink(image.length, 3);
    await repo.restoreDisk(pointId, '2000', sink);
    expect(sink.image.equals(image)).to.equal(true);
    expect(sink.maxInFlight).to.equal(3);
    expect(sink.inFlight).to.equal(0);
  });

  it('awaits each write when the sink does not allow parallel writes', async () => {
    const sink = slowSink(image.length, 1);
    await repo.restoreDisk(pointId, '2000', sink);
    expect(sink.image.equals(image)).to.equal(true);
    expect(sink.maxInFlight).to.equal(1);
  });

  it('fails with the failed write, and only once no write of the restore is running', async () => {
    const sink = slowSink(image.length, 4, 10 * MiB);
    const err = await repo.restoreDisk(pointId, '2000', sink).catch((e: unknown) => e);
    expect(String(err)).to.match(/ENOSPC/);
    expect(sink.inFlight).to.equal(0);
    // the repository is fine afterwards
    const again = slowSink(image.length, 4);
    await repo.restoreDisk(pointId, '2000', again);
    expect(again.image.equals(image)).to.equal(true);
  });

  it('restores to a sparse file with parallel (direct or buffered) writes: the same bytes, no file left open, holes for zeroes', async () => {
    const file = path.join(dir, 'restored.raw');
    const fdsBefore = (await readdir('/proc/self/fd')).length;
    for (let round = 0; round < 4; round++) {
      const sink = fileSink(file, { direct: round % 2 === 0, sync: round === 3 });
      expect(sink.parallelWrites).to.be.greaterThan(1);
      await repo.restoreDisk(pointId, '2000', sink);
      expect((await readdir('/proc/self/fd')).length, 'file descriptors left open').to.be.at.most(fdsBefore);
      expect((await readFile(file)).equals(image)).to.equal(true);
      expect((await stat(file)).blocks * 512).to.be.lessThan(image.length);
    }
  });
});
