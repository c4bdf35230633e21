import { expect } from 'chai';
import { parseRange } from './restore-range.js';

describe('parseRange', () => {
  const size = 1000;

  it('sends everything without a Range header, or with one it cannot use', () => {
    for (const h of [undefined, '', 'items=0-10', 'bytes=abc', 'bytes=5-2', 'bytes=-', 'bytes=1-2,5-6', 'bytes=0-1, -5', 'bytes= ']) {
      expect(parseRange(h, size), String(h)).to.deep.equal({ kind: 'all' });
    }
  });

  it('reads closed, open and suffix ranges, clipped to the resource', () => {
    expect(parseRange('bytes=0-0', size)).to.deep.equal({ kind: 'range', start: 0, end: 0 });
    expect(parseRange('bytes=10-19', size)).to.deep.equal({ kind: 'range', start: 10, end: 19 });
    expect(parseRange('bytes=990-5000', size)).to.deep.equal({ kind: 'range', start: 990, end: 999 });
    expect(parseRange('bytes=500-', size)).to.deep.equal({ kind: 'range', start: 500, end: 999 });
    expect(parseRange('bytes=-100', size)).to.deep.equal({ kind: 'range', start: 900, end: 999 });
    expect(parseRange('bytes=-5000', size)).to.deep.equal({ kind: 'range', start: 0, end: 999 });
    expect(parseRange(' Bytes = 1-2 ', size)).to.deep.equal({ kind: 'range', start: 1, end: 2 });
  });

  it('finds ranges past the end, zero suffixes and any range of an empty resource unsatisfiable', () => {
    expect(parseRange('bytes=1000-', size)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=1000-2000', size)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=99999999999999999999-', size)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', size)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-1', 0)).to.deep.equal({ kind: 'unsatisfiable' });
  });
});
