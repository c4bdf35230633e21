import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExtentTableBuilder } from './extent-table.js';
import { FORMAT_VERSION } from './format.js';
import { decodeManifest, encodeManifest, readManifestHeader, type PointInfo } from './manifest.js';
import { encodePackTrailer, readPackTrailer, writePackEntry, type PackEntry } from './pack-format.js';
import { decodeIndexFile, encodeIndexFile } from './repository-index.js';
import { isRepositoryError } from './repository-error.js';

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at] = copy[at]! ^ 0x40;
  return copy;
}

describe('on-disk codecs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-codecs-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const info = (disks: PointInfo['disks']): PointInfo => ({
    format: FORMAT_VERSION, id: 'p1', vm: 'vm-1', parent: null, created_at: '2026-11-27T10:00:00.000Z', meta: { run: 7 }, disks,
    stats: { bytes_written: 0, bytes_zero: 0, bytes_new: 0, bytes_stored: 0, chunks_new: 0, chunks_reused: 0, packs_written: 0 },
  });
  const disk = (key: string, capacity: number, n: number): PointInfo['disks'][number] => ({
    key, uuid: null, capacity, change_id: '52 aa/3', mode: 'full', extent_count: n, bytes_written: 0, bytes_new: 0,
  });

  it('round-trips a manifest, reads its header alone, and rejects a flipped byte', async () => {
    const a = new ExtentTableBuilder();
    a.pushChunk(0, 4096, Buffer.alloc(32, 1));
    a.pushZero(4096, 2 ** 41);
    const b = new ExtentTableBuilder();
    b.pushZero(0, 10);
    const buf = encodeManifest(info([disk('2000', 4096 + 2 ** 41, 2), disk('2001', 10, 1)]), [a.build(), b.build()]);
    const m = decodeManifest('p1', buf);
    expect(m.vm).to.equal('vm-1');
    expect(m.meta).to.deep.equal({ run: 7 });
    expect([...m.disks[0]!.extents]).to.deep.equal([
      { offset: 0, length: 4096, chunk: Buffer.alloc(32, 1).toString('hex'), chunk_offset: 0 },
      { offset: 4096, length: 2 ** 41, zero: true },
    ]);
    const file = path.join(dir, 'p1.point');
    await writeFile(file, buf);
    expect((await readManifestHeader('p1', file)).disks.map((d) => d.key)).to.deep.equal(['2000', '2001']);
    for (const at of [3, 20, buf.length - 40, buf.length - 1]) {
      expect(() => decodeManifest('p1', flip(buf, at))).to.throw().that.satisfies((e: unknown) => isRepositoryError(e, 'MANIFEST_CORRUPT'));
    }
    expect(() => decodeManifest('p2', buf)).to.throw(/does not describe/);
  });

  it('rejects a manifest whose map does not cover the disk', () => {
    const a = new ExtentTableBuilder();
    a.pushZero(0, 100);
    expect(() => decodeManifest('p1', encodeManifest(info([disk('2000', 101, 1)]), [a.build()]))).to.throw(/capacity is 101/);
  });

  it('reads a pack trailer back and detects damage to it', async () => {
    const entries = Buffer.alloc(2 * 48);
    const e1: Omit<PackEntry, 'id'> = { offset: 0, stored_length: 10, raw_length: 30, compressed: true };
    writePackEntry(entries, 0, Buffer.alloc(32, 1), e1);
    writePackEntry(entries, 48, Buffer.alloc(32, 2), { offset: 10, stored_length: 5, raw_length: 5, compressed: false });
    const pack = Buffer.concat([Buffer.alloc(15, 0xee), encodePackTrailer(entries)]);
    const file = path.join(dir, 'a.pack');
    await writeFile(file, pack);
    const read = await readPackTrailer(file);
    expect(read).to.deep.equal([
      { id: Buffer.alloc(32, 1).toString('hex'), ...e1 },
      { id: Buffer.alloc(32, 2).toString('hex'), offset: 10, stored_length: 5, raw_length: 5, compressed: false },
    ]);
    await writeFile(file, flip(pack, 20));
    const err = await readPackTrailer(file).catch((e: unknown) => e);
    expect(isRepositoryError(err, 'PACK_CORRUPT')).to.equal(true);
    await writeFile(file, pack.subarray(0, pack.length - 1));
    expect(isRepositoryError(await readPackTrailer(file).catch((e: unknown) => e), 'PACK_CORRUPT')).to.equal(true);
  });

  it('round-trips an index file and rejects a damaged one', async () => {
    const listing = [
      { id: 'ab'.repeat(16), entries: [{ id: 'cd'.repeat(32), offset: 4, stored_length: 9, raw_length: 20, compressed: true }] },
      { id: '01'.repeat(16), entries: [] },
    ];
    const buf = encodeIndexFile(listing);
    expect(decodeIndexFile(buf)).to.deep.equal(listing);
    expect(() => decodeIndexFile(flip(buf, 30))).to.throw(/checksum/);
  });
});
