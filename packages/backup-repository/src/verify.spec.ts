import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Repository } from './index.js';
import { flipChunkByte } from './testing/damage.js';
import { Prng, writeWhole } from './testing/images.js';
import { disksNeeding } from './verify.js';

const MiB = 1024 * 1024;

describe('verify: damaged points by disk', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-verify-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('names, for a damaged point, only the disks whose maps use a damaged chunk', async () => {
    const root = path.join(dir, 'repo');
    const repo = await Repository.init(root, { packSize: 4 * MiB });
    const prng = new Prng('verify-disks');
    const a = Buffer.alloc(2 * MiB);
    const b = Buffer.alloc(2 * MiB);
    prng.fill(a);
    prng.fill(b.subarray(0, MiB)); // the second half of b stays zero
    const w = await repo.beginPoint({ vm: 'vm-1' });
    w.addDisk({ key: '2000', capacity: a.length, mode: 'full' });
    w.addDisk({ key: '2001', capacity: b.length, mode: 'full' });
    await writeWhole(w, '2000', a);
    await writeWhole(w, '2001', b);
    const info = await w.commit();
    const point = await repo.readPoint(info.id);
    const onlyB = [...point.disks[1]!.extents.chunkIds()][0]!;
    expect(point.disks[0]!.extents.chunkIds().has(onlyB)).to.equal(false);

    expect(disksNeeding(point, new Set([onlyB]))).to.deep.equal([{ key: '2001', chunks: [onlyB] }]);
    expect(disksNeeding(point, new Set(['f'.repeat(64)]))).to.deep.equal([]);

    await flipChunkByte(root, onlyB);
    const report = await repo.verify();
    expect(report.ok).to.equal(false);
    expect(report.damaged_points).to.have.length(1);
    expect(report.damaged_points[0]).to.deep.include({ id: info.id, reason: 'chunks', chunks: [onlyB], disks: [{ key: '2001', chunks: [onlyB] }] });
  });
});
