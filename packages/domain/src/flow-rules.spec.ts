import { expect } from 'chai';
import { flowShapeProblems } from './flow-rules.js';
import { startOfDay } from './cron.js';

describe('domain/flow-rules', () => {
  it('requires a repository for backup flows and a destination for replication flows', () => {
    expect(flowShapeProblems({ flow_type: 'backup', repository_id: 1 })).to.deep.equal([]);
    expect(flowShapeProblems({ flow_type: 'backup' }).map((p) => p.field)).to.deep.equal(['body.repository_id']);
    expect(flowShapeProblems({ flow_type: 'replication', destination_type: 'vmware' })).to.deep.equal([]);
    expect(flowShapeProblems({ flow_type: 'replication' }).map((p) => p.field)).to.deep.equal(['body.destination_type']);
  });

  it('refuses fields of the other flow type', () => {
    const p = flowShapeProblems({ flow_type: 'backup', repository_id: 1, destination_type: 'ossea' });
    expect(p.map((x) => x.field)).to.deep.equal(['body.destination_type']);
    const r = flowShapeProblems({ flow_type: 'replication', destination_type: 'ossea', repository_id: 3 });
    expect(r.map((x) => x.field)).to.deep.equal(['body.repository_id']);
  });
});

describe('domain/startOfDay', () => {
  it('finds local midnight in UTC and in zones with DST', () => {
    expect(startOfDay(new Date('2026-11-27T10:00:00Z'), 'UTC').toISOString()).to.equal('2026-11-27T00:00:00.000Z');
    expect(startOfDay(new Date('2026-11-27T10:00:00Z'), 'Europe/Berlin').toISOString()).to.equal('2026-11-26T23:00:00.000Z');
    expect(startOfDay(new Date('2026-07-01T01:30:00Z'), 'America/New_York').toISOString()).to.equal('2026-06-30T04:00:00.000Z');
    // the day DST starts in Berlin: midnight was still at +01:00
    expect(startOfDay(new Date('2026-03-29T12:00:00Z'), 'Europe/Berlin').toISOString()).to.equal('2026-03-28T23:00:00.000Z');
  });
});
