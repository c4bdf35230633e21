import { expect } from 'chai';
import { clipAreas, collectChangedAreas, mergeAreas, type ChangedAreasPage } from './changed-areas.js';
import type { DiskArea, DiskChangeInfo } from './types.js';
import { rejection } from './testing/rejection.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const a = (start: number, length: number): DiskArea => ({ start, length });

/**
 * A QCDA server over a fixed truth: each reply covers at most `page` bytes from the asked offset
 * (less at the end) and lists the truth's extents clipped to that window, like vcsim and vCenter.
 */
function pager(truth: DiskArea[], capacity: number, page: number, asked: number[] = []): ChangedAreasPage {
  return async (off) => {
    asked.push(off);
    const len = Math.min(page, capacity - off);
    return { startOffset: off, length: len, changedAreas: clipAreas(truth, off, off + len) };
  };
}

describe('vsphere changed areas paging', () => {
  it('asks at startOffset + length until the capacity, and reassembles extents split across pages', async () => {
    const truth = [a(0, 64 * KiB), a(MiB - 4 * KiB, 8 * KiB), a(3 * MiB, 2 * MiB + 1), a(8 * MiB - 1, 1)];
    const asked: number[] = [];
    const got = await collectChangedAreas(pager(truth, 8 * MiB, MiB, asked), 8 * MiB);
    expect(asked).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * MiB));
    expect(got).to.deep.equal(truth);
  });

  it('handles a capacity that is not a multiple of the page, and the very last byte (off-by-one)', async () => {
    const cap = 3 * MiB + 17;
    const truth = [a(cap - 1, 1)];
    const asked: number[] = [];
    expect(await collectChangedAreas(pager(truth, cap, MiB, asked), cap)).to.deep.equal(truth);
    expect(asked).to.deep.equal([0, MiB, 2 * MiB, 3 * MiB]);
    expect(await collectChangedAreas(pager([], 0, MiB), 0)).to.deep.equal([]); // empty disk: no call needed
  });

  it('follows windows shorter than asked and of varying size', async () => {
    const sizes = [100, 1, 4096, 7, 10 * MiB];
    const asked: number[] = [];
    const truth = [a(50, 60), a(5000, 10)];
    const page: ChangedAreasPage = async (off) => {
      asked.push(off);
      const len = Math.min(sizes[asked.length - 1] ?? MiB, 6000 - off);
      return { startOffset: off, length: len, changedAreas: clipAreas(truth, off, off + len) };
    };
    expect(await collectChangedAreas(page, 6000)).to.deep.equal(truth);
    expect(asked).to.deep.equal([0, 100, 101, 4197, 4204]);
  });

  it('refuses length 0 or negative instead of looping, and a window that starts past the offset', async () => {
    const zero: ChangedAreasPage = async (off) => ({ startOffset: off, length: 0, changedAreas: [] });
    const e0 = await rejection(collectChangedAreas(zero, MiB));
    expect([e0.code, e0.transient]).to.deep.equal(['QCDA_BAD_PAGE', false]);
    expect(e0.message).to.contain('offset 0');
    const neg: ChangedAreasPage = async (off) => ({ startOffset: off, length: -5, changedAreas: [] });
    expect((await rejection(collectChangedAreas(neg, MiB))).code).to.equal('QCDA_BAD_PAGE');
    // a server that skips ahead would leave [off, startOffset) unread: never under-report
    const skip: ChangedAreasPage = async (off) => ({ startOffset: off + 512, length: MiB, changedAreas: [] });
    expect((await rejection(collectChangedAreas(skip, 4 * MiB))).message).to.contain('starts after');
    // a reply that ends where we already are makes no progress (migratekit's infinite loop)
    let calls = 0;
    const stuck: ChangedAreasPage = async () => ({ startOffset: 0, length: MiB, changedAreas: [] });
    const wrapped: ChangedAreasPage = (off) => (calls++, stuck(off));
    expect((await rejection(collectChangedAreas(wrapped, 4 * MiB))).message).to.contain('ends before');
    expect(calls).to.equal(2);
  });

  it('clips extents to the window and the capacity, then merges overlaps and neighbours', async () => {
    // the server lists extents reaching outside its window, overlapping and out of order
    const replies: DiskChangeInfo[] = [
      { startOffset: 0, length: 1000, changedAreas: [a(900, 300), a(0, 10), a(5, 20), a(25, 5)] },
      { startOffset: 1000, length: 1000, changedAreas: [a(800, 400), a(1500, 0), a(1990, 100)] },
      { startOffset: 2000, length: 5000, changedAreas: [a(2000, 10), a(2500, 9000)] },
    ];
    const page: ChangedAreasPage = async () => replies.shift()!;
    expect(await collectChangedAreas(page, 3000)).to.deep.equal([a(0, 30), a(900, 300), a(1990, 20), a(2500, 500)]);
  });

  it('accepts a window starting before the asked offset as long as it progresses, counting nothing twice', async () => {
    const replies: DiskChangeInfo[] = [
      { startOffset: 0, length: 1000, changedAreas: [a(990, 10)] },
      { startOffset: 500, length: 1000, changedAreas: [a(600, 50), a(990, 20)] }, // re-reports part of page 1
    ];
    const page: ChangedAreasPage = async () => replies.shift()!;
    expect(await collectChangedAreas(page, 1500)).to.deep.equal([a(990, 20)]);
  });

  it('mergeAreas sorts, joins touching extents and drops empty ones; clipAreas cuts to a range', () => {
    expect(mergeAreas([a(10, 5), a(0, 10), a(15, 0), a(15, 1), a(30, 2), a(31, 10)])).to.deep.equal([a(0, 16), a(30, 11)]);
    expect(mergeAreas([])).to.deep.equal([]);
    expect(clipAreas([a(0, 10), a(20, 10)], 5, 25)).to.deep.equal([a(5, 5), a(20, 5)]);
  });

  it('stops between pages when aborted', async () => {
    const ac = new AbortController();
    let calls = 0;
    const page: ChangedAreasPage = async (off) => {
      if (++calls === 2) ac.abort();
      return { startOffset: off, length: MiB, changedAreas: [] };
    };
    expect((await rejection(collectChangedAreas(page, 8 * MiB, { signal: ac.signal }))).code).to.equal('ABORTED');
    expect(calls).to.equal(2);
  });
});
