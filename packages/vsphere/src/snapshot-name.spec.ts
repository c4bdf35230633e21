import { expect } from 'chai';
import { parseSnapshotName, snapshotName, SNAPSHOT_PREFIX } from './snapshot-name.js';

describe('vsphere snapshot names', () => {
  it('names a snapshot vaultflow-<executionId>-<UTC stamp> and reads it back', () => {
    const at = new Date('2026-01-31T23:59:58.765Z');
    expect(snapshotName(42, at)).to.equal('vaultflow-42-20260131T235958Z');
    const uuid = '3f1c2a9e-0b7d-4c1e-9a55-2f8e4d6c7b10';
    const name = snapshotName(uuid, at);
    expect(name.startsWith(SNAPSHOT_PREFIX)).to.equal(true);
    expect(parseSnapshotName(name)).to.deep.equal({ executionId: uuid, takenAt: new Date('2026-01-31T23:59:58Z') });
  });

  it('refuses ids that would break the name, and does not recognise foreign names', () => {
    expect(() => snapshotName('a b')).to.throw(RangeError);
    expect(() => snapshotName('')).to.throw(RangeError);
    for (const n of ['manual', 'vaultflow-', 'vaultflow-42', 'vaultflow-42-2026', 'vaultflow--20260101T000000Z', 'Vaultflow-1-20260101T000000Z']) {
      expect(parseSnapshotName(n), n).to.equal(undefined);
    }
  });
});
