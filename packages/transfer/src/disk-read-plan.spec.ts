import { expect } from 'chai';
import type { ByteRange } from '@vaultflow/nbd';
import { planDiskReads, splitByAllocation } from './disk-read-plan.js';
import { transferDisk, type ExtentWriter } from './disk-transfer.js';

const KiB = 1024;
const r = (offset: number, length: number): ByteRange => ({ offset, length });

/** Brute force: per byte, is it in the extents and in the allocated ranges? */
function oracle(extents: ByteRange[], allocated: ByteRange[], size: number): { data: boolean[]; holes: boolean[] } {
  const inAny = (x: number, list: ByteRange[]) => list.some((e) => x >= e.offset && x < e.offset + e.length);
  const data: boolean[] = [];
  const holes: boolean[] = [];
  for (let x = 0; x < size; x++) {
    data.push(inAny(x, extents) && inAny(x, allocated));
    holes.push(inAny(x, extents) && !inAny(x, allocated));
  }
  return { data, holes };
}
const bits = (list: ByteRange[], size: number) => Array.from({ length: size }, (_, x) => list.some((e) => x >= e.offset && x < e.offset + e.length));

/** Sorted, disjoint random ranges within [0, size). */
function ranges(size: number, rnd: () => number): ByteRange[] {
  const out: ByteRange[] = [];
  for (let at = Math.floor(rnd() * 8); at < size;) {
    const len = 1 + Math.floor(rnd() * 12);
    out.push(r(at, Math.min(len, size - at)));
    at += len + 1 + Math.floor(rnd() * 10);
  }
  return out;
}

describe('disk read plan: block status takes the holes out of the planned reads', () => {
  it('splits extents against allocated ranges exactly (a seeded brute-force check)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const size = 120;
      const extents = ranges(size, rnd);
      const allocated = ranges(size, rnd);
      const { data, holes } = splitByAllocation(extents, allocated);
      const want = oracle(extents, allocated, size);
      expect(bits(data, size), `round ${round}`).to.deep.equal(want.data);
      expect(bits(holes, size), `round ${round}`).to.deep.equal(want.holes);
      for (const list of [data, holes]) {
        for (let i = 1; i < list.length; i++) expect(list[i]!.offset).to.be.above(list[i - 1]!.offset + list[i - 1]!.length - 1);
      }
    }
  });

  it('reads only the allocated parts of the changed areas; the rest are holes', async () => {
    const reader = { allocatedExtents: async () => [r(0, 64 * KiB), r(256 * KiB, 128 * KiB)] };
    const plan = await planDiskReads(reader, [{ start: 0, length: 512 * KiB }], 1024 * KiB, 64 * KiB);
    expect(plan.reads).to.deep.equal([r(0, 64 * KiB), r(256 * KiB, 64 * KiB), r(320 * KiB, 64 * KiB)]);
    expect(plan.bytes).to.equal(192 * KiB);
    expect(plan.holes).to.deep.equal([r(64 * KiB, 192 * KiB), r(384 * KiB, 128 * KiB)]);
    expect(plan.holeBytes).to.equal(320 * KiB);
  });

  it('reads everything when the reader cannot tell or block status fails', async () => {
    const areas = [{ start: 0, length: 128 * KiB }];
    const plain = await planDiskReads({}, areas, 1024 * KiB, 64 * KiB);
    expect([plain.bytes, plain.holes]).to.deep.equal([128 * KiB, []]);
    const why: string[] = [];
    const failing = await planDiskReads({ allocatedExtents: async () => { throw new Error('BLOCK_STATUS failed'); } }, areas, 1024 * KiB, 64 * KiB, (e) => why.push(e.message));
    expect([failing.bytes, failing.holes, why]).to.deep.equal([128 * KiB, [], ['BLOCK_STATUS failed']]);
  });

  it('transferDisk records the holes as zero ranges without reading them', async () => {
    const zeros: Array<[number, number]> = [];
    const written: number[] = [];
    const writer: ExtentWriter = { async writeExtent(_k, offset) { written.push(offset); }, zeroExtent(_k, offset, length) { zeros.push([offset, length]); } };
    const read: number[] = [];
    const reader = { async read(offset: number, length: number) { read.push(offset); return Buffer.alloc(length, 7); } };
    const res = await transferDisk({ reader, reads: [r(0, 64 * KiB)], holes: [r(64 * KiB, 192 * KiB)], writer, diskKey: '2000' });
    expect(res).to.deep.equal({ bytesRead: 64 * KiB, bytesData: 64 * KiB, bytesZero: 0, bytesHoles: 192 * KiB, reads: 1 });
    expect(read).to.deep.equal([0]);
    expect(written).to.deep.equal([0]);
    expect(zeros).to.deep.equal([[64 * KiB, 192 * KiB]]);
  });
});
