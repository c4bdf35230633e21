import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chunkId, ChunkCodec, compressBound } from './chunk-codec.js';
import { ChunkWorkers, isShared } from './chunk-workers.js';
import { isRepositoryError, Repository } from './index.js';
import { mixedImage, restoreToBuffer, writeWhole } from './testing/images.js';

const MiB = 1024 * 1024;
const shared = (data: Uint8Array): Buffer => {
  const b = Buffer.from(new SharedArrayBuffer(data.length));
  b.set(data);
  return b;
};

describe('ChunkWorkers', function () {
  this.timeout(60_000);
  const pool = new ChunkWorkers(2);
  before(() => pool.warmUp());
  after(() => pool.close());
  const chunks = [randomBytes(MiB), mixedImage(MiB, 'text', 64 * 1024, 256 * 1024), Buffer.alloc(64 * 1024, 7), randomBytes(100)];

  it('hashes and compresses like the inline codec, many jobs at once', async () => {
    const codec = new ChunkCodec();
    const jobs = chunks.flatMap((c) => Array.from({ length: 6 }, async () => {
      const src = shared(c);
      const dst = Buffer.from(new SharedArrayBuffer(compressBound(src.length)));
      const dst2 = Buffer.from(new SharedArrayBuffer(compressBound(src.length)));
      const [id, n, both] = await Promise.all([pool.hash(src), pool.compress(src, dst), pool.encode(src, dst2)]);
      const ref = Buffer.alloc(compressBound(c.length));
      const m = codec.compress(ref, c);
      expect(id.equals(chunkId(c))).to.equal(true);
      expect(n).to.equal(m);
      expect(both.id.equals(id)).to.equal(true);
      expect(both.n).to.equal(n);
      expect(dst2.subarray(0, n).equals(dst.subarray(0, n))).to.equal(true);
      if (n > 0) expect(dst.subarray(0, n).equals(ref.subarray(0, m))).to.equal(true);
      return n;
    }));
    const sizes = await Promise.all(jobs);
    expect(pool.counts.worker).to.equal(pool.capacity); // a burst: the workers take what they can hold, the rest runs inline
    expect(sizes.slice(0, 6)).to.deep.equal([0, 0, 0, 0, 0, 0]); // random data is stored raw
    expect(sizes[6]).to.be.greaterThan(0).and.lessThan(MiB / 2); // text compresses
  });

  it('decodes and checks a stored chunk; rejects a wrong id and a damaged frame', async () => {
    const plain = shared(chunks[1]!);
    const stored = Buffer.from(new SharedArrayBuffer(compressBound(plain.length)));
    const n = await pool.compress(plain, stored);
    const out = Buffer.from(new SharedArrayBuffer(MiB));
    await pool.decode(stored.subarray(0, n), out, plain.length, true, chunkId(plain));
    expect(out.subarray(0, plain.length).equals(plain)).to.equal(true);
    out.fill(0);
    await pool.decode(plain, out, plain.length, false, chunkId(plain)); // a raw chunk: copied, then hashed
    expect(out.subarray(0, plain.length).equals(plain)).to.equal(true);
    let err = await pool.decode(stored.subarray(0, n), out, plain.length, true, chunkId(Buffer.from('other'))).catch((e: Error) => e);
    expect(String(err)).to.match(/fails its sha256/);
    stored[Math.floor(n / 2)]! ^= 0xff;
    stored[Math.floor(n / 3)]! ^= 0xff;
    err = await pool.decode(stored.subarray(0, n), out, plain.length, true, chunkId(plain)).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
  });

  it('runs jobs on buffers that are not shared inline, with the same results', async () => {
    const c = chunks[1]!;
    expect(isShared(c)).to.equal(false);
    expect((await pool.hash(c)).equals(chunkId(c))).to.equal(true);
    const dst = Buffer.alloc(compressBound(c.length));
    expect(await pool.compress(c, dst)).to.equal(new ChunkCodec().compress(Buffer.alloc(compressBound(c.length)), c));
  });

  it('finishes jobs inline when its workers go away mid-flight', async () => {
    const own = new ChunkWorkers(2);
    const src = shared(chunks[0]!);
    await own.warmUp();
    const ids = Array.from({ length: own.capacity + 4 }, () => own.hash(src));
    expect(own.counts).to.deep.equal({ worker: own.capacity, inline: 4 }); // the workers' queues full, the rest inline
    await own.close();
    for (const id of await Promise.all(ids)) expect(id.equals(chunkId(src))).to.equal(true);
  });

  it('runs jobs inline while its workers start, so nothing waits for a worker to boot', async () => {
    const cold = new ChunkWorkers(1);
    try {
      const src = shared(chunks[3]!);
      expect((await cold.hash(src)).equals(chunkId(src))).to.equal(true);
      expect(cold.counts).to.deep.equal({ worker: 0, inline: 1 });
      await cold.warmUp();
      await cold.hash(src);
      expect(cold.counts.worker).to.equal(1);
    } finally {
      await cold.close();
    }
  });

  it('with size 0 runs everything inline', async () => {
    const inline = new ChunkWorkers(0);
    const src = shared(chunks[3]!);
    expect((await inline.hash(src)).equals(chunkId(src))).to.equal(true);
  });

  it('serves repositories by their chunkThreads option; a bad value is refused', async () => {
    expect(ChunkWorkers.shared(0)).to.equal(ChunkWorkers.shared(0));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vf-threads-'));
    try {
      const root = path.join(dir, 'repo');
      await Repository.init(root);
      const err = await Repository.open(root, { chunkThreads: -1 }).catch((e: unknown) => e);
      expect(isRepositoryError(err) && err.code).to.equal('INVALID_ARGUMENT');
      const image = mixedImage(6 * MiB, 'threads-0', 64 * 1024, MiB);
      const repo = await Repository.open(root, { chunkThreads: 0 });
      const w = await repo.beginPoint({ vm: 'inline' });
      w.addDisk({ key: '2000', capacity: image.length, mode: 'full' });
      await writeWhole(w, '2000', image);
      const info = await w.commit();
      expect((await restoreToBuffer(repo, info.id, '2000')).equals(image)).to.equal(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
