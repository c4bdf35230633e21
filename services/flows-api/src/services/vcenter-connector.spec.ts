import { expect } from 'chai';
import { AppError } from '@vaultflow/errors';
import { InvalidLoginFault, VimFault, VsphereError, type VmInfo } from '@vaultflow/vsphere';
import { decodeEntityName, loginError, sdkUrlOfTarget, tlsPolicyOf, toDiscoveredVm, type VcenterTarget } from './vcenter-connector.js';

const target: VcenterTarget = { host: 'vc.lab', port: 443, protocol: 'https', username: 'administrator@vsphere.local', password: 'S3cret-pw', tls_thumbprint: null, insecure: true };

function asApp(err: unknown): AppError {
  expect(err).to.be.instanceOf(AppError);
  return err as AppError;
}

describe('vCenter connector', () => {
  it('builds the SDK URL from host, port and protocol, bracketing IPv6 literals', () => {
    expect(sdkUrlOfTarget(target)).to.equal('https://vc.lab:443/sdk');
    expect(sdkUrlOfTarget({ host: '127.0.0.1', port: 8989, protocol: 'http' })).to.equal('http://127.0.0.1:8989/sdk');
    expect(sdkUrlOfTarget({ host: 'fe80::1', port: 443, protocol: 'https' })).to.equal('https://[fe80::1]:443/sdk');
    expect(sdkUrlOfTarget({ host: '[::1]', port: 443, protocol: 'https' })).to.equal('https://[::1]:443/sdk');
  });

  it('pins a thumbprint, accepts any certificate only when insecure, and needs no certificate over http', () => {
    expect(tlsPolicyOf({ protocol: 'https', tls_thumbprint: 'AB:CD', insecure: false })).to.deep.equal({ mode: 'thumbprint', thumbprint: 'AB:CD' });
    expect(tlsPolicyOf({ protocol: 'https', tls_thumbprint: null, insecure: true })).to.deep.equal({ mode: 'insecure' });
    expect(tlsPolicyOf({ protocol: 'https', tls_thumbprint: null, insecure: false })).to.deep.equal({ mode: 'verify' });
    expect(tlsPolicyOf({ protocol: 'http', tls_thumbprint: null, insecure: true })).to.deep.equal({ mode: 'insecure' });
  });

  it('names the field to fix for each way a login fails, and never the password', () => {
    const cases: Array<[unknown, string, string]> = [
      [new InvalidLoginFault({ faultType: 'InvalidLogin', faultMessage: 'Cannot complete login due to an incorrect user name or password.' }), 'VCENTER_LOGIN_FAILED', 'body.password'],
      [new VsphereError('TLS_THUMBPRINT_MISMATCH', 'TLS certificate of vc.lab:443 does not match the pinned SHA1 thumbprint: expected AA, got BB'), 'VCENTER_TLS_MISMATCH', 'body.tls_thumbprint'],
      [new VsphereError('TLS_VERIFY_FAILED', 'TLS certificate of vc.lab:443 is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate); pin its thumbprint or add its CA'), 'VCENTER_TLS_MISMATCH', 'body.tls_thumbprint'],
      [new VsphereError('NETWORK', 'vc.lab:443: ECONNREFUSED: connect ECONNREFUSED', { transient: true }), 'VCENTER_UNREACHABLE', 'body.host'],
      [new VsphereError('NETWORK', 'vc.lab:443: ENOTFOUND: getaddrinfo ENOTFOUND vc.lab', { transient: true }), 'VCENTER_UNREACHABLE', 'body.host'],
      [new VsphereError('TIMEOUT', 'login timed out', { transient: true }), 'VCENTER_UNREACHABLE', 'body.host'],
      [new VsphereError('HTTP_STATUS', 'HTTP 404', { status: 404 }), 'VCENTER_UNREACHABLE', 'body.host'],
      [new VsphereError('BAD_RESPONSE', 'not XML'), 'VCENTER_UNREACHABLE', 'body.host'],
      [new VimFault({ faultType: 'NoPermission', faultMessage: 'denied' }), 'VCENTER_LOGIN_FAILED', 'body.username'],
    ];
    for (const [err, code, field] of cases) {
      const e = asApp(loginError(err, target, 10_000));
      expect([e.status, e.code, e.details.map((d) => d.field)], code).to.deep.equal([422, code, [field]]);
      expect(e.message).to.contain('vc.lab').and.not.contain(target.password);
    }
    expect(asApp(loginError(new VsphereError('TIMEOUT', 'x'), target, 10_000)).message).to.contain('within 10 s');
    expect(asApp(loginError(cases[1]![0], target, 10_000)).message).to.contain('got BB');
    const bug = new TypeError('a bug');
    expect(loginError(bug, target, 10_000)).to.equal(bug); // not a vCenter answer: passes through
  });

  it("reads vSphere's escaped names and maps a VM into discovery's terms", () => {
    expect(decodeEntityName('web%2f01 %25 50%5cx %41')).to.equal('web/01 % 50\\x %41');
    const vm = {
      ref: { type: 'VirtualMachine', value: 'vm-42' }, name: 'a%2fb', instanceUuid: 'iu', biosUuid: 'bu', datacenter: 'DC0', cluster: undefined, host: 'esx',
      folder: 'vm', powerState: 'poweredOff', guestOs: 'Linux', guestId: 'other', numCpu: 1, memoryMb: 512, hardwareVersion: 'vmx-13',
      changeTrackingEnabled: true, consolidationNeeded: false, template: false, snapshots: [], currentSnapshot: undefined,
      disks: [{ key: 2000, label: 'Hard disk 1', capacityBytes: 10, backingType: 'VirtualDiskFlatVer2BackingInfo', fileName: '[ds] a/a.vmdk', uuid: 'du', changeId: undefined, diskMode: 'persistent', sharing: undefined, compatibilityMode: undefined, datastore: undefined, controllerKey: 1000, unitNumber: 0, skipReason: undefined }],
    } satisfies VmInfo;
    expect(toDiscoveredVm(vm)).to.deep.equal({
      moref: 'vm-42', name: 'a/b', instance_uuid: 'iu', datacenter: 'DC0', cluster: null, host: 'esx', folder: 'vm', power_state: 'poweredOff', guest_os: 'Linux',
      num_cpu: 1, memory_mb: 512, cbt_enabled: true, template: false,
      disks: [{ disk_key: 2000, disk_uuid: 'du', label: 'Hard disk 1', capacity_bytes: 10, datastore_path: '[ds] a/a.vmdk', disk_mode: 'persistent' }],
    });
  });
});
