import { expect } from 'chai';
import {
  FileFault, InvalidArgumentFault, InvalidLoginFault, ManagedObjectNotFoundFault, NotAuthenticatedFault, TaskInProgressFault,
  VimFault, VsphereError,
} from './errors.js';
import { parseRetrieveResult } from './property-collector.js';
import { SoapClient } from './soap-client.js';
import { fixture, ReplayTransport } from './testing/fixtures.js';
import { vim } from './vim-requests.js';
import { parseXml } from './xml.js';

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

const callWith = (status: number, body: string) =>
  failure(new SoapClient({ sdkUrl: 'https://vc/sdk', transport: new ReplayTransport([{ status, body }]) }).invoke(vim.currentTime()));

describe('vsphere faults', () => {
  for (const style of ['vcsim', 'vcenter'] as const) {
    describe(`in ${style} XML`, () => {
      it('maps FileFault, NotAuthenticated, InvalidArgument and InvalidLogin to their classes', async () => {
        const file = await callWith(500, fixture(style, 'fault-file'));
        expect(file).to.be.instanceOf(FileFault).and.instanceOf(VimFault).and.instanceOf(VsphereError);
        expect((file as FileFault).code).to.equal('FILE_FAULT');
        expect((file as FileFault).faultType).to.equal('FileFault');
        expect((file as FileFault).transient).to.equal(false);
        expect((file as FileFault).file).to.match(/\.vmdk$/);

        const na = await callWith(500, fixture(style, 'fault-not-authenticated'));
        expect(na).to.be.instanceOf(NotAuthenticatedFault);
        expect((na as VimFault).code).to.equal('NOT_AUTHENTICATED');

        const ia = await callWith(500, fixture(style, 'fault-invalid-argument'));
        expect(ia).to.be.instanceOf(InvalidArgumentFault);
        expect((ia as InvalidArgumentFault).invalidProperty).to.be.a('string').and.not.equal('');

        const il = await callWith(500, fixture(style, 'fault-invalid-login'));
        expect(il).to.be.instanceOf(InvalidLoginFault);
        expect((il as VimFault).message).to.match(/^InvalidLogin: /);
      });
    });
  }

  it('maps vCenter-only faults: TaskInProgress (transient), ManagedObjectNotFound with its object, FileFault subtypes', async () => {
    const tip = await callWith(500, fixture('vcenter', 'fault-task-in-progress'));
    expect(tip).to.be.instanceOf(TaskInProgressFault);
    expect((tip as VimFault).transient).to.equal(true);
    expect((tip as VimFault).code).to.equal('TASK_IN_PROGRESS');

    const mo = await callWith(500, fixture('vcenter', 'fault-managed-object-not-found'));
    expect(mo).to.be.instanceOf(ManagedObjectNotFoundFault);
    expect((mo as ManagedObjectNotFoundFault).obj).to.deep.equal({ type: 'VirtualMachine', value: 'vm-999' });
    expect((mo as VimFault).faultMessage).to.contain("'vim.VirtualMachine:vm-999'");

    const fnf = await callWith(500, fixture('vcenter', 'fault-file-not-found'));
    expect(fnf).to.be.instanceOf(FileFault);
    expect((fnf as FileFault).faultType).to.equal('FileNotFound');
    expect((fnf as FileFault).file).to.equal('[ds-01] web-01/web-01.vmdk');
  });

  it('keeps the type name of faults it has no class for', async () => {
    const f = await callWith(500, fixture('vcenter', 'fault-invalid-state'));
    expect(f).to.be.instanceOf(VimFault);
    expect(f).to.not.be.instanceOf(FileFault);
    expect((f as VimFault).faultType).to.equal('InvalidState');
    expect((f as VimFault).code).to.equal('VIM_FAULT');
    expect((f as VimFault).transient).to.equal(false);
  });

  it('reads a fault without detail from its faultcode', async () => {
    const body = fixture('vcenter', 'fault-file').replace(/<detail>.*<\/detail>/s, '');
    const f = (await callWith(500, body)) as VimFault;
    expect(f.faultType).to.equal('ServerFaultCode');
    expect(f.faultMessage).to.match(/^Error caused by file/);
  });

  it('classifies HTTP failures: 503 transient, other statuses and non-SOAP answers permanent', async () => {
    const busy = (await callWith(503, '<html>Service Unavailable</html>')) as VsphereError;
    expect([busy.code, busy.transient, busy.status]).to.deep.equal(['HTTP_STATUS', true, 503]);
    const proxy = (await callWith(404, 'not found')) as VsphereError;
    expect([proxy.code, proxy.transient, proxy.status]).to.deep.equal(['HTTP_STATUS', false, 404]);
    const garbage = (await callWith(200, 'not xml at all')) as VsphereError;
    expect([garbage.code, garbage.transient]).to.deep.equal(['BAD_RESPONSE', false]);
    const wrong = (await callWith(200, fixture('vcsim', 'qcda'))) as VsphereError; // CurrentTime answered with a QCDA response
    expect(wrong.code).to.equal('BAD_RESPONSE');
    expect(wrong.message).to.contain('expected CurrentTimeResponse');
  });

  it('throws a missingSet NotAuthenticated (vcsim answers RetrievePropertiesEx so) as NotAuthenticatedFault', () => {
    const env = parseXml(fixture('vcsim', 'missing-set-not-authenticated'));
    const response = env.children[0]!.children[0]!;
    expect(() => parseRetrieveResult(response)).to.throw(NotAuthenticatedFault);
  });
});
