import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { alignedBuffer, IO_ALIGN, openDirect, readDirect } from './direct-io.js';

describe('direct reads', function () {
  this.timeout(30_000);
  let dir: string;
  let file: string;
  const data = randomBytes(3 * 1024 * 1024 + 777); // a size that is not a multiple of the block

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-direct-'));
    file = path.join(dir, 'pack');
    await writeFile(file, data);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands out shared, aligned buffers that O_DIRECT accepts', async () => {
    const fh = await openDirect(file);
    if (!fh) return void console.warn('      (this file system refuses O_DIRECT; nothing to check)');
    try {
      for (const size of [100, 1024 * 1024, 1024 * 1024 + 4 * IO_ALIGN]) {
        const buf = alignedBuffer(size);
        expect(buf.length).to.equal(size);
        expect(buf.buffer).to.be.instanceOf(SharedArrayBuffer);
        const view = await readDirect(fh, alignedBuffer(size + 2 * IO_ALIGN), 0, size);
        expect(view?.equals(data.subarray(0, size))).to.equal(true);
      }
    } finally {
      await fh.close();
    }
  });

  it('reads ranges at any offset, up to the end of a file of any size', async () => {
    const fh = await openDirect(file);
    if (!fh) return;
    try {
      const scratch = alignedBuffer(1024 * 1024 + 2 * IO_ALIGN);
      for (const [at, length] of [[0, 1], [4095, 2], [12345, 1024 * 1024], [data.length - 1000, 1000], [data.length - 777, 777]] as const) {
        const view = await readDirect(fh, scratch, at, length);
        expect(view?.equals(data.subarray(at, at + length)), `${at}+${length}`).to.equal(true);
      }
      const err = await readDirect(fh, scratch, data.length - 10, 20).catch((e: Error) => e);
      expect(String(err)).to.match(/short read/);
    } finally {
      await fh.close();
    }
  });

  it('declines (undefined) an unaligned buffer or one too small, so the caller reads buffered', async () => {
    const fh = await openDirect(file);
    if (!fh) return;
    try {
      expect(await readDirect(fh, alignedBuffer(64 * 1024).subarray(16), 0, 4096)).to.equal(undefined);
      // a heap buffer one byte past malloc's (16-byte) alignment is never block-aligned, whatever the allocator hands out
      expect(await readDirect(fh, Buffer.alloc(64 * 1024 + 1).subarray(1), 0, 4096)).to.equal(undefined);
      expect(await readDirect(fh, alignedBuffer(4096), 100, 4096)).to.equal(undefined);
    } finally {
      await fh.close();
    }
  });
});
