import { expect } from 'chai';
import { cutWrite, type Piece } from './chunker.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const config = { chunkSize: 1 * MiB, zeroBlock: 64 * KiB };
const cut = (offset: number, data: Buffer): Piece[] => [...cutWrite(offset, data, config)];

describe('cutWrite', () => {
  it('stores a 64 KiB change as one 64 KiB chunk, not a coarser unit', () => {
    expect(cut(5 * MiB + 128 * KiB, Buffer.alloc(64 * KiB, 7))).to.deep.equal([{ offset: 5 * MiB + 128 * KiB, length: 64 * KiB, zero: false }]);
  });

  it('cuts data at multiples of the chunk size (disk offsets), so equal data at equal offsets dedups', () => {
    const pieces = cut(512 * KiB, Buffer.alloc(2 * MiB, 1));
    expect(pieces.map((p) => [p.offset, p.length])).to.deep.equal([[512 * KiB, 512 * KiB], [MiB, MiB], [2 * MiB, 512 * KiB]]);
  });

  it('turns zero blocks into zero pieces of any length and never cuts zero runs at the grid', () => {
    const data = Buffer.alloc(4 * MiB);
    data.fill(9, 0, 64 * KiB);
    data.fill(9, 4 * MiB - 1);
    const pieces = cut(0, data);
    expect(pieces).to.deep.equal([
      { offset: 0, length: 64 * KiB, zero: false },
      { offset: 64 * KiB, length: 4 * MiB - 128 * KiB, zero: true },
      { offset: 4 * MiB - 64 * KiB, length: 64 * KiB, zero: false },
    ]);
  });

  it('handles unaligned writes: a partial first block, a single byte, a zero byte range', () => {
    expect(cut(100, Buffer.from([1, 2, 3]))).to.deep.equal([{ offset: 100, length: 3, zero: false }]);
    expect(cut(64 * KiB - 10, Buffer.alloc(20, 5))).to.deep.equal([{ offset: 64 * KiB - 10, length: 20, zero: false }]);
    const mixed = Buffer.alloc(64 * KiB + 20);
    mixed.fill(1, 0, 10);
    expect(cut(64 * KiB - 10, mixed)).to.deep.equal([
      { offset: 64 * KiB - 10, length: 10, zero: false },
      { offset: 64 * KiB, length: 64 * KiB + 10, zero: true },
    ]);
  });

  it('covers the write exactly with no piece longer than the chunk size', () => {
    const data = Buffer.alloc(3 * MiB + 12345);
    for (let i = 0; i < data.length; i += 200 * KiB) data.fill(i & 255 || 1, i, Math.min(data.length, i + 100 * KiB));
    const offset = 7 * MiB + 333;
    let pos = offset;
    for (const p of cut(offset, data)) {
      expect(p.offset).to.equal(pos);
      if (!p.zero) expect(p.length).to.be.at.most(MiB);
      pos += p.length;
    }
    expect(pos).to.equal(offset + data.length);
  });

  it('yields nothing for an empty write', () => {
    expect(cut(10, Buffer.alloc(0))).to.deep.equal([]);
  });
});
