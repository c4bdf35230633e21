import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startVcsim, type Vcsim, type VcsimDisk, type VcsimVm } from '@vaultflow/testing';
import { SoapFault, VcsimSoap, mergeAreas, type SnapshotDisk } from '../support/vcsim-soap.js';

// The vCenter test harness (infra/vcsim), driven through hand-written SOAP the way the product's
// client will drive a real vCenter. Built by infra/scripts/ensure-system-deps.sh (npm test runs it).

const MiB = 1 << 20;
const B = 64 * 1024; // the harness's change-tracking block
const CAPACITY = 8 * MiB;

/** Deterministic bytes; no 64 KiB block of it is all zeros. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 255 || 1;
  return b;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function faultType(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SoapFault) return e.type;
    throw e;
  }
  return 'no fault';
}

describe('vcsim harness (infra/vcsim)', () => {
  let vc: Vcsim;
  let soap: VcsimSoap;
  let vm: VcsimVm;
  let d0: VcsimDisk;
  let d1: VcsimDisk;
  // what the guest wrote, mirrored in memory
  const live0 = Buffer.alloc(CAPACITY);
  const live1 = Buffer.alloc(CAPACITY);
  let s1: string;
  let s2: string;
  let snap1: SnapshotDisk[];
  let snap2: SnapshotDisk[];
  let image1: Buffer; // disk 0 as frozen by s1

  async function write(disk: VcsimDisk, mirror: Buffer, offset: number, data: Buffer): Promise<void> {
    await vc.write(vm.ref, disk.key, offset, data);
    data.copy(mirror, offset);
  }
  const qcda = (snap: string, key: number, off: number, changeId: string) => soap.queryChangedDiskAreas(vm.ref, snap, key, off, changeId);
  const areas = async (snap: string, key: number, changeId: string) => (await soap.allChangedAreas(vm.ref, snap, key, changeId, CAPACITY)).areas;

  before(async () => {
    vc = await startVcsim({ vms: 1, disks: 2, diskMb: 8, pageBytes: MiB });
    soap = new VcsimSoap(vc.url, vc.datacenter);
    await soap.login(vc.username, vc.password);
    const info = await vc.info();
    expect(info.vms).to.have.length(1);
    vm = info.vms[0]!;
    expect(vm.disks).to.have.length(2);
    [d0, d1] = vm.disks as [VcsimDisk, VcsimDisk];
  });
  after(async () => vc?.stop());

  it('accepts only the configured credentials and wants a session for SOAP and /folder', async () => {
    const other = new VcsimSoap(vc.url);
    expect(await faultType(other.currentTime())).to.equal('NotAuthenticated');
    expect(await faultType(other.login(vc.username, 'wrong'))).to.equal('InvalidLogin');
    expect(await soap.currentTime()).to.match(/<returnval>\d{4}-\d\d-\d\dT/);

    const url = soap.folderUrl(d0.fileName);
    expect((await fetch(url)).status).to.equal(401);
    expect((await fetch(url, { headers: { cookie: 'vmware_soap_session=forged' } })).status).to.equal(401);
    expect((await soap.read(d0.fileName)).length).to.equal(CAPACITY);

    // every live disk has an identity and the requested size
    const disks = await soap.disks(vm.ref, 'VirtualMachine');
    expect(disks.map((d) => [d.key, d.uuid, d.capacity])).to.deep.equal(vm.disks.map((d) => [d.key, d.uuid, CAPACITY]));
    expect(new Set(disks.map((d) => d.uuid)).size).to.equal(2);
  });

  it('freezes disk content in a snapshot: later guest writes do not reach it', async () => {
    await soap.setChangeTracking(vm.ref, true);
    expect((await vc.info()).vms[0]!.changeTrackingEnabled).to.equal(true);
    await write(d0, live0, 0, pattern(300_000, 1));
    await write(d0, live0, 2 * MiB, Buffer.alloc(B)); // zeros: content-wise nothing
    await write(d1, live1, 5 * MiB, pattern(70_000, 2));

    s1 = await soap.createSnapshot(vm.ref, 'vf-test-1');
    snap1 = await soap.disks(s1);
    expect(snap1.map((d) => d.key)).to.deep.equal([d0.key, d1.key]);
    for (const [i, d] of snap1.entries()) {
      expect(d.fileName).to.not.equal(vm.disks[i]!.fileName);
      expect(d.uuid).to.equal(vm.disks[i]!.uuid);
      expect(d.changeId).to.match(/^[0-9a-f-]{36}\/1$/);
    }
    image1 = Buffer.from(live0);

    await write(d0, live0, 100, pattern(1000, 3)); // after the snapshot
    const frozen = await soap.read(snap1[0]!.fileName, 0, 2000);
    const now = await soap.read(d0.fileName, 0, 2000);
    expect(frozen).to.deep.equal(image1.subarray(0, 2000));
    expect(now).to.deep.equal(live0.subarray(0, 2000));
    expect(frozen.equals(now)).to.equal(false);
    expect(sha(await soap.read(snap1[0]!.fileName))).to.equal(sha(image1));
  });

  it('QueryChangedDiskAreas "*" reports only the non-zero areas', async () => {
    expect(await areas(s1, d0.key, '*')).to.deep.equal([[0, 5 * B]]); // 300,000 bytes -> 5 blocks
    expect(await areas(s1, d1.key, '*')).to.deep.equal([[5 * MiB, 2 * B]]);
  });

  it('an incremental QueryChangedDiskAreas reports exactly the written 64 KiB blocks', async () => {
    await write(d0, live0, MiB - 1000, pattern(5000, 4)); // blocks 15 and 16, across a page boundary
    await write(d0, live0, CAPACITY - 1, Buffer.from([0xff])); // the last byte
    s2 = await soap.createSnapshot(vm.ref, 'vf-test-2');
    snap2 = await soap.disks(s2);
    const [epoch, seq] = snap1[0]!.changeId!.split('/');
    expect(snap2[0]!.changeId).to.equal(`${epoch}/${Number(seq) + 1}`);

    const incr = await areas(s2, d0.key, snap1[0]!.changeId!);
    expect(incr).to.deep.equal([[0, B], [15 * B, 2 * B], [127 * B, B]]);
    expect(await areas(s2, d1.key, snap1[1]!.changeId!)).to.deep.equal([]);
    expect(await areas(s2, d0.key, snap2[0]!.changeId!)).to.deep.equal([]);

    // full from s1 + incremental from s2 restores s2 exactly
    const restored = Buffer.alloc(CAPACITY);
    for (const [s, l] of await areas(s1, d0.key, '*')) (await soap.read(snap1[0]!.fileName, s, l)).copy(restored, s);
    for (const [s, l] of incr) (await soap.read(snap2[0]!.fileName, s, l)).copy(restored, s);
    expect(sha(restored)).to.equal(sha(live0));
    expect(sha(await soap.read(snap2[0]!.fileName))).to.equal(sha(live0));
  });

  it('pages replies to -page bytes, clipping extents to each window', async () => {
    const { replies } = await soap.allChangedAreas(vm.ref, s2, d0.key, snap1[0]!.changeId!, CAPACITY);
    expect(replies.map((r) => [r.startOffset, r.length])).to.deep.equal([...Array(8).keys()].map((i) => [i * MiB, MiB]));
    expect(replies.map((r) => r.areas)).to.deep.equal([[[0, B], [15 * B, B]], [[16 * B, B]], [], [], [], [], [], [[127 * B, B]]]);

    const mid = await qcda(s2, d0.key, MiB - 4096, snap1[0]!.changeId!); // unaligned start
    expect([mid.startOffset, mid.length, mid.areas]).to.deep.equal([MiB - 4096, MiB, [[MiB - 4096, 4096 + B]]]);
    const tail = await qcda(s2, d0.key, CAPACITY - 100, '*');
    expect([tail.startOffset, tail.length, tail.areas]).to.deep.equal([CAPACITY - 100, 100, [[CAPACITY - 100, 100]]]);
    expect(await faultType(qcda(s2, d0.key, CAPACITY, '*'))).to.equal('InvalidArgument');
    expect(await faultType(qcda(s2, 999, 0, '*'))).to.equal('InvalidArgument');
  });

  it('faults with FileFault on unknown change ids and after reset-cbt', async () => {
    const cid1 = snap1[0]!.changeId!;
    expect(await faultType(qcda(s2, d0.key, 0, 'bogus/1'))).to.equal('FileFault');
    expect(await faultType(qcda(s2, d0.key, 0, snap1[1]!.changeId!))).to.equal('FileFault'); // the other disk's

    await vc.resetCbt(vm.ref);
    expect(await faultType(qcda(s2, d0.key, 0, cid1))).to.equal('FileFault');
    expect(await faultType(qcda(s2, d1.key, 0, snap1[1]!.changeId!))).to.equal('FileFault');
    expect(await areas(s2, d0.key, '*')).to.deep.equal(mergeAreas([[0, 5 * B], [15 * B, 2 * B], [127 * B, B]]));

    const s3 = await soap.createSnapshot(vm.ref, 'vf-test-3');
    const snap3 = await soap.disks(s3);
    expect(snap3[0]!.changeId).to.match(/\/1$/);
    expect(snap3[0]!.changeId!.split('/')[0]).to.not.equal(cid1.split('/')[0]);
    expect(await faultType(qcda(s3, d0.key, 0, snap2[0]!.changeId!))).to.equal('FileFault');
    expect(await areas(s3, d0.key, snap3[0]!.changeId!)).to.deep.equal([]);

    await vc.resetCbt(vm.ref, d1.key); // one disk only
    await write(d1, live1, 0, pattern(10, 5));
    const s4 = await soap.createSnapshot(vm.ref, 'vf-test-4');
    expect(await areas(s4, d0.key, snap3[0]!.changeId!)).to.deep.equal([]);
    expect(await faultType(qcda(s4, d1.key, 0, snap3[1]!.changeId!))).to.equal('FileFault');
    expect(await areas(s4, d1.key, '*')).to.deep.equal([[0, B], [5 * MiB, 2 * B]]);

    await soap.setChangeTracking(vm.ref, false); // switching CBT off kills every changeId
    expect(await faultType(qcda(s4, d0.key, 0, snap3[0]!.changeId!))).to.equal('FileFault');
    const s5 = await soap.createSnapshot(vm.ref, 'vf-test-5');
    expect((await soap.disks(s5)).map((d) => d.changeId)).to.deep.equal([undefined, undefined]);
    expect(await faultType(qcda(s5, d0.key, 0, '*'))).to.equal('FileFault');
  });

  it('removing a snapshot deletes its own frozen files and no others', async () => {
    const before = (await vc.info()).vms[0]!.snapshots;
    const frozen1 = before.find((s) => s.ref === s1)!.disks.map((d) => d.flatPath);
    const frozen2 = before.find((s) => s.ref === s2)!.disks.map((d) => d.flatPath);
    expect(frozen1).to.have.length(2);
    for (const p of [...frozen1, ...frozen2]) expect(existsSync(p), p).to.equal(true);

    await soap.removeSnapshot(s1);
    for (const p of frozen1) expect(existsSync(p), p).to.equal(false);
    for (const p of frozen2) expect(existsSync(p), p).to.equal(true);
    const res = await fetch(soap.folderUrl(snap1[0]!.fileName), { headers: { cookie: soap.cookie } });
    expect(res.status).to.equal(404);
    expect(await faultType(qcda(s1, d0.key, 0, '*'))).to.equal('ManagedObjectNotFound');
    expect((await vc.info()).vms[0]!.snapshots.map((s) => s.ref)).to.not.include(s1);
    expect(sha(await soap.read(snap2[0]!.fileName))).to.equal(sha(live0)); // s2 is untouched

    // Later removals must delete only their own files (stock vcsim deletes by a layout key that
    // the first removal renumbered): remove all but the newest snapshot, oldest first.
    const rest = (await vc.info()).vms[0]!.snapshots;
    expect(rest).to.have.length(4);
    for (const s of rest.slice(0, -1)) await soap.removeSnapshot(s.ref);
    const last = rest[rest.length - 1]!;
    const vmDir = path.dirname(d0.flatPath);
    const left = readdirSync(vmDir).filter((f) => /snapshot|\.vmsn$/i.test(f)).sort();
    const own = last.disks.flatMap((d) => [path.basename(d.flatPath), path.basename(d.flatPath).replace('-flat.vmdk', '.vmdk')]);
    expect(left.filter((f) => !f.endsWith('.vmsn'))).to.deep.equal(own.sort());
    expect(left.filter((f) => f.endsWith('.vmsn'))).to.have.length(1);
    expect(sha(await soap.read(d0.fileName))).to.equal(sha(live0));
    expect(sha(await soap.read(d1.fileName))).to.equal(sha(live1));
  });

  it('stop() ends the process and removes its temporary datastore', async () => {
    const dsDir = path.dirname(path.dirname(d0.flatPath));
    expect(existsSync(dsDir)).to.equal(true);
    await vc.stop();
    expect(existsSync(dsDir)).to.equal(false);
    expect(() => process.kill(vc.pid, 0)).to.throw(/ESRCH/);
    await vc.stop(); // idempotent
  });
});
