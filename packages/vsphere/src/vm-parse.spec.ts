import { expect } from 'chai';
import { InventoryTree } from './inventory.js';
import { parseRetrieveResult, type ObjectContent } from './property-collector.js';
import { fixture } from './testing/fixtures.js';
import type { VmInfo } from './types.js';
import { flattenSnapshots, hardwareVersionNumber, parseDisks, parseVm, refProp } from './vm-parse.js';
import { parseXml } from './xml.js';

function objects(style: 'vcsim' | 'vcenter', name: string): ObjectContent[] {
  const env = parseXml(fixture(style, name));
  return parseRetrieveResult(env.children.find((c) => c.name === 'Body')!.children[0]!).objects;
}

function vms(style: 'vcsim' | 'vcenter'): VmInfo[] {
  const tree = new InventoryTree(objects(style, 'retrieve-inventory'));
  return objects(style, 'retrieve-vms').map((oc) => parseVm(oc, tree.placement(refProp(oc, 'parent'), refProp(oc, 'runtime.host'))));
}

describe('vsphere VM parsing', () => {
  describe('vcsim XML (XMLSchema-instance:type), captured from the harness', () => {
    it('reads identity, placement, hardware, CBT and both disks', () => {
      const [vm0, vm1] = vms('vcsim');
      expect(vm0).to.deep.include({
        ref: { type: 'VirtualMachine', value: 'vm-27' },
        name: 'DC0_H0_VM0',
        instanceUuid: 'b4689bed-97f0-5bcd-8a4c-07477cc8f06f',
        biosUuid: '265104de-1472-547c-b873-6dc7883fb6cb',
        datacenter: 'DC0',
        cluster: undefined,
        host: 'DC0_H0',
        folder: 'vm',
        powerState: 'poweredOn',
        guestOs: 'otherGuest',
        numCpu: 1,
        memoryMb: 32,
        hardwareVersion: 'vmx-13',
        changeTrackingEnabled: true,
        consolidationNeeded: false,
        template: false,
      });
      expect(vm0!.disks.map((d) => [d.key, d.fileName, d.uuid, d.capacityBytes, d.diskMode, d.backingType, d.skipReason])).to.deep.equal([
        [203, '[LocalDS_0] DC0_H0_VM0/DC0_H0_VM0.vmdk', 'f0bfdfdc-10ac-4c68-b880-7e6364489050', 8388608, 'persistent', 'VirtualDiskFlatVer2BackingInfo', undefined],
        [255511522, '[LocalDS_0] DC0_H0_VM0/disk1.vmdk', 'b0f9f5b2-9de9-4ce1-aa81-d72e5ba6f05e', 8388608, 'persistent', 'VirtualDiskFlatVer2BackingInfo', undefined],
      ]);
      expect(vm0!.disks.map((d) => d.label)).to.deep.equal(['disk-202-1', 'disk-202-0']);
      // the property is absent until ReconfigVM sets it: absent means off
      expect(vm1!.name).to.equal('DC0_H0_VM1');
      expect(vm1!.changeTrackingEnabled).to.equal(false);
      expect(vm1!.snapshots).to.deep.equal([]);
      expect(vm1!.currentSnapshot).to.equal(undefined);
    });

    it('reads the nested snapshot tree with names (entities decoded) and morefs', () => {
      const [vm0] = vms('vcsim');
      const flat = flattenSnapshots(vm0!.snapshots);
      expect(flat.map((s) => [s.ref.value, s.name, s.quiesced])).to.deep.equal([
        ['snapshot-36', 'a & b', true],
        ['snapshot-38', 's2', true],
        ['snapshot-40', 'vaultflow-7-20260101T000000Z', false],
      ]);
      expect(vm0!.snapshots).to.have.length(1);
      expect(vm0!.snapshots[0]!.children[0]!.children[0]!.description).to.equal('child');
      expect(vm0!.currentSnapshot).to.deep.equal({ type: 'VirtualMachineSnapshot', value: 'snapshot-40' });
    });

    it('reads a snapshot\'s frozen disks with their changeIds', () => {
      const [snap] = objects('vcsim', 'snapshot-devices');
      const disks = parseDisks(snap!.props.get('config.hardware.device'));
      expect(disks.map((d) => [d.key, d.fileName, d.changeId])).to.deep.equal([
        [203, '[LocalDS_0] DC0_H0_VM0/DC0_H0_VM0-snapshot-42.vmdk', '950d8813-ede8-4675-a6ab-fdc71d3484f1/4'],
        [255511522, '[LocalDS_0] DC0_H0_VM0/disk1-snapshot-42.vmdk', 'a9ef6509-fde7-42d0-93d1-f59fa2da6c9b/4'],
      ]);
    });
  });

  describe('vCenter XML (xsi:type)', () => {
    it('reads identity, cluster placement with a folder path, and hardware', () => {
      const [web] = vms('vcenter');
      expect(web).to.deep.include({
        ref: { type: 'VirtualMachine', value: 'vm-1001' },
        name: 'web-01 <prod>',
        instanceUuid: '5003a1b2-c3d4-e5f6-0718-293a4b5c6d7e',
        datacenter: 'DC-East',
        cluster: 'Prod-Cluster',
        host: 'esx-01.lab',
        folder: 'vm/Prod/Web',
        powerState: 'poweredOn',
        guestOs: 'Microsoft Windows Server 2019 (64-bit)',
        guestId: 'windows2019srv_64Guest',
        numCpu: 4,
        memoryMb: 8192,
        hardwareVersion: 'vmx-19',
        changeTrackingEnabled: true,
        consolidationNeeded: true,
      });
    });

    it('reads every disk and flags independent, physical RDM and multi-writer ones', () => {
      const [web] = vms('vcenter');
      expect(web!.disks.map((d) => [d.key, d.label, d.capacityBytes, d.diskMode, d.sharing, d.skipReason])).to.deep.equal([
        [2000, 'Hard disk 1', 42949672960, 'persistent', 'sharingNone', undefined],
        [2001, 'Hard disk 2', 1073741824, 'independent_persistent', 'sharingNone', 'independent'], // capacityInKB only
        [2002, 'Hard disk 3', 10737418240, 'independent_persistent', 'sharingNone', 'physical-rdm'],
        [2003, 'Hard disk 4', 2147483648, 'persistent', 'sharingMultiWriter', 'multi-writer'],
        [2004, 'Hard disk 5', 4294967296, 'persistent', undefined, undefined], // virtual-mode RDM: backed up
      ]);
      const d0 = web!.disks[0]!;
      expect(d0.fileName).to.equal('[ds-01 & fast] web-01/web-01.vmdk');
      expect(d0.uuid).to.equal('6000C29a-1b2c-3d4e-5f60-718293a4b5c6');
      expect(d0.changeId).to.equal('52 ab cd ef 01 23 45 67-89 ab cd ef 01 23 45 67/12');
      expect(d0.datastore).to.deep.equal({ type: 'Datastore', value: 'datastore-61' });
      expect(web!.disks[2]!.compatibilityMode).to.equal('physicalMode');
      expect(web!.disks.map((d) => d.key)).to.not.include(1000); // controllers and CD-ROMs are not disks
    });

    it('reads two snapshot roots, children in order, and the current snapshot', () => {
      const [web] = vms('vcenter');
      expect(web!.snapshots.map((s) => s.name)).to.deep.equal(['vaultflow-41-20260101T010000Z', 'other root']);
      expect(flattenSnapshots(web!.snapshots).map((s) => s.ref.value)).to.deep.equal(['snapshot-901', 'snapshot-902', 'snapshot-903', 'snapshot-910']);
      expect(web!.snapshots[0]!.createTime).to.equal('2026-01-01T01:00:00.123456Z');
      expect(web!.currentSnapshot!.value).to.equal('snapshot-903');
    });

    it('tolerates a sparse VM: no CBT property, a vApp parent (no folder), capacityInBytes 0', () => {
      const [, db] = vms('vcenter');
      expect(db).to.deep.include({ name: 'db-02', changeTrackingEnabled: false, consolidationNeeded: false, folder: undefined, datacenter: 'DC-East', host: 'esx-01.lab' });
      expect(db!.disks.map((d) => [d.capacityBytes, d.backingType])).to.deep.equal([[2048 * 1024, 'VirtualDiskSparseVer2BackingInfo']]);
      expect(hardwareVersionNumber(db!.hardwareVersion)).to.equal(4);
      expect(hardwareVersionNumber('weird')).to.equal(undefined);
    });
  });
});
