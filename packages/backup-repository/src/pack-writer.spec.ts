import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BufferPool } from './buffer-pool.js';
import { readPackTrailer } from './pack-format.js';
import { PackWriter } from './pack-writer.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('PackWriter', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-packs-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes chunks back to back (raw chunks of whole blocks on block boundaries) across flushes and roll-overs, readable from the trailers', async () => {
    const packs = path.join(dir, 'packs');
    await mkdir(packs);
    const pool = new BufferPool();
    const writer = new PackWriter(packs, pool, { packSize: 3 * MiB, chunkSize: 256 * KiB });
    const chunks = new Map<string, Buffer>();
    const rawWhole = new Set<string>();
    for (let i = 0; i < 160; i++) {
      // odd sizes that never line up with blocks, and raw chunks of whole blocks that skip the write buffer
      const whole = i % 4 === 1;
      const data = randomBytes(whole ? (1 + (i % 4)) * 64 * KiB : 1 + ((i * 7919) % (256 * KiB)));
      const id = createHash('sha256').update(data).digest();
      const stored = pool.acquire(data.length); // a pooled buffer, reused after the append, as the pipeline does
      data.copy(stored);
      expect(await writer.appendEncoded(id, stored.subarray(0, data.length), data.length, !whole && i % 2 === 0)).to.equal(data.length);
      stored.fill(0xee);
      pool.release(stored);
      chunks.set(id.toString('hex'), data);
      if (whole) rawWhole.add(id.toString('hex'));
    }
    const finished = await writer.finish();
    expect(finished.length).to.be.greaterThan(3);
    expect((await readdir(packs)).sort()).to.deep.equal(finished.map((p) => `${p.id}.pack`).sort()); // no temp file left
    let seen = 0;
    for (const p of finished) {
      const file = path.join(packs, `${p.id}.pack`);
      const entries = await readPackTrailer(file);
      expect(entries).to.deep.equal(p.entries);
      let end = 0;
      for (const e of entries) {
        if (rawWhole.has(e.id) && e.offset !== end) {
          // a raw chunk of whole blocks starts on the next block boundary; the gap holds zeroes
          expect(e.offset % 4096).to.equal(0);
          expect(e.offset - end).to.be.lessThan(4096);
          const gap = Buffer.alloc(e.offset - end, 1);
          const gfh = await open(file, 'r');
          await gfh.read(gap, 0, gap.length, end);
          await gfh.close();
          expect(gap.equals(Buffer.alloc(gap.length))).to.equal(true);
        } else {
          expect(e.offset, 'chunks back to back').to.equal(end);
        }
        end = e.offset + e.stored_length;
      }
      const fh = await open(file, 'r');
      try {
        expect((await fh.stat()).size).to.equal(p.bytes);
        for (const e of entries) {
          const buf = Buffer.alloc(e.stored_length);
          await fh.read(buf, 0, e.stored_length, e.offset);
          expect(buf.equals(chunks.get(e.id)!), `chunk ${e.id} of pack ${p.id}`).to.equal(true);
          seen++;
        }
      } finally {
        await fh.close();
      }
    }
    expect(seen).to.equal(chunks.size);
    const aligned = finished.flatMap((p) => p.entries).filter((e) => rawWhole.has(e.id) && e.offset % 4096 === 0);
    expect(aligned.length, 'raw chunks of whole blocks placed on block boundaries').to.equal(rawWhole.size);
  });

  it('takes raw chunks of whole blocks from memory that is not block-aligned (the page cache takes those writes) and reads them back', async () => {
    const packs = path.join(dir, 'heap-packs');
    await mkdir(packs);
    const pool = new BufferPool();
    const writer = new PackWriter(packs, pool, { packSize: 8 * MiB, chunkSize: 256 * KiB });
    const chunks: Buffer[] = [];
    for (let i = 0; i < 24; i++) {
      // heap memory one byte past malloc's alignment: O_DIRECT refuses it (EINVAL)
      const data = Buffer.alloc((i % 3 === 0 ? 128 : 1 + i) * KiB + 1).subarray(1);
      randomBytes(data.length).copy(data);
      const id = createHash('sha256').update(data).digest();
      await writer.appendEncoded(id, data, data.length, false);
      chunks.push(Buffer.from(data));
    }
    const [pack] = await writer.finish();
    const entries = await readPackTrailer(path.join(packs, `${pack!.id}.pack`));
    const fh = await open(path.join(packs, `${pack!.id}.pack`), 'r');
    try {
      entries.forEach((e, i) => expect(e.stored_length).to.equal(chunks[i]!.length));
      for (const [i, e] of entries.entries()) {
        const buf = Buffer.alloc(e.stored_length);
        await fh.read(buf, 0, e.stored_length, e.offset);
        expect(buf.equals(chunks[i]!), `chunk ${i}`).to.equal(true);
      }
    } finally {
      await fh.close();
    }
  });
});
