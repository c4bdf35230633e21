import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRepositoryError, Repository, type CopyReport } from './index.js';
import { flipChunkByte } from './testing/damage.js';
import { mixedImage, Prng, restoreToBuffer, sha256, writeWhole } from './testing/images.js';
import { rejection } from './testing/rejection.js';

const MiB = 1024 * 1024;

describe('copying restore points between repositories', function () {
  this.timeout(60_000);
  let dir: string;
  let a: Repository;
  let b: Repository;
  let rootA: string;
  const image = mixedImage(6 * MiB, 'copy-source', 64 * 1024, MiB);
  const ids: string[] = [];
  const hashes: string[] = [];

  /** A point of disk 2000 in repository A: the whole image, or only `changes` on top of the last point. */
  async function point(changes?: Array<[number, number]>): Promise<string> {
    const w = await a.beginPoint({ vm: 'vm-1', ...(changes ? { parent: ids.at(-1)! } : {}) });
    w.addDisk({ key: '2000', capacity: image.length, mode: changes ? 'incremental' : 'full' });
    if (!changes) await writeWhole(w, '2000', image);
    for (const [offset, length] of changes ?? []) {
      new Prng(`change-${ids.length}-${offset}`).fill(image.subarray(offset, offset + length));
      await w.writeExtent('2000', offset, image.subarray(offset, offset + length));
    }
    ids.push((await w.commit()).id);
    hashes.push(sha256(image));
    return ids.at(-1)!;
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-copy-'));
    rootA = path.join(dir, 'a');
    a = await Repository.init(rootA, { packSize: 4 * MiB });
    b = await Repository.init(path.join(dir, 'b'), { packSize: 4 * MiB });
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('copies a full point: every chunk, then the same manifest; it restores bit for bit and verifies', async () => {
    const id = await point();
    const r: CopyReport = await b.copyPointFrom(a, id);
    expect(r).to.include({ point: id, already_present: false });
    expect(r.chunks_copied).to.equal(r.chunks).and.to.be.greaterThan(3);
    expect(sha256(await restoreToBuffer(b, id, '2000'))).to.equal(hashes[0]);
    expect((await b.listPoints()).map((p) => p.id)).to.deep.equal([id]);
    expect((await b.verify()).ok).to.equal(true);
  });

  it('copies an incremental point as the chunks the destination lacks: a few, not the disk', async () => {
    const id = await point([[MiB, 64 * 1024], [4 * MiB + 4096, 128 * 1024]]);
    const r = await b.copyPointFrom(a, id);
    expect(r.chunks_copied).to.equal(2);
    expect(r.bytes_copied).to.be.at.most(192 * 1024 + 1024);
    expect(sha256(await restoreToBuffer(b, id, '2000'))).to.equal(hashes[1]);
    expect(await b.copyPointFrom(a, id)).to.include({ already_present: true, chunks_copied: 0 });
  });

  it('stands on its own: deleting and pruning the source point leaves the copy whole', async () => {
    await a.deletePoint(ids[0]!);
    await a.prune({ maxUnusedFraction: 0 });
    expect(sha256(await restoreToBuffer(b, ids[0]!, '2000'))).to.equal(hashes[0]);
  });

  it('refuses to copy a damaged chunk, and the destination keeps no trace of the point', async () => {
    const id = await point([[2 * MiB, 64 * 1024]]);
    const fresh = [...(await a.readPoint(id)).disks[0]!.extents.chunkIds()];
    const before = new Set<string>();
    for (const p of ids.slice(0, 2)) (await b.readPoint(p)).disks[0]!.extents.chunkIds(before);
    const own = fresh.find((c) => !before.has(c))!;
    await flipChunkByte(rootA, own);
    const err = await rejection(b.copyPointFrom(a, id));
    expect(isRepositoryError(err, 'CHUNK_CORRUPT'), String(err)).to.equal(true);
    expect((err as Error).message).to.contain(own);
    expect((await b.listPoints()).map((p) => p.id)).to.not.include(id);
    expect((await b.verify()).ok).to.equal(true);
    expect(isRepositoryError(await rejection(b.copyPointFrom(a, 'no-such-point')), 'POINT_NOT_FOUND')).to.equal(true);
  });
});
