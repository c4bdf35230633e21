import { expect } from 'chai';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { startVcsim, type Vcsim, type VcsimVm } from '../../testing/src/vcsim.js';
import { FileFault, InvalidLoginFault, ManagedObjectNotFoundFault, NotAuthenticatedFault } from './errors.js';
import { snapshotName, SNAPSHOT_PREFIX } from './snapshot-name.js';
import type { DiskArea, DiskChangeInfo } from './types.js';
import { VsphereClient } from './vsphere-client.js';
import { rejection } from './testing/rejection.js';

// The client against the vCenter test harness (infra/vcsim: vcsim + honest QueryChangedDiskAreas).

const MiB = 1 << 20;
const B = 64 * 1024; // the harness's change-tracking block
const CAPACITY = 8 * MiB;

/** Deterministic bytes with no zero byte (so every touched block counts as changed). */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = ((i * 31 + seed * 7) % 255) + 1;
  return b;
}
const area = (start: number, length: number): DiskArea => ({ start, length });

/** A raw SOAP call with a given cookie, bypassing the client (to act "underneath" it). */
async function rawSoap(vc: Vcsim, cookie: string, body: string): Promise<string> {
  const res = await fetch(vc.sdkUrl, {
    method: 'POST',
    headers: { 'content-type': 'text/xml', SOAPAction: '"urn:vim25/6.5"', cookie },
    body: `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`,
  });
  return res.text();
}
const LOGOUT = '<Logout xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this></Logout>';
const CURRENT_TIME = '<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>';

function readLocal(path: string, start: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, start);
    return buf;
  } finally {
    closeSync(fd);
  }
}

describe('vsphere client against vcsim (integration)', function () {
  this.timeout(60_000);
  let vc: Vcsim;
  let client: VsphereClient;
  let vms: VcsimVm[];
  const connect = (password?: string) =>
    VsphereClient.connect({ url: vc.sdkUrl, username: vc.username, password: password ?? vc.password, keepAliveMs: 0 });

  before(async () => {
    vc = await startVcsim({ vms: 3, disks: 2, diskMb: 8, pageBytes: MiB });
    vms = (await vc.info()).vms;
    client = await connect();
  });
  after(async () => {
    await client?.logout();
    await vc?.stop();
  });

  it('logs in, refuses a wrong password, and a logged-out client stays logged out', async () => {
    expect((await client.currentTime()).getTime()).to.be.closeTo(Date.now(), 60_000);
    expect(await rejection(connect('wrong'))).to.be.instanceOf(InvalidLoginFault);
    const other = await connect();
    const cookie = other.session.soap.cookieHeader!;
    expect(cookie).to.match(/^vmware_soap_session=/);
    await other.logout();
    expect(await rawSoap(vc, cookie, CURRENT_TIME)).to.contain('NotAuthenticated'); // the server ended it
    expect(await rejection(other.currentTime())).to.be.instanceOf(NotAuthenticatedFault);
  });

  it('logs in again transparently after its session was ended underneath it', async () => {
    const c = await connect();
    const first = c.session.soap.cookieHeader!;
    expect(await rawSoap(vc, first, LOGOUT)).to.contain('LogoutResponse');
    expect(await rawSoap(vc, first, CURRENT_TIME)).to.contain('NotAuthenticated');
    // CreateContainerView answers with a NotAuthenticated fault
    expect((await c.listVms()).map((v) => v.name)).to.deep.equal(vms.map((v) => v.name));
    const second = c.session.soap.cookieHeader!;
    expect(second).to.not.equal(first);
    expect(c.session.epoch).to.equal(2);
    // RetrievePropertiesEx answers with a NotAuthenticated missingSet instead of a fault
    expect(await rawSoap(vc, second, LOGOUT)).to.contain('LogoutResponse');
    expect((await c.getVm(vms[0]!.ref)).name).to.equal(vms[0]!.name);
    expect(c.session.epoch).to.equal(3);
    await c.logout();
  });

  it('lists every VM with placement, hardware and both disks as the harness has them', async () => {
    const listed = await client.listVms();
    expect(listed.map((v) => [v.ref.value, v.name])).to.deep.equal(vms.map((v) => [v.ref, v.name]));
    for (const [i, v] of listed.entries()) {
      const h = vms[i]!;
      expect(v).to.deep.include({ datacenter: 'DC0', folder: 'vm', cluster: undefined, powerState: 'poweredOn', changeTrackingEnabled: false });
      expect(v.host).to.match(/^DC0_H0$/);
      expect(v.instanceUuid).to.match(/^[0-9a-f-]{36}$/);
      expect(v.disks.map((d) => [d.key, d.uuid, d.fileName, d.capacityBytes, d.skipReason])).to.deep.equal(
        h.disks.map((d) => [d.key, d.uuid, d.fileName, CAPACITY, undefined]),
      );
    }
    expect(new Set(listed.map((v) => v.instanceUuid)).size).to.equal(3);
    expect(new Set(listed.flatMap((v) => v.disks.map((d) => d.uuid))).size).to.equal(6);
  });

  it('enables CBT on one VM only', async () => {
    await client.reconfigureCbt(vms[0]!.ref, true);
    expect((await client.getVm(vms[0]!.ref)).changeTrackingEnabled).to.equal(true);
    expect((await client.getVm(vms[1]!.ref)).changeTrackingEnabled).to.equal(false);
    expect((await vc.info()).vms.map((v) => v.changeTrackingEnabled)).to.deep.equal([true, false, false]);
  });

  it('faults with ManagedObjectNotFound for a VM that does not exist', async () => {
    expect(await rejection(client.getVm('vm-999999'))).to.be.instanceOf(ManagedObjectNotFoundFault);
  });

  describe('snapshots and changed areas on a CBT-enabled VM', () => {
    let vm: VcsimVm;
    let s1: string;
    let s1ChangeIds: Map<number, string>;

    before(() => {
      vm = vms[0]!;
    });

    it('takes a snapshot with a recognisable name and reads its frozen disks and changeIds', async () => {
      const d0 = vm.disks[0]!;
      await vc.write(vm.ref, d0.key, 0, pattern(100, 1)); // block 0
      await vc.write(vm.ref, d0.key, 3 * MiB - 10, pattern(20, 2)); // blocks 47 and 48
      await vc.write(vm.ref, d0.key, 5 * MiB + B, pattern(B, 3)); // block 81
      const name = snapshotName('int-1', new Date('2026-02-03T04:05:06Z'));
      const res = await client.createSnapshot(vm.ref, name, 'integration', true);
      expect(res.consistency).to.equal('quiesced');
      expect(res.warning).to.equal(undefined);
      s1 = res.snapshot.value;
      const tree = (await client.getVm(vm.ref)).snapshots;
      expect(tree.map((s) => [s.ref.value, s.name, s.description])).to.deep.equal([[s1, 'vaultflow-int-1-20260203T040506Z', 'integration']]);

      const disks = await client.snapshotDisks(s1);
      const harness = (await vc.info()).vms[0]!.snapshots.find((s) => s.ref === s1)!;
      expect(disks.map((d) => [d.key, d.fileName, d.changeId])).to.deep.equal(harness.disks.map((d) => [d.key, d.fileName, d.changeId]));
      for (const d of disks) expect(d.changeId).to.match(/^[0-9a-f-]{36}\/1$/);
      s1ChangeIds = new Map(disks.map((d) => [d.key, d.changeId!]));
    });

    it('QueryChangedDiskAreas "*" gives exactly the written blocks, merged, over 8 pages of 1 MiB', async () => {
      const d0 = vm.disks[0]!;
      const pages: DiskChangeInfo[] = [];
      const full = await client.changedDiskAreas(vm.ref, s1, d0.key, '*', CAPACITY, { onPage: (p) => pages.push(p) });
      expect(full).to.deep.equal([area(0, B), area(47 * B, 2 * B), area(81 * B, B)]);
      expect(pages.map((p) => [p.startOffset, p.length])).to.deep.equal([...Array(8).keys()].map((i) => [i * MiB, MiB]));
      // the reply around 3 MiB splits blocks 47/48 across two pages; merging joined them
      expect(pages[2]!.changedAreas).to.deep.equal([area(47 * B, B)]);
      expect(pages[3]!.changedAreas).to.deep.equal([area(48 * B, B)]);
      expect(await client.changedDiskAreas(vm.ref, s1, vm.disks[1]!.key, '*', CAPACITY)).to.deep.equal([]); // never written
    });

    it('an incremental returns exactly the blocks written since, and the frozen file holds them', async () => {
      const d0 = vm.disks[0]!;
      const w1 = pattern(10, 4);
      const w2 = pattern(2 * B, 5);
      await vc.write(vm.ref, d0.key, B, w1); // block 1
      await vc.write(vm.ref, d0.key, 2 * B, w2); // blocks 2 and 3: adjacent, merged with block 1
      await vc.write(vm.ref, d0.key, CAPACITY - 1, Buffer.from([0xee])); // the last byte: block 127
      const s2 = (await client.createSnapshot(vm.ref, snapshotName('int-2'), '', false)).snapshot.value;
      const incr = await client.changedDiskAreas(vm.ref, s2, d0.key, s1ChangeIds.get(d0.key)!, CAPACITY);
      expect(incr).to.deep.equal([area(B, 3 * B), area(127 * B, B)]);
      expect(await client.changedDiskAreas(vm.ref, s2, vm.disks[1]!.key, s1ChangeIds.get(vm.disks[1]!.key)!, CAPACITY)).to.deep.equal([]);

      // the /folder URL with the session cookie reads the snapshot's frozen bytes
      const frozen = (await client.snapshotDisks(s2)).find((d) => d.key === d0.key)!;
      const req = client.datastoreFileRequest(frozen.fileName!, 'DC0');
      const res = await fetch(req.url, { headers: { ...req.headers, range: `bytes=${2 * B}-${4 * B - 1}` } });
      expect(res.status).to.equal(206);
      expect(Buffer.from(await res.arrayBuffer()).equals(w2)).to.equal(true);
      expect((await fetch(req.url)).status).to.equal(401); // no cookie, no data
      const harnessFile = (await vc.info()).vms[0]!.snapshots.find((s) => s.ref === s2)!.disks.find((d) => d.key === d0.key)!.flatPath;
      expect(readLocal(harnessFile, CAPACITY - 1, 1)[0]).to.equal(0xee);
      await client.removeSnapshot(s2);
    });

    it('QueryChangedDiskAreas faults with FileFault (permanent) after the harness resets CBT', async () => {
      const d0 = vm.disks[0]!;
      await vc.resetCbt(vm.ref, d0.key);
      const err = await rejection(client.changedDiskAreas(vm.ref, s1, d0.key, s1ChangeIds.get(d0.key)!, CAPACITY));
      expect(err).to.be.instanceOf(FileFault);
      expect([err.code, err.transient]).to.deep.equal(['FILE_FAULT', false]);
      // the other disk's CBT was not reset; "*" still works on the reset one
      expect(await client.changedDiskAreas(vm.ref, s1, vm.disks[1]!.key, s1ChangeIds.get(vm.disks[1]!.key)!, CAPACITY)).to.deep.equal([]);
      expect((await client.changedDiskAreas(vm.ref, s1, d0.key, '*', CAPACITY)).length).to.equal(3);
    });

    it('removes only its own orphan snapshots, deleting their frozen files', async () => {
      // s1 is still there: a crashed run's leftover; add another orphan and a user's snapshot
      await client.createSnapshot(vm.ref, snapshotName('crashed'), '', false);
      const manual = (await client.createSnapshot(vm.ref, 'before patching', '', false)).snapshot.value;
      const before = (await vc.info()).vms[0]!.snapshots;
      expect(before).to.have.length(3);
      const found = await client.findSnapshotsByPrefix(vm.ref, SNAPSHOT_PREFIX);
      expect(found.map((s) => s.name)).to.deep.equal(['vaultflow-int-1-20260203T040506Z', found[1]!.name]);
      expect(found[1]!.name).to.match(/^vaultflow-crashed-\d{8}T\d{6}Z$/);

      const removed = await client.removeSnapshotsByPrefix(vm.ref, SNAPSHOT_PREFIX);
      expect(removed.map((s) => s.ref.value).sort()).to.deep.equal(found.map((s) => s.ref.value).sort());
      const after = (await vc.info()).vms[0]!.snapshots;
      expect(after.map((s) => s.ref)).to.deep.equal([manual]);
      for (const s of before.filter((x) => x.ref !== manual)) for (const d of s.disks) expect(existsSync(d.flatPath), d.flatPath).to.equal(false);
      expect(await client.findSnapshotsByPrefix(vm.ref, SNAPSHOT_PREFIX)).to.deep.equal([]);
      expect(await rejection(client.snapshotDisks(s1))).to.be.instanceOf(ManagedObjectNotFoundFault);
      await client.removeSnapshot(manual);
      expect((await vc.info()).vms[0]!.snapshots).to.deep.equal([]);
    });
  });
});
