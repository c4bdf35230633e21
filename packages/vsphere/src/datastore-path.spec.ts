import { expect } from 'chai';
import { datastoreFolderUrl, parseDatastorePath } from './datastore-path.js';

describe('vsphere datastore paths', () => {
  it('splits [datastore] path, keeping spaces and brackets-free names intact', () => {
    expect(parseDatastorePath('[LocalDS_0] DC0_H0_VM0/disk1.vmdk')).to.deep.equal({ datastore: 'LocalDS_0', path: 'DC0_H0_VM0/disk1.vmdk' });
    expect(parseDatastorePath('[ds 01] my vm/my vm.vmdk')).to.deep.equal({ datastore: 'ds 01', path: 'my vm/my vm.vmdk' });
    for (const bad of ['', 'disk.vmdk', '[ds]', '[] x.vmdk', '[ds] ']) expect(() => parseDatastorePath(bad), bad).to.throw(/datastore path/);
  });

  it('addresses the flat data file by default, the descriptor on request, and encodes every part', () => {
    const base = 'https://vc.example/sdk';
    expect(datastoreFolderUrl(base, 'DC0', '[LocalDS_0] DC0_H0_VM0/disk1.vmdk')).to.equal(
      'https://vc.example/folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0',
    );
    expect(datastoreFolderUrl(base, 'DC0', '[LocalDS_0] vm/disk1.vmdk', { flat: false })).to.equal('https://vc.example/folder/vm/disk1.vmdk?dcPath=DC0&dsName=LocalDS_0');
    expect(datastoreFolderUrl(base, 'DC0', '[ds] vm/disk1-flat.vmdk')).to.contain('/folder/vm/disk1-flat.vmdk?');
    expect(datastoreFolderUrl('http://127.0.0.1:9/', 'Dc #1/x', '[ds&1] a b/c?d#.vmdk')).to.equal(
      'http://127.0.0.1:9/folder/a%20b/c%3Fd%23-flat.vmdk?dcPath=Dc+%231%2Fx&dsName=ds%261',
    );
  });
});
