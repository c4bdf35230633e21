import { expect } from 'chai';
import { canonicalTimeZone, cronProblem, isValidTimeZone, nextFires, formatInZone, schedulePeriodMs } from './cron.js';

describe('domain/cron', () => {
  it('accepts 5- and 6-field expressions and rejects other field counts', () => {
    expect(cronProblem('0 2 * * *')).to.equal(undefined);
    expect(cronProblem('*/10 * * * * *')).to.equal(undefined);
    expect(cronProblem('0 2 * *')).to.match(/5 fields/);
    expect(cronProblem('0 0 2 * * * 2026')).to.match(/5 fields/);
  });

  it('rejects out-of-range values', () => {
    expect(cronProblem('61 2 * * *')).to.match(/not a valid cron/);
    expect(cronProblem('0 25 * * *')).to.match(/not a valid cron/);
    expect(cronProblem('a b c d e')).to.match(/not a valid cron/);
  });

  it('knows IANA zones and refuses made-up ones', () => {
    expect(isValidTimeZone('UTC')).to.equal(true);
    expect(isValidTimeZone('Europe/Berlin')).to.equal(true);
    expect(isValidTimeZone('America/Argentina/Buenos_Aires')).to.equal(true);
    expect(isValidTimeZone('Mars/Olympus')).to.equal(false);
    expect(isValidTimeZone("UTC'; DROP TABLE x")).to.equal(false);
  });

  it('names a zone canonically, whatever case it was typed in, and refuses what is not a zone', () => {
    expect(canonicalTimeZone('europe/berlin')).to.equal('Europe/Berlin');
    expect(canonicalTimeZone('EUROPE/BERLIN')).to.equal('Europe/Berlin');
    expect(canonicalTimeZone('Europe/Berlin')).to.equal('Europe/Berlin');
    expect(canonicalTimeZone('america/argentina/buenos_aires')).to.match(/^America\/(Argentina\/)?Buenos_Aires$/);
    expect(canonicalTimeZone('utc')).to.equal('UTC');
    expect(canonicalTimeZone('Etc/UTC')).to.equal('UTC');
    expect(canonicalTimeZone('Mars/Olympus')).to.equal(undefined);
    expect(canonicalTimeZone("UTC'; DROP TABLE x")).to.equal(undefined);
  });

  it('lists fires in the schedule zone, across a DST change', () => {
    // Europe/Berlin springs forward on 2026-03-29 (02:00 -> 03:00).
    const fires = nextFires('0 12 * * *', 'Europe/Berlin', 3, new Date('2026-03-27T00:00:00Z'));
    expect(fires.map((d) => d.toISOString())).to.deep.equal([
      '2026-03-27T11:00:00.000Z',
      '2026-03-28T11:00:00.000Z',
      '2026-03-29T10:00:00.000Z',
    ]);
    expect(formatInZone(fires[2]!, 'Europe/Berlin')).to.equal('2026-03-29T12:00:00+02:00');
  });
});

describe('domain/cron across daylight saving (fixed clocks, successive fires as BullMQ computes them)', () => {
  /** Fires produced one after another, each from the previous fire: what a job scheduler does. */
  function chain(expr: string, tz: string, from: string, n: number): Date[] {
    const out: Date[] = [];
    let t = new Date(from);
    for (let i = 0; i < n; i++) {
      t = nextFires(expr, tz, 1, t)[0]!;
      out.push(t);
    }
    return out;
  }
  const perDay = (fires: Date[], tz: string) => {
    const days = new Map<string, number>();
    for (const f of fires) {
      const d = formatInZone(f, tz).slice(0, 10);
      days.set(d, (days.get(d) ?? 0) + 1);
    }
    return days;
  };

  it('a daily 02:30 in Europe/Berlin runs once on the day 02:00-03:00 is skipped', () => {
    const fires = chain('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 4);
    expect(perDay(fires, 'Europe/Berlin').get('2026-03-29')).to.equal(1);
    expect(fires.map((f) => formatInZone(f, 'Europe/Berlin'))).to.deep.equal([
      '2026-03-28T02:30:00+01:00', '2026-03-29T03:30:00+02:00', '2026-03-30T02:30:00+02:00', '2026-03-31T02:30:00+02:00',
    ]);
  });

  it('runs once, not twice, on the day 02:00-03:00 repeats', () => {
    const fires = chain('30 2 * * *', 'Europe/Berlin', '2026-10-23T12:00:00Z', 4);
    expect(perDay(fires, 'Europe/Berlin').get('2026-10-25')).to.equal(1);
    expect(fires.map((f) => f.toISOString())).to.deep.equal(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']);
  });

  it('the same holds in America/New_York (02:00 skipped in March, 01:00-02:00 repeated in November)', () => {
    expect(perDay(chain('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 3), 'America/New_York').get('2026-03-08')).to.equal(1);
    const nov = chain('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 3);
    expect(perDay(nov, 'America/New_York').get('2026-11-01')).to.equal(1);
  });

  it('measures a schedule period as the gap between its next two fires', () => {
    const at = new Date('2026-11-27T12:00:00Z');
    expect(schedulePeriodMs('0 2 * * *', 'UTC', at)).to.equal(86_400_000);
    expect(schedulePeriodMs('*/15 * * * *', 'Europe/Berlin', at)).to.equal(900_000);
    expect(schedulePeriodMs('30 * * * * *', 'UTC', at)).to.equal(60_000);
    // Mon and Thu at 02:00: after a Friday noon the next gap is Mon -> Thu, 3 days
    expect(schedulePeriodMs('0 2 * * 1,4', 'UTC', at)).to.equal(3 * 86_400_000);
    // across the spring-forward night in Berlin a daily 03:30 run is 23 hours apart
    expect(schedulePeriodMs('30 3 * * *', 'Europe/Berlin', new Date('2026-03-27T12:00:00Z'))).to.equal(23 * 3_600_000);
  });
});
