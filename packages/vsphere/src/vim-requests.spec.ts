import { expect } from 'chai';
import { envelope, vim } from './vim-requests.js';
import { attr, child, parseXml, SOAPENV_NS, VIM25_NS, xsiType, type XmlElement } from './xml.js';

const PC = { type: 'PropertyCollector', value: 'propertyCollector' };
const VM = { type: 'VirtualMachine', value: 'vm-42' };
const SNAP = { type: 'VirtualMachineSnapshot', value: 'snapshot-7' };

/** Parses a request through a full envelope, as the server would. */
function sent(req: { body: string }): XmlElement {
  const env = parseXml(envelope(req.body));
  expect([env.ns, env.name]).to.deep.equal([SOAPENV_NS, 'Envelope']);
  const body = child(env, 'Body')!;
  expect(body.ns).to.equal(SOAPENV_NS);
  const method = body.children[0]!;
  expect(method.ns).to.equal(VIM25_NS);
  return method;
}
const names = (el: XmlElement | undefined) => el?.children.map((c) => c.name) ?? [];

describe('vsphere vim25 requests', () => {
  it('orders arguments as the WSDL does', () => {
    expect(names(sent(vim.login(PC, 'u', 'p', 'en')))).to.deep.equal(['_this', 'userName', 'password', 'locale']);
    expect(names(sent(vim.createSnapshot(VM, 'n', 'd', false, true)))).to.deep.equal(['_this', 'name', 'description', 'memory', 'quiesce']);
    expect(names(sent(vim.removeSnapshot(SNAP, false, true)))).to.deep.equal(['_this', 'removeChildren', 'consolidate']);
    expect(names(sent(vim.queryChangedDiskAreas(VM, SNAP, 2000, 4096, '*')))).to.deep.equal(['_this', 'snapshot', 'deviceKey', 'startOffset', 'changeId']);
    expect(names(sent(vim.createContainerView(PC, { type: 'Folder', value: 'group-d1' }, ['Folder', 'HostSystem'], true)))).to.deep.equal([
      '_this', 'container', 'type', 'type', 'recursive',
    ]);
    expect(names(sent(vim.continueRetrievePropertiesEx(PC, 'tok')))).to.deep.equal(['_this', 'token']);
  });

  it('writes morefs with their type and the values of the call', () => {
    const q = sent(vim.queryChangedDiskAreas(VM, SNAP, 2000, 8_589_934_592, '52 ab/3'));
    expect([attr(child(q, '_this'), 'type'), child(q, '_this')!.text]).to.deep.equal(['VirtualMachine', 'vm-42']);
    expect([attr(child(q, 'snapshot'), 'type'), child(q, 'snapshot')!.text]).to.deep.equal(['VirtualMachineSnapshot', 'snapshot-7']);
    expect(names(q).map((n) => child(q, n)!.text).slice(2)).to.deep.equal(['2000', '8589934592', '52 ab/3']);
    const s = sent(vim.createSnapshot(VM, 'n', 'd', false, true));
    expect([child(s, 'memory')!.text, child(s, 'quiesce')!.text]).to.deep.equal(['false', 'true']);
  });

  it('builds RetrievePropertiesEx in WSDL order with xsi:type on the polymorphic selectSet', () => {
    const r = sent(
      vim.retrievePropertiesEx(PC, [{
        propSet: [{ type: 'VirtualMachine', pathSet: ['name', 'config.hardware.device'] }],
        objectSet: [{ obj: { type: 'ContainerView', value: 'session[1]view' }, skip: true, selectSet: [{ type: 'ContainerView', path: 'view', skip: false }] }],
      }], 50),
    );
    expect(names(r)).to.deep.equal(['_this', 'specSet', 'options']);
    const spec = child(r, 'specSet')!;
    expect(names(spec)).to.deep.equal(['propSet', 'objectSet']);
    expect(names(child(spec, 'propSet'))).to.deep.equal(['type', 'pathSet', 'pathSet']);
    const os = child(spec, 'objectSet')!;
    expect(names(os)).to.deep.equal(['obj', 'skip', 'selectSet']);
    const sel = child(os, 'selectSet')!;
    expect(xsiType(sel)).to.equal('TraversalSpec'); // resolved through the envelope's xmlns:xsi
    expect(names(sel)).to.deep.equal(['type', 'path', 'skip']);
    expect(child(child(r, 'options'), 'maxObjects')!.text).to.equal('50');
  });

  it('escapes every value: names, descriptions, passwords, change ids, moref values', () => {
    const nasty = `a<b>&"c'</name><x>`;
    const login = sent(vim.login(PC, nasty, `p&<"'>`));
    expect(child(login, 'userName')!.text).to.equal(nasty);
    expect(child(login, 'password')!.text).to.equal(`p&<"'>`);
    const snap = sent(vim.createSnapshot({ type: 'VirtualMachine', value: 'vm-1"<' }, nasty, nasty, false, false));
    expect(child(snap, 'name')!.text).to.equal(nasty);
    expect(child(snap, 'description')!.text).to.equal(nasty);
    expect(child(snap, '_this')!.text).to.equal('vm-1"<');
    expect(sent(vim.queryChangedDiskAreas(VM, SNAP, 1, 0, nasty)).children.at(-1)!.text).to.equal(nasty);
    expect(() => vim.createSnapshot(VM, 'bad\u0001', '', false, false)).to.throw(RangeError);
  });

  it('sends ReconfigVM_Task with only changeTrackingEnabled in the spec', () => {
    const r = sent(vim.reconfigVmChangeTracking(VM, true));
    expect(names(r)).to.deep.equal(['_this', 'spec']);
    expect(names(child(r, 'spec'))).to.deep.equal(['changeTrackingEnabled']);
    expect(child(child(r, 'spec'), 'changeTrackingEnabled')!.text).to.equal('true');
  });
});
