import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Repository } from '@vaultflow/backup-repository';
import { restoredSha256 } from '../../backup-repository/src/testing/restored-sha.js';
import { sha256 } from '../../backup-repository/src/testing/images.js';
import { planReads } from './cbt-planner.js';
import { transferDisk } from './disk-transfer.js';
import { allocatedFromMap, LocalFileDiskReader } from './local-file-disk-reader.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { isTransferError } from './transfer-error.js';

const KiB = 1024;
const MiB = 1024 * KiB;

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('LocalFileDiskReader', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  const size = 24 * MiB;
  const written: Array<[number, Buffer]> = [
    [0, randomBytes(64 * KiB)],
    [3 * MiB + 4 * KiB, randomBytes(200 * KiB)],
    [3 * MiB + 204 * KiB, randomBytes(60 * KiB)], // touches the previous write: one merged area
    [17 * MiB, randomBytes(1 * MiB)],
  ];
  let image: Buffer;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-local-reader-'));
    file = path.join(dir, 'disk.raw');
    image = Buffer.alloc(size);
    const fh = await open(file, 'w');
    for (const [offset, data] of written) {
      await fh.write(data, 0, data.length, offset);
      data.copy(image, offset);
    }
    await fh.close();
    await truncate(file, size); // a sparse file: everything not written is a hole
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the written areas of a sparse image, merged, like CBT "*"', async () => {
    const reader = await LocalFileDiskReader.open(file);
    try {
      expect(reader.size).to.equal(size);
      const areas = await reader.allocatedExtents();
      expect(reader.allocationSource).to.equal('qemu-img-map');
      expect(areas).to.deep.equal([
        { offset: 0, length: 64 * KiB },
        { offset: 3 * MiB + 4 * KiB, length: 260 * KiB },
        { offset: 17 * MiB, length: 1 * MiB },
      ]);
    } finally {
      await reader.close();
    }
  });

  it('reports the whole disk when the map is off or qemu-img cannot run', async () => {
    for (const options of [{ allocationMap: false }, { qemuImg: path.join(dir, 'no-such-qemu-img') }]) {
      const reader = await LocalFileDiskReader.open(file, options);
      expect(await reader.allocatedExtents()).to.deep.equal([{ offset: 0, length: size }]);
      expect(reader.allocationSource).to.equal('whole-disk');
      await reader.close();
    }
  });

  it('reads any range, into the caller buffer at an index when given', async () => {
    const reader = await LocalFileDiskReader.open(file);
    try {
      const a = await reader.read(3 * MiB, 300 * KiB);
      expect(a.equals(image.subarray(3 * MiB, 3 * MiB + 300 * KiB))).to.equal(true);
      const into = Buffer.alloc(2 * MiB, 0xff);
      const b = await reader.read(17 * MiB - 10, 1 * MiB + 20, { buffer: into, offset: 7 });
      expect(b.buffer).to.equal(into.buffer);
      expect(b.byteOffset - into.byteOffset).to.equal(7);
      expect(b.equals(image.subarray(17 * MiB - 10, 18 * MiB + 10))).to.equal(true);
      expect(into[6]).to.equal(0xff);
    } finally {
      await reader.close();
    }
  });

  it('reads aligned ranges into pooled buffers with O_DIRECT, and everything else through the page cache', async () => {
    const reader = await LocalFileDiskReader.open(file);
    const pool = new ReadBufferPool(4 * MiB, 2);
    try {
      const direct = await reader.read(17 * MiB, 1 * MiB, { buffer: pool.acquire() });
      expect(direct.equals(image.subarray(17 * MiB, 18 * MiB))).to.equal(true);
      expect(reader.bytesRead).to.deep.equal({ direct: 1 * MiB, buffered: 0 });
      const odd = await reader.read(17 * MiB, 64 * KiB, { buffer: pool.acquire(), offset: 100 }); // unaligned buffer
      const ranged = await reader.read(3 * MiB + 100, 5000, { buffer: pool.acquire() }); // unaligned range
      expect(odd.equals(image.subarray(17 * MiB, 17 * MiB + 64 * KiB))).to.equal(true);
      expect(ranged.equals(image.subarray(3 * MiB + 100, 3 * MiB + 5100))).to.equal(true);
      expect(reader.bytesRead).to.deep.equal({ direct: 1 * MiB, buffered: 64 * KiB + 5000 });
    } finally {
      await reader.close();
    }
    const buffered = await LocalFileDiskReader.open(file, { direct: false });
    await buffered.read(0, 64 * KiB, { buffer: pool.acquire() });
    expect(buffered.bytesRead).to.deep.equal({ direct: 0, buffered: 64 * KiB });
    await buffered.close();
  });

  it('rejects ranges outside the image, a too small buffer, reads after close, and a missing file', async () => {
    const reader = await LocalFileDiskReader.open(file);
    const out = await rejection(reader.read(size - 10, 11));
    expect(isTransferError(out) && out.code).to.equal('OUT_OF_RANGE');
    const small = await rejection(reader.read(0, 100, { buffer: Buffer.alloc(99) }));
    expect(isTransferError(small) && small.code).to.equal('INVALID_ARGUMENT');
    await reader.close();
    await reader.close();
    const closed = await rejection(reader.read(0, 10));
    expect(isTransferError(closed) && closed.code).to.equal('CLOSED');
    const missing = await rejection(LocalFileDiskReader.open(path.join(dir, 'missing.raw')));
    expect(isTransferError(missing) && missing.code).to.equal('NOT_FOUND');
  });

  it('feeds a full backup that reads only allocated bytes and restores bit-identical', async () => {
    const repo = await Repository.init(path.join(dir, 'repo'));
    const reader = await LocalFileDiskReader.open(file);
    try {
      const plan = planReads(await reader.allocatedExtents(), 4 * MiB, reader.size);
      const w = await repo.beginPoint({ vm: 'local' });
      w.addDisk({ key: '2000', capacity: reader.size, mode: 'full' });
      const result = await transferDisk({ reader, reads: plan.reads, writer: w, diskKey: '2000' });
      const info = await w.commit();
      expect(result.bytesRead).to.equal(64 * KiB + 260 * KiB + 1 * MiB);
      expect(await restoredSha256(repo, info.id, '2000', size)).to.equal(sha256(image));
    } finally {
      await reader.close();
    }
  });

  it('keeps data rows that are not known zeroes, clipped and merged', () => {
    const rows = [
      { start: 8192, length: 4096, data: true, zero: false },
      { start: 0, length: 4096, data: true, zero: false },
      { start: 4096, length: 4096, data: true, zero: false },
      { start: 12288, length: 4096, data: false, zero: true },
      { start: 16384, length: 4096, data: true, zero: true },
      { start: 20480, length: 8192, data: true, zero: false },
    ];
    expect(allocatedFromMap(rows, 24576)).to.deep.equal([{ offset: 0, length: 12288 }, { offset: 20480, length: 4096 }]);
  });
});
