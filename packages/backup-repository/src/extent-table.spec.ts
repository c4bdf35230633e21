import { expect } from 'chai';
import { ExtentTable, ExtentTableBuilder, overlay, sortExtents, type Extent } from './extent-table.js';
import { RepositoryError } from './repository-error.js';

const id = (n: number): Buffer => Buffer.alloc(32, n);
const hex = (n: number): string => id(n).toString('hex');

function table(parts: Array<[number, number, number?, number?]>): ExtentTable {
  const b = new ExtentTableBuilder(1);
  for (const [offset, length, chunk, chunkOffset] of parts) {
    if (chunk === undefined) b.pushZero(offset, length);
    else b.pushChunk(offset, length, id(chunk), chunkOffset ?? 0);
  }
  return b.build();
}

const plain = (t: ExtentTable): Extent[] => [...t];

describe('ExtentTable', () => {
  it('merges adjacent zero ranges and finds the record holding an offset', () => {
    const t = table([[0, 10], [10, 5], [15, 100, 1], [115, 2 ** 40]]);
    expect(t.count).to.equal(3);
    expect(t.get(0)).to.deep.equal({ offset: 0, length: 15, zero: true });
    expect(t.get(2)).to.deep.equal({ offset: 115, length: 2 ** 40, zero: true });
    expect([t.find(0), t.find(14), t.find(15), t.find(114), t.find(2 ** 40), t.find(115 + 2 ** 40)]).to.deep.equal([0, 0, 1, 1, 2, -1]);
    t.assertCovers(115 + 2 ** 40);
    expect(() => t.assertCovers(116 + 2 ** 40)).to.throw(RepositoryError);
  });

  it('overlays changes on a parent, keeping the rest of a cut chunk by its chunk offset', () => {
    const parent = table([[0, 100, 1], [100, 100]]);
    const changes = table([[40, 20, 2], [90, 30, 3]]);
    expect(plain(overlay(parent, changes, 200))).to.deep.equal([
      { offset: 0, length: 40, chunk: hex(1), chunk_offset: 0 },
      { offset: 40, length: 20, chunk: hex(2), chunk_offset: 0 },
      { offset: 60, length: 30, chunk: hex(1), chunk_offset: 60 },
      { offset: 90, length: 30, chunk: hex(3), chunk_offset: 0 },
      { offset: 120, length: 80, zero: true },
    ]);
  });

  it('shrinks and grows to a new capacity (grown bytes read as zero)', () => {
    const parent = table([[0, 100, 1]]);
    expect(plain(overlay(parent, table([]), 60))).to.deep.equal([{ offset: 0, length: 60, chunk: hex(1), chunk_offset: 0 }]);
    expect(plain(overlay(parent, table([[150, 10, 2]]), 170))).to.deep.equal([
      { offset: 0, length: 100, chunk: hex(1), chunk_offset: 0 },
      { offset: 100, length: 50, zero: true },
      { offset: 150, length: 10, chunk: hex(2), chunk_offset: 0 },
      { offset: 160, length: 10, zero: true },
    ]);
    expect(plain(overlay(parent, table([[50, 80, 2]]), 70))).to.deep.equal([
      { offset: 0, length: 50, chunk: hex(1), chunk_offset: 0 },
      { offset: 50, length: 20, chunk: hex(2), chunk_offset: 0 },
    ]);
  });

  it('builds a full from a blank base: unwritten ranges are zero', () => {
    expect(plain(overlay(ExtentTable.zero(0), table([[10, 5, 1]]), 20))).to.deep.equal([
      { offset: 0, length: 10, zero: true },
      { offset: 10, length: 5, chunk: hex(1), chunk_offset: 0 },
      { offset: 15, length: 5, zero: true },
    ]);
  });

  it('sorts writes that arrived out of order and rejects overlapping ones', () => {
    expect(plain(sortExtents(table([[50, 10, 2], [0, 50, 1]]), 'd')).map((e) => e.offset)).to.deep.equal([0, 50]);
    expect(() => sortExtents(table([[0, 50, 1], [49, 10, 2]]), 'd')).to.throw(RepositoryError, /overlap/);
  });
});
