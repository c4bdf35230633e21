import { expect } from 'chai';
import { DeferredStarts, type StartMark } from './deferred-starts.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mark = (vmRunId: number): StartMark => ({ vmRunId, at: new Date(1_700_000_000_000 + vmRunId) });

describe('DeferredStarts', () => {
  it('writes the starts that arrive within the delay in one call, and tells each whether its row was taken', async () => {
    const calls: number[][] = [];
    const d = new DeferredStarts(async (marks) => {
      calls.push(marks.map((m) => m.vmRunId));
      return new Set([1, 3]);
    }, 20);
    const taken = await Promise.all([d.defer(mark(1)), d.defer(mark(2)), d.defer(mark(3))]);
    expect(calls).to.deep.equal([[1, 2, 3]]);
    expect(taken).to.deep.equal([true, false, true]);
  });

  it('gives a start not written yet back to the caller (the result carries it), and never writes it', async () => {
    const written: number[] = [];
    const d = new DeferredStarts(async (marks) => {
      written.push(...marks.map((m) => m.vmRunId));
      return new Set(marks.map((m) => m.vmRunId));
    }, 20);
    const first = d.defer(mark(1));
    const second = d.defer(mark(2));
    expect(d.withdraw(1)).to.deep.equal(mark(1));
    expect(await first).to.equal(true);
    expect(d.withdraw(1)).to.equal(undefined);
    await second;
    expect(written).to.deep.equal([2]);
    expect(d.withdraw(2), 'written already').to.equal(undefined);
  });

  it('lets a result wait for a start being written, so the result lands after it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const d = new DeferredStarts(async (marks) => {
      await gate;
      return new Set(marks.map((m) => m.vmRunId));
    }, 1);
    void d.defer(mark(7));
    await sleep(10); // the write has begun
    expect(d.withdraw(7)).to.equal(undefined);
    let settled = false;
    const waiting = d.settled(7).then(() => (settled = true));
    await sleep(10);
    expect(settled).to.equal(false);
    release();
    await waiting;
    expect(settled).to.equal(true);
  });

  it('rejects the starts of a failed write (the caller then carries them), and settles without throwing', async () => {
    const d = new DeferredStarts(async () => {
      throw new Error('database gone');
    }, 1);
    const p = d.defer(mark(9));
    const waited = d.settled(9);
    let error: Error | undefined;
    await p.catch((e: Error) => (error = e));
    expect(error?.message).to.equal('database gone');
    await waited;
    await d.settled(9);
  });
});
