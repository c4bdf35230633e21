import { expect } from 'chai';
import { TaskInProgressFault, VsphereError } from './errors.js';
import { FakeVcenter, snapshotTreeXml } from './testing/fake-vcenter.js';
import { reqText } from './testing/fake-vim.js';
import { fixture } from './testing/fixtures.js';
import { sdkUrlOf, VsphereClient } from './vsphere-client.js';
import { child } from './xml.js';
import { rejection } from './testing/rejection.js';

/** The `<objects>` elements of a fixture, as strings. */
const objectsOf = (style: 'vcsim' | 'vcenter', name: string) => fixture(style, name).match(/<objects>.*?<\/objects>/gs) ?? [];

async function connect(fake: FakeVcenter, pageSize?: number) {
  return VsphereClient.connect({ url: 'vc.example', username: 'user', password: 'pass', transport: fake, keepAliveMs: 0, ...(pageSize ? { pageSize } : {}) });
}

describe('vsphere client', () => {
  it('resolves the SDK URL from a host, a base URL or the SDK URL', () => {
    expect(sdkUrlOf('vc.example').toString()).to.equal('https://vc.example/sdk');
    expect(sdkUrlOf('https://vc.example:8443/').toString()).to.equal('https://vc.example:8443/sdk');
    expect(sdkUrlOf('http://127.0.0.1:1234/sdk').toString()).to.equal('http://127.0.0.1:1234/sdk');
  });

  for (const style of ['vcenter', 'vcsim'] as const) {
    it(`lists VMs through a container view, paging with ContinueRetrievePropertiesEx (${style})`, async () => {
      const fake = new FakeVcenter(style);
      fake.viewObjects = { Folder: objectsOf(style, 'retrieve-inventory'), VirtualMachine: objectsOf(style, 'retrieve-vms') };
      fake.pageSize = 1;
      const client = await connect(fake, 1);
      const vms = await client.listVms();
      expect(vms.map((v) => v.ref.value)).to.deep.equal(style === 'vcenter' ? ['vm-1001', 'vm-1002'] : ['vm-27', 'vm-30']);
      expect(vms[0]!.datacenter).to.equal(style === 'vcenter' ? 'DC-East' : 'DC0');
      const m = fake.methods();
      const pages = objectsOf(style, 'retrieve-inventory').length + objectsOf(style, 'retrieve-vms').length;
      expect(m.filter((x) => x === 'RetrievePropertiesEx')).to.have.length(2); // one per view, then continued
      expect(m.filter((x) => x === 'ContinueRetrievePropertiesEx')).to.have.length(pages - 2);
      expect(m.filter((x) => x === 'CreateContainerView')).to.have.length(2);
      expect(m.filter((x) => x === 'DestroyView')).to.have.length(2);
      expect(fake.views.size).to.equal(0);
      const rp = fake.calls.find((c) => c.method === 'RetrievePropertiesEx')!;
      expect(child(child(rp.request, 'options'), 'maxObjects')!.text).to.equal('1');
    });
  }

  it('redoes a listing whose container view died with a dropped session', async () => {
    const fake = new FakeVcenter();
    fake.viewObjects = { Folder: objectsOf('vcenter', 'retrieve-inventory'), VirtualMachine: objectsOf('vcenter', 'retrieve-vms') };
    let drops = 1;
    fake.afterCreateView = () => {
      if (drops-- > 0) fake.dropSessions(); // the session expires right after the view was made
    };
    const client = await connect(fake);
    expect((await client.listVms()).map((v) => v.name)).to.deep.equal(['web-01 <prod>', 'db-02']);
    expect(fake.methods().filter((x) => x === 'Login')).to.have.length(2);
    expect(fake.methods().filter((x) => x === 'CreateContainerView')).to.have.length(3);
  });

  for (const style of ['vcenter', 'vcsim'] as const) {
    it(`falls back to a crash-consistent snapshot when quiescing fails, with a warning (${style})`, async () => {
      const fake = new FakeVcenter(style);
      fake.on('CreateSnapshot_Task', (req) =>
        reqText(req, 'quiesce') === 'true'
          ? fake.task({ states: ['running', 'error'], error: { fault: 'ApplicationQuiesceFault', message: 'An error occurred while quiescing the virtual machine.' } })
          : fake.task({ states: ['success'], result: { type: 'VirtualMachineSnapshot', value: 'snapshot-9' } }),
      );
      const client = await connect(fake);
      const res = await client.createSnapshot('vm-1', 'vaultflow-1-20260101T000000Z', 'backup', true, { initialDelayMs: 1 });
      expect(res.snapshot).to.deep.equal({ type: 'VirtualMachineSnapshot', value: 'snapshot-9' });
      expect(res.consistency).to.equal('crash');
      expect(res.warning).to.contain('ApplicationQuiesceFault').and.contain('quiescing the virtual machine');
      const creates = fake.calls.filter((c) => c.method === 'CreateSnapshot_Task');
      expect(creates.map((c) => [reqText(c.request, 'quiesce'), reqText(c.request, 'memory'), reqText(c.request, 'name')])).to.deep.equal([
        ['true', 'false', 'vaultflow-1-20260101T000000Z'],
        ['false', 'false', 'vaultflow-1-20260101T000000Z'],
      ]);
    });
  }

  it('reports a quiesced snapshot as such, and takes only crash-consistent ones when asked', async () => {
    const fake = new FakeVcenter();
    fake.on('CreateSnapshot_Task', () => fake.task({ states: ['success'], result: { type: 'VirtualMachineSnapshot', value: 'snapshot-5' } }));
    const client = await connect(fake);
    expect(await client.createSnapshot('vm-1', 'a', 'd', true)).to.deep.equal({ snapshot: { type: 'VirtualMachineSnapshot', value: 'snapshot-5' }, consistency: 'quiesced' });
    expect(await client.createSnapshot('vm-1', 'b', 'd', false)).to.deep.equal({ snapshot: { type: 'VirtualMachineSnapshot', value: 'snapshot-5' }, consistency: 'crash' });
    expect(fake.calls.filter((c) => c.method === 'CreateSnapshot_Task').map((c) => reqText(c.request, 'quiesce'))).to.deep.equal(['true', 'false']);
  });

  it('does not fall back when the VM is busy: TaskInProgress is thrown, transient', async () => {
    const fake = new FakeVcenter();
    fake.on('CreateSnapshot_Task', () => fake.task({ states: ['error'], error: { fault: 'TaskInProgress', message: 'Another task is already in progress.' } }));
    const client = await connect(fake);
    const err = await rejection(client.createSnapshot('vm-1', 'a', '', true));
    expect(err).to.be.instanceOf(TaskInProgressFault);
    expect(err.transient).to.equal(true);
    expect(fake.methods().filter((m) => m === 'CreateSnapshot_Task')).to.have.length(1);
  });

  it('removes a snapshot (children kept, consolidate) and consolidates when the VM says so', async () => {
    const fake = new FakeVcenter();
    fake.snapshotVm.set('snapshot-3', 'vm-1');
    fake.vms.set('vm-1', { consolidationNeeded: true });
    fake.on('RemoveSnapshot_Task', () => fake.task({ states: ['success'] }));
    fake.on('ConsolidateVMDisks_Task', (req) => {
      fake.vms.set(child(req, '_this')!.text, { consolidationNeeded: false });
      return fake.task({ states: ['running', 'success'] });
    });
    const client = await connect(fake);
    expect(await client.removeSnapshot('snapshot-3')).to.deep.equal({ consolidated: true });
    const rm = fake.calls.find((c) => c.method === 'RemoveSnapshot_Task')!;
    expect([reqText(rm.request, 'removeChildren'), reqText(rm.request, 'consolidate')]).to.deep.equal(['false', 'true']);
    expect(child(fake.calls.find((c) => c.method === 'ConsolidateVMDisks_Task')!.request, '_this')!.text).to.equal('vm-1');
    // nothing to consolidate now
    expect(await client.removeSnapshot('snapshot-3')).to.deep.equal({ consolidated: false });
    expect(fake.methods().filter((m) => m === 'ConsolidateVMDisks_Task')).to.have.length(1);
  });

  it('finds snapshots by prefix anywhere in the tree and removes orphans children first, keeping the current one', async () => {
    const fake = new FakeVcenter();
    const tree =
      '<currentSnapshot type="VirtualMachineSnapshot">snapshot-4</currentSnapshot><rootSnapshotList>' +
      snapshotTreeXml('vm-1', 'snapshot-1', 'vaultflow-7-20260101T000000Z', [
        snapshotTreeXml('vm-1', 'snapshot-2', 'manual', [snapshotTreeXml('vm-1', 'snapshot-3', 'vaultflow-8-20260102T000000Z')]),
        snapshotTreeXml('vm-1', 'snapshot-4', 'vaultflow-9-20260103T000000Z'),
      ]) +
      '</rootSnapshotList>';
    fake.vms.set('vm-1', { snapshotXml: tree });
    for (const s of ['snapshot-1', 'snapshot-2', 'snapshot-3', 'snapshot-4']) fake.snapshotVm.set(s, 'vm-1');
    fake.on('RemoveSnapshot_Task', () => fake.task({ states: ['success'] }));
    const client = await connect(fake);
    const found = await client.findSnapshotsByPrefix('vm-1', 'vaultflow-');
    expect(found.map((s) => [s.ref.value, s.name])).to.deep.equal([
      ['snapshot-1', 'vaultflow-7-20260101T000000Z'],
      ['snapshot-3', 'vaultflow-8-20260102T000000Z'],
      ['snapshot-4', 'vaultflow-9-20260103T000000Z'],
    ]);
    expect(await client.findSnapshotsByPrefix('vm-1', 'vaultflow-8-')).to.have.length(1);
    const removed = await client.removeSnapshotsByPrefix('vm-1', 'vaultflow-', ['snapshot-4']);
    expect(removed.map((s) => s.ref.value)).to.deep.equal(['snapshot-3', 'snapshot-1']);
    expect(fake.calls.filter((c) => c.method === 'RemoveSnapshot_Task').map((c) => child(c.request, '_this')!.text)).to.deep.equal(['snapshot-3', 'snapshot-1']);
  });

  for (const style of ['vcenter', 'vcsim'] as const) {
    it(`reads a QueryChangedDiskAreas reply and pages a disk through the client (${style})`, async () => {
      const fake = new FakeVcenter(style);
      const offsets: number[] = [];
      fake.on('QueryChangedDiskAreas', (req) => {
        const off = Number(reqText(req, 'startOffset'));
        offsets.push(off);
        if (off === 0) return fixture(style, 'qcda').match(/<returnval>.*<\/returnval>/s)![0];
        return `<returnval><startOffset>${off}</startOffset><length>1048576</length><changedArea><start>${off}</start><length>4096</length></changedArea></returnval>`;
      });
      const client = await connect(fake);
      const page = await client.queryChangedDiskAreas('vm-1', 'snapshot-2', 2000, 0, '*');
      if (style === 'vcenter') {
        expect(page).to.deep.equal({
          startOffset: 0,
          length: 42949672960,
          changedAreas: [{ start: 0, length: 65536 }, { start: 1048576, length: 2097152 }, { start: 42949607424, length: 65536 }],
        });
      } else {
        expect(page).to.deep.equal({ startOffset: 0, length: 1048576, changedAreas: [{ start: 65536, length: 262144 }] });
        offsets.length = 0;
        const areas = await client.changedDiskAreas('vm-1', 'snapshot-2', 2000, '*', 3 * 1048576);
        expect(offsets).to.deep.equal([0, 1048576, 2097152]);
        expect(areas).to.deep.equal([{ start: 65536, length: 262144 }, { start: 1048576, length: 4096 }, { start: 2097152, length: 4096 }]);
      }
      const q = fake.calls.find((c) => c.method === 'QueryChangedDiskAreas')!;
      expect([reqText(q.request, 'deviceKey'), reqText(q.request, 'changeId'), child(q.request, 'snapshot')!.text]).to.deep.equal(['2000', '*', 'snapshot-2']);
    });
  }

  it('builds the /folder URL of a disk file with the session cookie', async () => {
    const fake = new FakeVcenter();
    const client = await connect(fake);
    const req = client.datastoreFileRequest('[ds-01 & fast] web 01/web-01.vmdk', 'DC/East');
    expect(req.url).to.equal('https://vc.example/folder/web%2001/web-01-flat.vmdk?dcPath=DC%2FEast&dsName=ds-01+%26+fast');
    expect(req.headers).to.deep.equal({ cookie: 'vmware_soap_session="s1"' });
    expect(client.datastoreFileRequest('[ds] a/b.vmdk', 'DC', { flat: false }).url).to.equal('https://vc.example/folder/a/b.vmdk?dcPath=DC&dsName=ds');
    expect(() => client.datastoreFileRequest('no brackets', 'DC')).to.throw(VsphereError, /datastore path/);
  });

  it('logs out and closes the transport', async () => {
    const fake = new FakeVcenter();
    const client = await connect(fake);
    await client.logout();
    expect(fake.methods().at(-1)).to.equal('Logout');
    expect(fake.closed).to.equal(true);
  });
});
