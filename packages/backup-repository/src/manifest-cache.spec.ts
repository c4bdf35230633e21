import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRepositoryError, Repository } from './index.js';
import { Prng, writeWhole } from './testing/images.js';
import { rejection } from './testing/rejection.js';

const MiB = 1024 * 1024;

async function readAll(repo: Repository, id: string, offset: number, length: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of await repo.readRange(id, '2000', offset, length)) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe('ranged reads of a disk image: the manifest cache, and the lock they hold', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let repo: Repository;
  let image: Buffer;
  let id: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-manifest-cache-'));
    root = path.join(dir, 'repo');
    repo = await Repository.init(root, { packSize: 4 * MiB });
    image = Buffer.alloc(3 * MiB);
    new Prng('manifest-cache').fill(image.subarray(0, 2 * MiB)); // the last MiB stays zero
    const w = await repo.beginPoint({ vm: 'vm-1' });
    w.addDisk({ key: '2000', capacity: image.length, mode: 'full' });
    await writeWhole(w, '2000', image);
    id = (await w.commit()).id;
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('reads and checks the manifest once for many ranges of the same point', async () => {
    const before = { ...repo.manifestCache.counts };
    for (let i = 0; i < 8; i++) {
      const offset = i * 384 * 1024;
      expect((await readAll(repo, id, offset, 200_000)).equals(image.subarray(offset, offset + 200_000))).to.equal(true);
    }
    expect(repo.manifestCache.counts.misses - before.misses).to.equal(1);
    expect(repo.manifestCache.counts.hits - before.hits).to.equal(7);
  });

  it('reads a manifest whose file changed again: damage is reported, not hidden by the cache', async () => {
    await readAll(repo, id, 0, 10);
    const file = path.join(root, 'points', `${id}.point`);
    const good = await readFile(file);
    const bad = Buffer.from(good);
    bad[20] = bad[20]! ^ 0xff; // a byte of the JSON header: the checksum no longer matches
    await new Promise((r) => setTimeout(r, 5)); // a new mtime even on coarse clocks
    await writeFile(file, bad);
    try {
      expect(isRepositoryError(await rejection(readAll(repo, id, 0, 10)), 'MANIFEST_CORRUPT')).to.equal(true);
    } finally {
      await writeFile(file, good);
    }
    expect((await readAll(repo, id, MiB, 10)).equals(image.subarray(MiB, MiB + 10))).to.equal(true);
  });

  it('a range stream closed before its first read lets go of the repository (a client that left at once)', async () => {
    for (let i = 0; i < 3; i++) {
      const stream = await repo.readRange(id, '2000', 0, 1000);
      stream.destroy();
      await new Promise((r) => setTimeout(r, 20)); // 'close', then the release
    }
    const partly = await repo.readRange(id, '2000', 0, 2 * MiB);
    for await (const _ of partly) break; // one piece read, then the reader goes away
    await new Promise((r) => setTimeout(r, 20));
    // a prune needs the repository alone: it fails with LOCKED while any range still holds it
    expect((await (await Repository.open(root)).prune()).points).to.equal(1);
  });

  it('never serves a deleted point from memory, whoever deleted it', async () => {
    await readAll(repo, id, 0, 10);
    const other = await Repository.open(root); // another process: the worker's retention, say
    await other.deletePoint(id);
    expect(isRepositoryError(await rejection(readAll(repo, id, 0, 10)), 'POINT_NOT_FOUND')).to.equal(true);
  });
});
