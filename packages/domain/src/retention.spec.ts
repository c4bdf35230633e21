import { expect } from 'chai';
import { planRetention, type DatedPoint, type RetentionRules } from './retention.js';

const none: RetentionRules = { keep_last: null, keep_daily: null, keep_weekly: null, keep_monthly: null, keep_yearly: null };

/** A point every `hours` hours back from `end`, newest first: p0 is the newest. */
function series(count: number, hours: number, end = '2026-11-27T22:00:00Z'): DatedPoint[] {
  return Array.from({ length: count }, (_, i) => ({ id: `p${i}`, at: new Date(Date.parse(end) - i * hours * 3_600_000) }));
}

describe('domain/retention', () => {
  it('keep_last keeps the N newest points, whatever order they come in', () => {
    const points = series(6, 1).reverse();
    const plan = planRetention(points, { ...none, keep_last: 2 });
    expect([...plan.keep.keys()].sort()).to.deep.equal(['p0', 'p1']);
    expect(plan.forget).to.deep.equal(['p2', 'p3', 'p4', 'p5']);
  });

  it('keep_daily keeps the newest point of each of the N newest days that have one', () => {
    // every 6 hours from 22:00 back: 4 a day; days 27 (22,16,10,04), 26 (...), ...
    const plan = planRetention(series(12, 6), { ...none, keep_daily: 2 });
    expect([...plan.keep.keys()].sort()).to.deep.equal(['p0', 'p4']);
    expect(plan.keep.get('p4')).to.deep.equal(['daily']);
    expect(plan.forget).to.have.length(10);
  });

  it('counts days that have a point, not calendar days: gaps do not use up the policy', () => {
    const points = [
      { id: 'a', at: new Date('2026-11-27T01:00:00Z') },
      { id: 'b', at: new Date('2026-11-20T01:00:00Z') },
      { id: 'c', at: new Date('2026-11-01T01:00:00Z') },
    ];
    expect(planRetention(points, { ...none, keep_daily: 3 }).forget).to.deep.equal([]);
  });

  it('weekly, monthly and yearly follow ISO weeks and calendar months and years', () => {
    const points = [
      { id: 'sun', at: new Date('2026-11-29T12:00:00Z') }, // Sunday: ISO week 48, with Monday the 23rd
      { id: 'mon', at: new Date('2026-11-23T12:00:00Z') },
      { id: 'prev', at: new Date('2026-11-22T12:00:00Z') }, // Sunday of week 47
      { id: 'oct', at: new Date('2026-10-31T12:00:00Z') },
      { id: 'y25', at: new Date('2025-12-31T12:00:00Z') },
      { id: 'y24', at: new Date('2024-06-01T12:00:00Z') },
    ];
    expect([...planRetention(points, { ...none, keep_weekly: 2 }).keep.keys()]).to.deep.equal(['sun', 'prev']);
    expect([...planRetention(points, { ...none, keep_monthly: 2 }).keep.keys()]).to.deep.equal(['sun', 'oct']);
    expect([...planRetention(points, { ...none, keep_yearly: 3 }).keep.keys()]).to.deep.equal(['sun', 'y25', 'y24']);
    // 2027-01-01 is a Friday: ISO week 53 of 2026, the same week as 2026-12-28
    const turn = [{ id: 'jan1', at: new Date('2027-01-01T12:00:00Z') }, { id: 'dec28', at: new Date('2026-12-28T12:00:00Z') }, { id: 'dec27', at: new Date('2026-12-27T12:00:00Z') }];
    expect(planRetention(turn, { ...none, keep_weekly: 2 }).forget).to.deep.equal(['dec28']);
  });

  it('days are those of the given time zone', () => {
    // 23:30 UTC on the 26th is the 27th in Sydney; 00:30 UTC on the 27th too
    const points = [{ id: 'late', at: new Date('2026-11-27T00:30:00Z') }, { id: 'early', at: new Date('2026-11-26T23:30:00Z') }];
    expect(planRetention(points, { ...none, keep_daily: 2 }, 'UTC').forget).to.deep.equal([]);
    expect(planRetention(points, { ...none, keep_daily: 2 }, 'Australia/Sydney').forget).to.deep.equal(['early']);
  });

  it('a point kept by several rules names them all; rules add up', () => {
    const plan = planRetention(series(48, 1), { ...none, keep_last: 3, keep_daily: 2 });
    expect(plan.keep.get('p0')).to.deep.equal(['newest', 'last', 'daily']);
    // 22:00 on the 27th back 48 hours: days 27 (23 points: 22:00..00:00), 26 (24), 25 (1)
    expect([...plan.keep.keys()].sort()).to.deep.equal(['p0', 'p1', 'p2', 'p23']);
  });

  it('never forgets the newest point, and a policy without rules keeps everything', () => {
    const points = series(3, 24);
    expect(planRetention(points, { ...none, keep_monthly: 1 }).keep.has('p0')).to.equal(true);
    expect(planRetention(points, none).forget).to.deep.equal([]);
    expect(planRetention([], { ...none, keep_last: 1 })).to.deep.equal({ keep: new Map(), forget: [] });
  });
});
