import { expect } from 'chai';
import { FileFault, InvalidArgumentFault, type DiskArea } from '@vaultflow/vsphere';
import {
  ALL_AREAS, parseChangeId, planDisk, planReads, planVmDisks, queryPlannedAreas,
  type CurrentDisk, type DiskPlan, type PreviousDiskRecord,
} from './cbt-planner.js';
import { TransferError } from './transfer-error.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const EPOCH = '52 3c 1a 9e 00 11 22 33-44 55 66 77 88 99 aa bb';

const prev = (over: Partial<PreviousDiskRecord> = {}): PreviousDiskRecord => ({
  diskUuid: 'uuid-a', deviceKey: '2000', capacity: 40 * GiB, changeId: `${EPOCH}/4`, ...over,
});
const now = (over: Partial<CurrentDisk> = {}): CurrentDisk => ({
  uuid: 'uuid-a', key: 2000, capacity: 40 * GiB, changeId: `${EPOCH}/5`, requested: 'auto', ...over,
});
const fileFault = () => new FileFault({ faultType: 'FileFault', faultMessage: 'change id is not valid' });

describe('cbt planner: full or incremental per disk', () => {
  it('takes an incremental from the recorded changeId when the same disk is still there', () => {
    const plan = planDisk(prev(), now());
    expect(plan).to.deep.equal({
      mode: 'incremental', reason: 'changed-since-previous', queryChangeId: `${EPOCH}/4`, recordChangeId: `${EPOCH}/5`, warning: undefined,
    });
  });

  it('matches device keys across number and string forms', () => {
    expect(planDisk(prev({ deviceKey: 2000 }), now({ key: '2000' })).mode).to.equal('incremental');
  });

  it('goes full from "*" when there is no previous point (a new disk)', () => {
    const plan = planDisk(undefined, now());
    expect([plan.mode, plan.reason, plan.queryChangeId, plan.recordChangeId, plan.warning]).to.deep.equal(['full', 'no-previous-point', '*', `${EPOCH}/5`, undefined]);
  });

  it('goes full when asked, even when an incremental would be possible', () => {
    const plan = planDisk(prev(), now({ requested: 'full' }));
    expect([plan.mode, plan.reason, plan.queryChangeId, plan.recordChangeId]).to.deep.equal(['full', 'requested-full', ALL_AREAS, `${EPOCH}/5`]);
  });

  it('goes full when the UUID part of <uuid>/<seq> changed (CBT reset), and records the new changeId', () => {
    const plan = planDisk(prev(), now({ changeId: '52 00 00 00 00 00 00 00-00 00 00 00 00 00 00 01/1' }));
    expect([plan.mode, plan.reason, plan.recordChangeId]).to.deep.equal(['full', 'change-id-epoch-changed', '52 00 00 00 00 00 00 00-00 00 00 00 00 00 00 01/1']);
    expect(plan.warning).to.equal('disk 2000: change tracking was reset (the change ID UUID changed): backing it up in full');
  });

  it('warns about every full an auto backup did not expect, and about no expected one', () => {
    const unexpected = [now({ capacity: 41 * GiB }), now({ uuid: 'uuid-b' }), now({ key: 2001 })].map((n) => planDisk(prev(), n));
    unexpected.push(planDisk(prev({ changeId: `${EPOCH}/9` }), now({ changeId: `${EPOCH}/5` })));
    for (const p of unexpected) expect(p.warning, p.reason).to.match(/^disk 200\d: .*: backing it up in full$/);
    expect(planDisk(undefined, now()).warning).to.equal(undefined);
    expect(planDisk(prev(), now({ requested: 'full' })).warning).to.equal(undefined);
    expect(planDisk(prev({ changeId: null }), now()).warning).to.equal(undefined);
  });

  it('goes full on a resize, bigger or smaller', () => {
    expect(planDisk(prev(), now({ capacity: 41 * GiB })).reason).to.equal('capacity-changed');
    expect(planDisk(prev(), now({ capacity: 40 * GiB - 512 })).reason).to.equal('capacity-changed');
  });

  it('goes full when another disk sits under the recorded key, or the disk moved to another key', () => {
    expect(planDisk(prev(), now({ uuid: 'uuid-b' })).reason).to.equal('disk-uuid-changed');
    expect(planDisk(prev(), now({ uuid: undefined })).reason).to.equal('disk-uuid-changed');
    expect(planDisk(prev(), now({ key: 2001 })).reason).to.equal('device-key-changed');
  });

  it('goes full and records nothing when the snapshot has no changeId (CBT not active yet)', () => {
    for (const changeId of [undefined, null, '']) {
      const plan = planDisk(prev(), now({ changeId }));
      expect([plan.mode, plan.reason, plan.queryChangeId, plan.recordChangeId]).to.deep.equal(['full', 'cbt-not-active', '*', null]);
      expect(plan.warning).to.match(/not active on disk 2000: the next backup will be full as well/);
    }
    // also on a first backup: still nothing to record
    expect(planDisk(undefined, now({ changeId: undefined })).recordChangeId).to.equal(null);
  });

  it('goes full when the previous backup recorded no changeId', () => {
    expect(planDisk(prev({ changeId: null }), now()).reason).to.equal('no-previous-change-id');
  });

  it('goes full when the sequence went backwards (a revert), and takes an equal or higher one', () => {
    expect(planDisk(prev({ changeId: `${EPOCH}/9` }), now({ changeId: `${EPOCH}/5` })).reason).to.equal('change-id-regressed');
    expect(planDisk(prev({ changeId: `${EPOCH}/5` }), now({ changeId: `${EPOCH}/5` })).mode).to.equal('incremental');
    expect(planDisk(prev({ changeId: `${EPOCH}/9` }), now({ changeId: `${EPOCH}/10` })).mode).to.equal('incremental');
  });

  it('turns an impossible explicit incremental into a full with a warning', () => {
    const plan = planDisk(prev(), now({ requested: 'incremental', capacity: 50 * GiB }));
    expect([plan.mode, plan.reason]).to.deep.equal(['full', 'capacity-changed']);
    expect(plan.warning).to.equal('incremental requested for disk 2000, but the disk capacity changed: backing it up in full');
    expect(planDisk(prev(), now({ requested: 'incremental' }))).to.include({ mode: 'incremental', warning: undefined });
  });

  it('splits changeIds into epoch and sequence', () => {
    expect(parseChangeId(`${EPOCH}/14`)).to.deep.equal({ epoch: EPOCH, seq: 14 });
    expect(parseChangeId('0c0ffee0-1111-2222-3333-444455556666/3')).to.deep.equal({ epoch: '0c0ffee0-1111-2222-3333-444455556666', seq: 3 });
    expect(parseChangeId('garbage')).to.deep.equal({ epoch: 'garbage', seq: undefined });
  });
});

describe('cbt planner: the disks of a VM', () => {
  it('matches by UUID across key changes, by key otherwise, and lists removed disks', () => {
    const records = [
      prev({ diskUuid: 'a', deviceKey: 2000 }),
      prev({ diskUuid: 'b', deviceKey: 2001 }),
      prev({ diskUuid: 'c', deviceKey: 2002 }),
      prev({ diskUuid: 'd', deviceKey: 2003 }),
    ];
    const current = [
      now({ uuid: 'a', key: 2000 }), // unchanged
      now({ uuid: 'b', key: 2004 }), // moved to another key
      now({ uuid: 'x', key: 2002 }), // c replaced by a new disk under the same key
      now({ uuid: 'y', key: 2005 }), // a new disk
    ]; // d was removed
    const { disks, removed } = planVmDisks(records, current);
    expect(disks.map((d) => [d.disk.uuid, d.previous?.diskUuid, d.plan.mode, d.plan.reason])).to.deep.equal([
      ['a', 'a', 'incremental', 'changed-since-previous'],
      ['b', 'b', 'full', 'device-key-changed'],
      ['x', 'c', 'full', 'disk-uuid-changed'],
      ['y', undefined, 'full', 'no-previous-point'],
    ]);
    expect(removed.map((r) => r.diskUuid)).to.deep.equal(['c', 'd']);
  });

  it('plans a first backup of every disk in full and removes nothing', () => {
    const { disks, removed } = planVmDisks([], [now({ uuid: 'a' }), now({ uuid: 'b', key: 2001 })]);
    expect(disks.map((d) => d.plan.reason)).to.deep.equal(['no-previous-point', 'no-previous-point']);
    expect(removed).to.deep.equal([]);
  });
});

describe('cbt planner: the FileFault fallback', () => {
  const incremental = planDisk(prev(), now());

  it('queries the recorded changeId and keeps the plan when vSphere accepts it', async () => {
    const asked: string[] = [];
    const out = await queryPlannedAreas(incremental, 2000, async (id) => {
      asked.push(id);
      return [{ start: 0, length: 64 * KiB }];
    });
    expect(asked).to.deep.equal([`${EPOCH}/4`]);
    expect(out.plan).to.equal(incremental);
    expect(out.areas).to.deep.equal([{ start: 0, length: 64 * KiB }]);
  });

  it('falls back to "*" on a FileFault (stale changeId) and says so, still recording the new changeId', async () => {
    const asked: string[] = [];
    const all: DiskArea[] = [{ start: 0, length: MiB }];
    const out = await queryPlannedAreas(incremental, 2000, async (id) => {
      asked.push(id);
      if (id !== '*') throw fileFault();
      return all;
    });
    expect(asked).to.deep.equal([`${EPOCH}/4`, '*']);
    expect(out.areas).to.equal(all);
    expect(out.plan).to.deep.include({ mode: 'full', reason: 'change-id-refused', queryChangeId: '*', recordChangeId: `${EPOCH}/5` });
    expect(out.plan.warning).to.match(/disk 2000: vSphere refused the recorded change ID/);
  });

  it('rethrows other faults, and a FileFault of the "*" query itself', async () => {
    const bad = new InvalidArgumentFault({ faultType: 'InvalidArgument', faultMessage: 'deviceKey' });
    let err: unknown;
    await queryPlannedAreas(incremental, 2000, async () => { throw bad; }).catch((e: unknown) => { err = e; });
    expect(err).to.equal(bad);
    const full: DiskPlan = planDisk(undefined, now());
    const ff = fileFault();
    err = undefined;
    let calls = 0;
    await queryPlannedAreas(full, 2000, async () => { calls++; throw ff; }).catch((e: unknown) => { err = e; });
    expect([err, calls]).to.deep.equal([ff, 1]);
  });
});

describe('cbt planner: planReads', () => {
  const r = (offset: number, length: number) => ({ offset, length });

  it('sorts, merges overlapping and adjacent extents, drops empty ones and totals the bytes', () => {
    const plan = planReads([
      { start: 10 * MiB, length: 64 * KiB },
      { start: 0, length: 64 * KiB },
      { start: 64 * KiB, length: 64 * KiB }, // adjacent to the previous one
      { start: 96 * KiB, length: 64 * KiB }, // overlaps it
      { start: 5 * MiB, length: 0 }, // length 0
      { start: 100 * KiB, length: 10 * KiB }, // inside
    ]);
    expect(plan.extents).to.deep.equal([r(0, 160 * KiB), r(10 * MiB, 64 * KiB)]);
    expect(plan.reads).to.deep.equal(plan.extents);
    expect(plan.bytes).to.equal(224 * KiB);
  });

  it('accepts DiskReader ranges as well as QCDA areas', () => {
    expect(planReads([r(0, 10), { start: 10, length: 5 }]).extents).to.deep.equal([r(0, 15)]);
  });

  it('splits at multiples of maxChunk, so no read is larger and reads follow the chunk grid', () => {
    const plan = planReads([{ start: MiB - 100, length: 9 * MiB }], 4 * MiB);
    expect(plan.reads).to.deep.equal([r(MiB - 100, 3 * MiB + 100), r(4 * MiB, 4 * MiB), r(8 * MiB, 2 * MiB - 100)]);
    expect(plan.reads.reduce((n, x) => n + x.length, 0)).to.equal(9 * MiB);
    // the default is one repository chunk (1 MiB) per read
    const whole = planReads([{ start: MiB / 2, length: 3 * MiB }]);
    expect(whole.reads).to.deep.equal([r(MiB / 2, MiB / 2), r(MiB, MiB), r(2 * MiB, MiB), r(3 * MiB, MiB / 2)]);
  });

  it('clips to the capacity and to offset 0', () => {
    const plan = planReads([{ start: -10, length: 20 }, { start: 90, length: 50 }, { start: 200, length: 5 }], 4 * MiB, 100);
    expect(plan.extents).to.deep.equal([r(0, 10), r(90, 10)]);
    expect(plan.bytes).to.equal(20);
  });

  it('plans nothing for no extents', () => {
    expect(planReads([])).to.deep.equal({ reads: [], extents: [], bytes: 0 });
  });

  it('refuses non-integer extents and a bad maxChunk', () => {
    expect(() => planReads([{ start: 1.5, length: 2 }])).to.throw(TransferError, /not a pair of integers/);
    expect(() => planReads([], 0)).to.throw(TransferError, /maxChunk/);
  });

  it('does not modify its input', () => {
    const input = [{ start: 0, length: 10 }, { start: 5, length: 10 }];
    planReads(input);
    expect(input).to.deep.equal([{ start: 0, length: 10 }, { start: 5, length: 10 }]);
  });
});
