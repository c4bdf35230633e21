import { expect } from 'chai';
import { cronProblem, isValidTimeZone, nextFires, formatInZone } from './cron.js';

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
