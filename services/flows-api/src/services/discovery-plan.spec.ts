import { expect } from 'chai';
import type { VmRecord } from '@vaultflow/db';
import { planDiscovery, toDiskRecords, toVmWrite, type StoredVm } from './discovery-plan.js';
import type { DiscoveredVm } from './vcenter-connector.js';

const AT = new Date('2026-03-01T10:00:00Z');
const VC = 'vc-1';

function listed(moref: string, over: Partial<DiscoveredVm> = {}): DiscoveredVm {
  return {
    moref, name: `name-${moref}`, instance_uuid: `uuid-${moref}`, datacenter: 'DC0', cluster: 'C0', host: 'esx-1', folder: 'vm/Prod',
    power_state: 'poweredOn', guest_os: 'Ubuntu Linux (64-bit)', num_cpu: 2, memory_mb: 4096, cbt_enabled: true, template: false,
    disks: [
      { disk_key: 2001, disk_uuid: `d2-${moref}`, label: 'Hard disk 2', capacity_bytes: 2048, datastore_path: `[ds] ${moref}/b.vmdk`, disk_mode: 'persistent' },
      { disk_key: 2000, disk_uuid: `d1-${moref}`, label: 'Hard disk 1', capacity_bytes: 1024, datastore_path: `[ds] ${moref}/a.vmdk`, disk_mode: 'persistent' },
    ],
    ...over,
  };
}

/** What the inventory holds after a run that wrote `d`. */
function stored(d: DiscoveredVm, over: Partial<VmRecord> = {}): StoredVm {
  const w = toVmWrite(VC, d, new Date('2026-02-01T00:00:00Z'));
  const vm: VmRecord = {
    ...w, context_id: `ctx-${d.moref}`, vcenter_name: 'vc', last_backup_at: null, last_backup_id: null,
    created_at: new Date('2026-01-01T00:00:00Z'), updated_at: new Date('2026-01-01T00:00:00Z'), ...over,
  };
  return { vm, disks: toDiskRecords(d.disks) };
}

describe('discovery plan', () => {
  it('adds VMs it has never seen, with every column and their disks sorted by key', () => {
    const plan = planDiscovery(VC, [], [listed('vm-1')], AT);
    expect(plan.add).to.have.length(1);
    expect(plan.add[0]!.write).to.deep.equal({
      vcenter_id: VC, vm_name: 'name-vm-1', moref: 'vm-1', uuid: 'uuid-vm-1', datacenter: 'DC0', cluster: 'C0', esx_host: 'esx-1', folder: 'vm/Prod',
      power_state: 'poweredOn', guest_os: 'Ubuntu Linux (64-bit)', num_cpu: 2, memory_mb: 4096, cbt_enabled: true, inventory_status: 'present', last_seen_at: AT,
    });
    expect(plan.add[0]!.disks.map((d) => d.disk_key)).to.deep.equal([2000, 2001]);
    expect(plan).to.deep.include({ update: [], unchanged: [], vanished: [], found: 1, missing: 0, disks: 2 });
  });

  it('leaves VMs that did not change alone, whatever the order of their disks', () => {
    const vm = listed('vm-1');
    const plan = planDiscovery(VC, [stored(vm)], [{ ...vm, disks: [...vm.disks].reverse() }], AT);
    expect(plan).to.deep.include({ add: [], update: [], unchanged: ['ctx-vm-1'], vanished: [], found: 1 });
  });

  it('updates a VM whose placement, hardware or CBT state changed, and rewrites disks only when they changed', () => {
    const vm = listed('vm-1');
    for (const change of [{ host: 'esx-2' }, { num_cpu: 4 }, { cbt_enabled: false }, { power_state: 'poweredOff' }, { name: 'renamed' }, { folder: null }]) {
      const plan = planDiscovery(VC, [stored(vm)], [{ ...vm, ...change }], AT);
      expect(plan.update.map((u) => [u.contextId, u.disksChanged]), JSON.stringify(change)).to.deep.equal([['ctx-vm-1', false]]);
    }
    const grown = { ...vm, disks: vm.disks.map((d) => (d.disk_key === 2000 ? { ...d, capacity_bytes: 4096 } : d)) };
    expect(planDiscovery(VC, [stored(vm)], [grown], AT).update.map((u) => u.disksChanged)).to.deep.equal([true]);
    const third = { ...vm, disks: [...vm.disks, { ...vm.disks[0]!, disk_key: 2002, disk_uuid: 'd3' }] };
    expect(planDiscovery(VC, [stored(vm)], [third], AT).update[0]!.disks.map((d) => d.disk_key)).to.deep.equal([2000, 2001, 2002]);
  });

  it('marks a VM that is no longer listed missing, counts missing ones, and brings a missing VM back as present', () => {
    const [a, b, c] = [listed('vm-1'), listed('vm-2'), listed('vm-3')];
    const plan = planDiscovery(VC, [stored(a), stored(b), stored(c, { inventory_status: 'missing' })], [a], AT);
    expect(plan.vanished).to.deep.equal(['ctx-vm-2']); // vm-3 was already missing
    expect(plan).to.deep.include({ missing: 2, found: 1, unchanged: ['ctx-vm-1'] });
    const back = planDiscovery(VC, [stored(a, { inventory_status: 'missing' })], [a], AT);
    expect(back.update.map((u) => [u.contextId, u.write.inventory_status])).to.deep.equal([['ctx-vm-1', 'present']]);
    expect(back.missing).to.equal(0);
  });

  it('recognises a VM registered again under a new moref by its instance UUID: same context, moref updated', () => {
    const a = listed('vm-1');
    const again = listed('vm-9', { instance_uuid: a.instance_uuid, name: a.name });
    const plan = planDiscovery(VC, [stored(a)], [again], AT);
    expect(plan.add).to.have.length(0);
    expect(plan.vanished).to.deep.equal([]);
    expect(plan.update.map((u) => [u.contextId, u.write.moref, u.morefChanged])).to.deep.equal([['ctx-vm-1', 'vm-9', true]]);
    expect(plan.missing).to.equal(0);
  });

  it('does not take over a VM by UUID while its own moref is still listed, nor when two stored VMs share the UUID', () => {
    const a = listed('vm-1');
    const clone = listed('vm-2', { instance_uuid: a.instance_uuid });
    const both = planDiscovery(VC, [stored(a)], [a, clone], AT);
    expect(both.add.map((x) => x.write.moref)).to.deep.equal(['vm-2']);
    expect(both.unchanged).to.deep.equal(['ctx-vm-1']);
    const b = listed('vm-3', { instance_uuid: a.instance_uuid });
    const ambiguous = planDiscovery(VC, [stored(a), stored(b)], [listed('vm-7', { instance_uuid: a.instance_uuid })], AT);
    expect(ambiguous.add.map((x) => x.write.moref)).to.deep.equal(['vm-7']);
    expect(ambiguous.vanished).to.have.members(['ctx-vm-1', 'ctx-vm-3']);
  });

  it('does not inventory templates, and a VM turned into a template goes missing', () => {
    const a = listed('vm-1');
    const plan = planDiscovery(VC, [stored(a)], [{ ...a, template: true }, listed('vm-9', { template: true })], AT);
    expect(plan).to.deep.include({ add: [], found: 0, disks: 0, vanished: ['ctx-vm-1'] });
  });

  it('reads one VM listed twice once', () => {
    const plan = planDiscovery(VC, [], [listed('vm-1'), listed('vm-1', { name: 'again' })], AT);
    expect(plan.add.map((x) => x.write.vm_name)).to.deep.equal(['name-vm-1']);
    expect(plan.found).to.equal(1);
  });

  it('fits what a vCenter sends into the columns: unknown power states, over-long text', () => {
    const w = toVmWrite(VC, listed('vm-1', { power_state: 'weird', guest_os: 'g'.repeat(300), folder: 'f'.repeat(2000), name: '' }), AT);
    expect(w.power_state).to.equal('unknown');
    expect(w.guest_os).to.have.length(255);
    expect(w.folder).to.have.length(1024);
    expect(w.vm_name).to.equal('vm-1');
    expect(toVmWrite(VC, listed('vm-1', { power_state: null }), AT).power_state).to.equal('unknown');
    const [d] = toDiskRecords([{ disk_key: 1, disk_uuid: 'u'.repeat(100), label: null, capacity_bytes: 0, datastore_path: null, disk_mode: 'm'.repeat(100) }]);
    expect([d!.disk_uuid!.length, d!.disk_mode!.length]).to.deep.equal([64, 64]);
  });
});
