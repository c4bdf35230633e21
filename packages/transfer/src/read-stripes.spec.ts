import { expect } from 'chai';
import { ReadStripes } from './read-stripes.js';

const range = (offset: number, length: number) => ({ offset, length });

/** Takes reads lane by lane (0, 1, ..., lanes-1, 0, ...) until none is left. */
function drain(stripes: ReadStripes, lanes: number): number[] {
  const out: number[] = [];
  for (let lane = 0; ; lane = (lane + 1) % lanes) {
    const r = stripes.next(lane);
    if (!r) return out;
    out.push(r.offset);
  }
}

describe('ReadStripes', () => {
  const reads = Array.from({ length: 12 }, (_, i) => range(i * 10, 10));

  it('cuts the reads into stripes of equal bytes and deals them to the lanes, each read once', () => {
    const s = new ReadStripes(reads, 4);
    expect(s.count).to.equal(4);
    // lanes 0..3 start at the four quarters and move forward in each
    expect(drain(s, 4)).to.deep.equal([0, 30, 60, 90, 10, 40, 70, 100, 20, 50, 80, 110]);
    expect(s.next(0)).to.equal(undefined);
  });

  it('shares stripes among more lanes than stripes', () => {
    const s = new ReadStripes(reads, 2);
    expect(drain(s, 4)).to.deep.equal([0, 60, 10, 70, 20, 80, 30, 90, 40, 100, 50, 110]);
  });

  it('cuts by bytes, not by count', () => {
    const uneven = [range(0, 60), range(60, 10), range(70, 10), range(80, 10), range(90, 10), range(100, 10), range(110, 10)];
    const s = new ReadStripes(uneven, 2);
    // half of the 120 bytes is the first read alone
    expect(s.next(0)).to.deep.equal(range(0, 60));
    expect(s.next(1)).to.deep.equal(range(60, 10));
  });

  it('a lane whose stripe is done helps the stripe with the most reads left', () => {
    const s = new ReadStripes(reads, 3); // stripes 0-30, 40-70, 80-110
    expect([s.next(0), s.next(0), s.next(0), s.next(0)].map((r) => r!.offset)).to.deep.equal([0, 10, 20, 30]);
    expect(s.next(1)!.offset).to.equal(40);
    // stripe 0 is done: lane 0 takes from stripe 2 (4 left) rather than stripe 1 (3 left)
    expect(s.next(0)!.offset).to.equal(80);
    const rest = drain(s, 3).sort((a, b) => a - b);
    expect(rest).to.deep.equal([50, 60, 70, 90, 100, 110]);
  });

  it('one stripe is plan order; more stripes than reads is one per read; no reads is none', () => {
    expect(drain(new ReadStripes(reads, 1), 5)).to.deep.equal(reads.map((r) => r.offset));
    const few = new ReadStripes(reads.slice(0, 2), 8);
    expect(few.count).to.equal(2);
    expect(drain(few, 3)).to.deep.equal([0, 10]);
    expect(new ReadStripes([], 4).next(0)).to.equal(undefined);
  });
});
