import { expect } from 'chai';
import { expandNbdkitTemplate, parseNbdkitTemplate } from './nbdkit-launcher-args.js';

const KNOWN = ['host', 'username', 'password_fd', 'vm', 'snapshot', 'disk_path', 'datastore_url', 'flat_file'];
const VDDK = 'vddk server={host} user={username} password=-{password_fd} vm=moref={vm} snapshot={snapshot} {disk_path}';

describe('nbdkit plugin template', () => {
  it('splits the VDDK template into plugin and parameters and lists the placeholders it uses, each once', () => {
    const t = parseNbdkitTemplate(`${VDDK} transports=nbdssl:nbd`, KNOWN);
    expect(t.filters).to.deep.equal([]);
    expect(t.plugin).to.equal('vddk');
    expect(t.params).to.have.length(7);
    expect(t.placeholders).to.deep.equal(['host', 'username', 'password_fd', 'vm', 'snapshot', 'disk_path']);
  });

  it('keeps a value with spaces, quotes or a leading dash inside its one argument, and never re-expands it', () => {
    const t = parseNbdkitTemplate(VDDK, KNOWN);
    const args = expandNbdkitTemplate(t, {
      host: 'vc.lab', username: 'a b', password_fd: '3', vm: 'vm-1', snapshot: 'snapshot-2',
      disk_path: '[LocalDS_0] my vm/disk "1" {host}.vmdk',
    });
    expect(args.params).to.deep.equal([
      'server=vc.lab', 'user=a b', 'password=-3', 'vm=moref=vm-1', 'snapshot=snapshot-2', '[LocalDS_0] my vm/disk "1" {host}.vmdk',
    ]);
    const dash = expandNbdkitTemplate(parseNbdkitTemplate('file {flat_file}', KNOWN), { flat_file: '--run=sh' });
    expect(dash.params).to.deep.equal(['--run=sh']);
  });

  it('reads filters in both spellings, quoted arguments and literal braces', () => {
    const t = parseNbdkitTemplate(`--filter=delay --filter error  file "file={datastore_url}/{flat_file}" 'x=a b' y={{z}} rdelay=5ms`, KNOWN);
    expect(t.filters).to.deep.equal(['delay', 'error']);
    expect(t.plugin).to.equal('file');
    const a = expandNbdkitTemplate(t, { datastore_url: '/tmp/ds 0', flat_file: 'vm/disk-flat.vmdk' });
    expect(a.params).to.deep.equal(['file=/tmp/ds 0/vm/disk-flat.vmdk', 'x=a b', 'y={z}', 'rdelay=5ms']);
  });

  it('refuses what the launcher owns or cannot expand, saying what is wrong', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /names no plugin/],
      ['--filter=delay', /names no plugin/],
      ['-U /tmp/s file file=x', /--filter=NAME options only/],
      ['--run "sh -c x" file', /--filter=NAME options only/],
      ['{host} x=1', /bad plugin name/],
      ['--filter={host} file', /bad filter name/],
      ['file file={nope}', /unknown placeholder \{nope\}.*\{host\}/],
      ['file file={host', /stray "\{"/],
      ['file "file=x', /unclosed " quote/],
    ];
    for (const [source, message] of bad) expect(() => parseNbdkitTemplate(source, KNOWN), source).to.throw(message);
  });

  it('fails the expansion when a used placeholder has no value', () => {
    const t = parseNbdkitTemplate('file file={datastore_url}/{flat_file}', KNOWN);
    expect(() => expandNbdkitTemplate(t, { flat_file: 'x' })).to.throw(/no value for \{datastore_url\}/);
  });
});
