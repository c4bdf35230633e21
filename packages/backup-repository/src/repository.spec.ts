import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileSink, isRepositoryError, Repository, type PointInfo, type WriteProgress } from './index.js';
import { readPackTrailer } from './pack-format.js';
import { scatterChanges, type Area } from './testing/changes.js';
import { mixedImage, Prng, restoreToBuffer, sha256, writeWhole } from './testing/images.js';
import { rejection } from './testing/rejection.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Non-zero 64 KiB blocks merged into areas: what CBT's "*" query reports for a full backup. */
function allocatedAreas(image: Buffer): Area[] {
  const out: Area[] = [];
  const zero = Buffer.alloc(64 * KiB);
  for (let at = 0; at < image.length; at += 64 * KiB) {
    const block = image.subarray(at, Math.min(image.length, at + 64 * KiB));
    if (zero.subarray(0, block.length).equals(block)) continue;
    const last = out[out.length - 1];
    if (last && last.offset + last.length === at) last.length += block.length;
    else out.push({ offset: at, length: block.length });
  }
  return out;
}

describe('Repository', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'vf-repo-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  describe('a chain of a full and incremental points', () => {
    let root: string;
    let repo: Repository;
    const points: { info: PointInfo; hashes: Record<string, string> }[] = [];
    let middleImages: Record<string, Buffer> = {};
    const progress: WriteProgress[] = [];

    before(async () => {
      root = path.join(await tempDir(), 'repo');
      repo = await Repository.init(root, { packSize: 8 * MiB, progressIntervalMs: 0 });
      const prng = new Prng('chain');
      const images: Record<string, Buffer> = { 2000: mixedImage(40 * MiB, 'disk-a'), 2001: mixedImage(12 * MiB - 512, 'disk-b', 4 * KiB, MiB) };

      // full: disk 2000 as CBT "*" reports it (allocated areas only), disk 2001 read whole with its zeroes
      const full = await repo.beginPoint({ vm: 'vm-1', meta: { seq: 0 }, onProgress: (p) => progress.push(p) });
      full.addDisk({ key: '2000', capacity: images[2000]!.length, uuid: 'uuid-a', change_id: 'c0', mode: 'full' });
      full.addDisk({ key: '2001', capacity: images[2001]!.length, uuid: 'uuid-b', change_id: 'c0', mode: 'full' });
      for (const a of allocatedAreas(images[2000]!)) await full.writeExtent('2000', a.offset, images[2000]!.subarray(a.offset, a.offset + a.length));
      await writeWhole(full, '2001', images[2001]!, 3 * MiB + 512);
      points.push({ info: await full.commit(), hashes: { 2000: sha256(images[2000]!), 2001: sha256(images[2001]!) } });

      for (let seq = 1; seq <= 4; seq++) {
        const parent = points[points.length - 1]!.info;
        const w = await repo.beginPoint({ vm: 'vm-1', parent: parent.id, meta: { seq } });
        if (seq === 3) {
          // disk 2001 grows: the new tail reads as zero until written
          const grown = Buffer.alloc(images[2001]!.length + 3 * MiB + 512);
          images[2001]!.copy(grown);
          images[2001] = grown;
        }
        if (seq === 4) images[2000] = Buffer.from(images[2000]!.subarray(0, images[2000]!.length - MiB - 4096));
        for (const key of ['2000', '2001']) {
          const image = images[key]!;
          w.addDisk({ key, capacity: image.length, uuid: `uuid-${key}`, change_id: `c${seq}`, mode: 'incremental' });
          const areas = scatterChanges(image, prng, key === '2000' ? 20 : 8);
          if (seq === 3 && key === '2001') {
            prng.fill(image.subarray(image.length - 2 * MiB, image.length - MiB));
            areas.push({ offset: image.length - 2 * MiB, length: MiB });
          }
          // disks in parallel, areas in any order
          for (const a of areas.sort(() => prng.int(3) - 1)) {
            if (a.length > 0 && image.subarray(a.offset, a.offset + a.length).every((b) => b === 0)) w.zeroExtent(key, a.offset, a.length);
            else await w.writeExtent(key, a.offset, image.subarray(a.offset, a.offset + a.length));
          }
        }
        points.push({ info: await w.commit(), hashes: { 2000: sha256(images[2000]!), 2001: sha256(images[2001]!) } });
        if (seq === 2) middleImages = { 2000: Buffer.from(images[2000]!), 2001: Buffer.from(images[2001]!) };
      }
    });

    it('lists every point with its disks, parents and change ids, oldest first', async () => {
      const listed = await repo.listPoints('vm-1');
      expect(listed.map((p) => p.id)).to.deep.equal(points.map((p) => p.info.id));
      expect(listed.map((p) => p.parent)).to.deep.equal([null, ...points.slice(0, -1).map((p) => p.info.id)]);
      expect(listed[0]!.disks.map((d) => d.mode)).to.deep.equal(['full', 'full']);
      expect(listed[4]!.disks.map((d) => [d.key, d.change_id, d.mode])).to.deep.equal([['2000', 'c4', 'incremental'], ['2001', 'c4', 'incremental']]);
      expect(await repo.listPoints('vm-2')).to.deep.equal([]);
      expect(progress.length).to.be.greaterThan(2);
      expect(progress[progress.length - 1]!.bytes_written).to.equal(points[0]!.info.stats.bytes_written);
    });

    it('restores every point of every disk bit-identical to the image at that point, on its own', async () => {
      for (const p of points) {
        for (const key of ['2000', '2001']) {
          expect(sha256(await restoreToBuffer(repo, p.info.id, key)), `point ${p.info.meta.seq} disk ${key}`).to.equal(p.hashes[key]);
        }
      }
      const capacities = (await repo.readPoint(points[4]!.info.id)).disks.map((d) => d.capacity);
      expect(capacities).to.deep.equal([40 * MiB - MiB - 4096, 12 * MiB - 512 + 3 * MiB + 512]);
    });

    it('stores an incremental as its changed extents, not as rewritten coarse chunks', () => {
      const full = points[0]!.info.stats;
      expect(full.bytes_zero).to.be.greaterThan(0);
      for (const p of points.slice(1)) {
        // ~20+8 scattered writes of 64-192 KiB: the new plaintext is that, a few MiB, never the 52 MiB disks
        expect(p.info.stats.bytes_new).to.be.below(8 * MiB);
        expect(p.info.stats.bytes_new).to.be.at.most(p.info.stats.bytes_written);
      }
      expect(points[1]!.info.stats.bytes_written).to.be.below(6 * MiB);
    });

    it('streams an image to a Writable and to a sparse file', async () => {
      const p = points[2]!;
      const hash = createHash('sha256');
      const out = new PassThrough();
      out.on('data', (d: Buffer) => hash.update(d));
      const done = await repo.restoreDisk(p.info.id, '2000', out);
      expect(hash.digest('hex')).to.equal(p.hashes[2000]);
      expect(done.data_bytes + done.zero_bytes).to.equal(done.capacity);
      expect(done.zero_bytes).to.be.greaterThan(0);

      const file = path.join(await tempDir(), 'disk.raw');
      const sink = fileSink(file);
      await repo.restoreDisk(p.info.id, '2000', sink);
      const st = await stat(file);
      expect(st.size).to.equal(done.capacity);
      expect(st.blocks * 512).to.be.below(st.size);
      const fh = await open(file, 'r');
      const content = Buffer.alloc(st.size);
      await fh.read(content, 0, st.size, 0);
      await fh.close();
      expect(sha256(content)).to.equal(p.hashes[2000]);
    });

    it('serves byte ranges of a point (HTTP Range), across chunks, cut chunks and zero ranges', async () => {
      const p = points[2]!;
      const prng = new Prng('ranges');
      for (const key of ['2000', '2001']) {
        const image = middleImages[key]!;
        const ranges = [[0, 1], [image.length - 1, 1], [0, image.length], [MiB - 7, MiB + 14]];
        for (let i = 0; i < 20; i++) {
          const offset = prng.int(image.length);
          ranges.push([offset, prng.int(Math.min(3 * MiB, image.length - offset) + 1)]);
        }
        for (const [offset, length] of ranges as [number, number][]) {
          const parts: Buffer[] = [];
          for await (const part of await repo.readRange(p.info.id, key, offset, length)) parts.push(part as Buffer);
          expect(Buffer.concat(parts).equals(image.subarray(offset, offset + length)), `${key} ${offset}+${length}`).to.equal(true);
        }
      }
      const err = await rejection(repo.readRange(p.info.id, '2000', 40 * MiB - 10, 11));
      expect(isRepositoryError(err, 'INVALID_ARGUMENT')).to.equal(true);
      expect(isRepositoryError(await rejection(repo.readRange(p.info.id, '9999', 0, 1)), 'DISK_NOT_FOUND')).to.equal(true);
    });

    it('verifies every point as sound', async () => {
      const report = await repo.verify();
      expect(report.ok).to.equal(true);
      expect(report.points_checked).to.equal(5);
      expect(report.chunks_checked).to.be.greaterThan(50);
    });

    it('rebuilds the repository index from pack trailers when index files are missing', async () => {
      const before = await repo.stats();
      for (const f of await readdir(path.join(root, 'index'))) await rm(path.join(root, 'index', f));
      const reopened = await Repository.open(root);
      expect(await reopened.stats()).to.deep.equal(before);
      expect(await readdir(path.join(root, 'index'))).to.have.length(1);
      expect(sha256(await restoreToBuffer(reopened, points[3]!.info.id, '2001'))).to.equal(points[3]!.hashes[2001]);
    });

    it('deletes a middle point: the others still restore and verify, and prune frees its chunks', async () => {
      const before = await repo.stats();
      expect(await repo.pruneWanted()).to.equal(false);
      await repo.deletePoint(points[2]!.info.id);
      expect(await (await Repository.open(root)).pruneWanted(), 'another process sees it').to.equal(true);
      expect(isRepositoryError(await rejection(repo.deletePoint(points[2]!.info.id)), 'POINT_NOT_FOUND')).to.equal(true);
      await writeFile(path.join(root, 'packs', 'leftover.pack.tmp'), 'half a pack');
      const report = await repo.prune({ maxUnusedFraction: 0 });
      expect(await repo.pruneWanted()).to.equal(false);
      expect(report.points).to.equal(4);
      expect(report.chunks_removed).to.be.greaterThan(0);
      expect(report.temp_files_removed).to.equal(1);
      const after = await repo.stats();
      expect(after.stored_bytes).to.be.below(before.stored_bytes);
      expect(after.points).to.equal(4);
      const remaining = points.filter((_, i) => i !== 2);
      for (const p of remaining) {
        for (const key of ['2000', '2001']) expect(sha256(await restoreToBuffer(repo, p.info.id, key))).to.equal(p.hashes[key]);
      }
      const verify = await repo.verify();
      expect(verify.ok).to.equal(true);
      expect(verify.points_checked).to.equal(4);
      const again = await repo.prune({ maxUnusedFraction: 0 });
      expect([again.chunks_removed, again.packs_deleted, again.packs_rewritten]).to.deep.equal([0, 0, 0]);
      points.splice(2, 1);
    });

    it('reports a flipped byte in a pack as a damaged chunk and names exactly the points that use it', async () => {
      const manifests = await Promise.all(points.map((p) => repo.readPoint(p.info.id)));
      const usedBy = (chunk: string): string[] => manifests.filter((m) => m.disks.some((d) => d.extents.chunkIds().has(chunk))).map((m) => m.id);
      // a chunk of the first point that later points still use
      const shared = [...manifests[0]!.disks[0]!.extents.chunkIds()].find((c) => usedBy(c).length > 1)!;
      const packs = await readdir(path.join(root, 'packs'));
      let flipped = false;
      for (const name of packs) {
        const file = path.join(root, 'packs', name);
        const entry = (await readPackTrailer(file)).find((e) => e.id === shared);
        if (!entry) continue;
        const fh = await open(file, 'r+');
        const b = Buffer.alloc(1);
        const at = entry.offset + Math.floor(entry.stored_length / 2);
        await fh.read(b, 0, 1, at);
        b[0] = b[0]! ^ 0x01;
        await fh.write(b, 0, 1, at);
        await fh.close();
        flipped = true;
      }
      expect(flipped).to.equal(true);
      const report = await repo.verify();
      expect(report.ok).to.equal(false);
      expect(report.damaged_chunks.map((c) => [c.chunk, c.reason])).to.deep.equal([[shared, 'corrupt']]);
      expect(report.damaged_points.map((p) => p.id).sort()).to.deep.equal(usedBy(shared).sort());
      expect(report.damaged_points.every((p) => p.reason === 'chunks' && p.chunks[0] === shared)).to.equal(true);
      const single = await repo.verify({ pointId: usedBy(shared)[0]! });
      expect(single.points_checked).to.equal(1);
      expect(single.damaged_points).to.have.length(1);
      const err = await rejection(restoreToBuffer(repo, usedBy(shared)[0]!, '2000'));
      expect(isRepositoryError(err, 'CHUNK_CORRUPT')).to.equal(true);
    });
  });

  it('stores identical disks of two VMs once', async () => {
    const repo = await Repository.init(path.join(await tempDir(), 'repo'));
    const image = mixedImage(24 * MiB, 'template');
    const backup = async (vm: string): Promise<PointInfo> => {
      const w = await repo.beginPoint({ vm });
      w.addDisk({ key: '2000', capacity: image.length, mode: 'full' });
      w.addDisk({ key: '2001', capacity: 4 * MiB, mode: 'full' });
      await writeWhole(w, '2000', image);
      await w.writeExtent('2001', 0, image.subarray(8 * MiB, 12 * MiB));
      return w.commit();
    };
    const a = await backup('vm-a');
    const afterA = await repo.stats();
    const b = await backup('vm-b');
    const afterB = await repo.stats();
    expect(a.stats.chunks_new).to.be.greaterThan(0);
    expect(a.stats.bytes_stored).to.be.below(a.stats.bytes_new);
    expect(b.stats.chunks_new).to.equal(0);
    expect(b.stats.chunks_reused).to.be.greaterThan(0);
    expect(afterB).to.deep.equal({ ...afterA, points: 2 });
    expect(a.stats.bytes_new).to.be.below(24 * MiB);
    expect((await repo.listPoints('vm-b')).map((p) => p.id)).to.deep.equal([b.id]);
    expect(sha256(await restoreToBuffer(repo, b.id, '2000'))).to.equal(sha256(image));
    expect(sha256(await restoreToBuffer(repo, b.id, '2001'))).to.equal(sha256(image.subarray(8 * MiB, 12 * MiB)));
  });

  it('writes disks in parallel into one point, rolling packs under concurrent writes', async () => {
    const repo = await Repository.init(path.join(await tempDir(), 'repo'), { packSize: 2 * MiB });
    const images = [mixedImage(12 * MiB, 'p0', 64 * KiB, MiB), mixedImage(12 * MiB, 'p1', 64 * KiB, MiB), mixedImage(6 * MiB, 'p2')];
    const w = await repo.beginPoint({ vm: 'vm-p' });
    images.forEach((img, i) => w.addDisk({ key: String(i), capacity: img.length, mode: 'full' }));
    await Promise.all(images.map((img, i) => writeWhole(w, String(i), img, 512 * KiB + 4096)));
    const info = await w.commit();
    expect(info.stats.packs_written).to.be.greaterThan(3);
    for (const [i, img] of images.entries()) expect(sha256(await restoreToBuffer(repo, info.id, String(i)))).to.equal(sha256(img));
    expect((await repo.verify()).ok).to.equal(true);
  });

  it('never stores all-zero chunks and restores a blank disk', async () => {
    const repo = await Repository.init(path.join(await tempDir(), 'repo'));
    const w = await repo.beginPoint({ vm: 'vm-z' });
    w.addDisk({ key: '2000', capacity: 16 * MiB, mode: 'full' });
    await writeWhole(w, '2000', Buffer.alloc(16 * MiB));
    const info = await w.commit();
    expect(info.stats).to.include({ bytes_zero: 16 * MiB, chunks_new: 0, packs_written: 0 });
    expect((await repo.stats()).packs).to.equal(0);
    expect(info.disks[0]!.extent_count).to.equal(1);
    expect(sha256(await restoreToBuffer(repo, info.id, '2000'))).to.equal(sha256(Buffer.alloc(16 * MiB)));
  });

  it('abort leaves no point; prune waits for writers; bad calls fail with stable codes', async () => {
    const root = path.join(await tempDir(), 'repo');
    const repo = await Repository.init(root);
    expect(isRepositoryError(await rejection(Repository.init(root)), 'ALREADY_EXISTS')).to.equal(true);
    expect(isRepositoryError(await rejection(Repository.open(await tempDir())), 'NOT_A_REPOSITORY')).to.equal(true);
    expect(isRepositoryError(await rejection(repo.beginPoint({ vm: 'v', parent: 'nope' })), 'POINT_NOT_FOUND')).to.equal(true);

    const w = await repo.beginPoint({ vm: 'vm-x' });
    w.addDisk({ key: '2000', capacity: 8 * MiB, mode: 'full' });
    expect(() => w.addDisk({ key: '2001', capacity: MiB, mode: 'incremental' })).to.throw(/parent/);
    await w.writeExtent('2000', 0, mixedImage(4 * MiB, 'x'));
    expect(isRepositoryError(await rejection(w.writeExtent('2000', 8 * MiB - 1, Buffer.alloc(2))), 'INVALID_ARGUMENT')).to.equal(true);
    expect(isRepositoryError(await rejection(w.writeExtent('9', 0, Buffer.alloc(2))), 'INVALID_ARGUMENT')).to.equal(true);
    const other = await Repository.open(root);
    expect(isRepositoryError(await rejection(other.prune()), 'LOCKED')).to.equal(true);
    await w.abort();
    expect(isRepositoryError(await rejection(w.commit()), 'WRITER_CLOSED')).to.equal(true);
    expect(await repo.listPoints()).to.deep.equal([]);
    expect(await readdir(path.join(root, 'packs'))).to.deep.equal([]);
    expect(await readdir(path.join(root, 'locks'))).to.deep.equal([]);
    await other.prune();

    const overlap = await repo.beginPoint({ vm: 'vm-x' });
    overlap.addDisk({ key: '2000', capacity: MiB, mode: 'full' });
    await overlap.writeExtent('2000', 0, Buffer.alloc(1000, 1));
    await overlap.writeExtent('2000', 999, Buffer.alloc(10, 2));
    expect(isRepositoryError(await rejection(overlap.commit()), 'INVALID_ARGUMENT')).to.equal(true);
    expect(await repo.listPoints()).to.deep.equal([]);
    expect(await readdir(path.join(root, 'locks'))).to.deep.equal([]);
  });
});
