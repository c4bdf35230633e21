import { expect } from 'chai';
import { InvalidLoginFault, NotAuthenticatedFault, VsphereError } from './errors.js';
import { retrieveOne } from './property-collector.js';
import { compareVersions, VsphereSession } from './session.js';
import { SoapClient } from './soap-client.js';
import { FakeVim } from './testing/fake-vim.js';
import { vim } from './vim-requests.js';
import { childText } from './xml.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sessionOn(fake: FakeVim, opts: ConstructorParameters<typeof VsphereSession>[2] = { keepAliveMs: 0 }, password = 'pass') {
  const soap = new SoapClient({ sdkUrl: 'https://vc.example/sdk', transport: fake });
  return new VsphereSession(soap, { username: 'user', password }, opts);
}
const time = (s: VsphereSession) => s.invoke(() => vim.currentTime(), (r) => childText(r, 'returnval'));

describe('vsphere session', () => {
  it('logs in with RetrieveServiceContent + Login, then speaks the server\'s API version with the session cookie', async () => {
    const fake = new FakeVim('vcenter', undefined, '7.0.3.0');
    const s = sessionOn(fake);
    const sc = await s.login();
    expect(sc.sessionManager).to.deep.equal({ type: 'SessionManager', value: 'SessionManager' });
    expect(sc.about.apiVersion).to.equal('7.0.3.0');
    expect(await time(s)).to.equal('2026-01-01T00:00:00Z');
    expect(fake.methods()).to.deep.equal(['RetrieveServiceContent', 'Login', 'CurrentTime']);
    expect(fake.calls.map((c) => c.soapAction)).to.deep.equal(['"urn:vim25/6.0"', '"urn:vim25/7.0.3.0"', '"urn:vim25/7.0.3.0"']);
    expect(fake.calls[1]!.cookie).to.equal('vmware_soap_session="s1"');
    expect(fake.calls[2]!.cookie).to.equal('vmware_soap_session="s1"');
  });

  it('caps the API version at the newest it knows', async () => {
    const fake = new FakeVim('vcenter', undefined, '99.0');
    const s = sessionOn(fake, { keepAliveMs: 0, maxApiVersion: '8.0.3.0' });
    await s.login();
    expect(s.soap.apiVersion).to.equal('8.0.3.0');
    expect(compareVersions('6.7', '6.7.1')).to.equal(-1);
    expect(compareVersions('8.0.3.0', '8.0.3')).to.equal(0);
    expect(compareVersions('10.0', '9.9')).to.equal(1);
  });

  it('rejects bad credentials with InvalidLoginFault and refuses calls before login', async () => {
    const s = sessionOn(new FakeVim(), { keepAliveMs: 0 }, 'wrong');
    let err: unknown;
    await s.login().catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(InvalidLoginFault);
    let before: unknown;
    await time(s).catch((e: unknown) => (before = e));
    expect((before as VsphereError).code).to.equal('NOT_LOGGED_IN');
  });

  for (const style of ['vcenter', 'vcsim'] as const) {
    it(`logs in again once when the session was dropped (${style}: ${style === 'vcsim' ? 'missingSet' : 'fault'})`, async () => {
      const fake = new FakeVim(style);
      fake.on('RetrievePropertiesEx', () => '<returnval><objects><obj type="VirtualMachine">vm-1</obj></objects></returnval>');
      const s = sessionOn(fake);
      await s.login();
      fake.dropSessions();
      const oc = await retrieveOne(s, { type: 'VirtualMachine', value: 'vm-1' }, ['name']);
      expect(oc.obj.value).to.equal('vm-1');
      expect(fake.methods()).to.deep.equal(['RetrieveServiceContent', 'Login', 'RetrievePropertiesEx', 'RetrieveServiceContent', 'Login', 'RetrievePropertiesEx']);
      expect(fake.calls.at(-1)!.cookie).to.equal('vmware_soap_session="s2"');
      expect(s.epoch).to.equal(2);
    });
  }

  it('re-logs in only once: a second NotAuthenticated is thrown', async () => {
    const fake = new FakeVim();
    fake.on('CurrentTime', () => ({ fault: 'NotAuthenticated' }));
    const s = sessionOn(fake);
    await s.login();
    let err: unknown;
    await time(s).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(NotAuthenticatedFault);
    expect(fake.methods().filter((m) => m === 'Login')).to.have.length(2);
  });

  it('shares one re-login among concurrent callers', async () => {
    const fake = new FakeVim();
    const s = sessionOn(fake);
    await s.login();
    fake.dropSessions();
    const results = await Promise.all([time(s), time(s), time(s)]);
    expect(results).to.deep.equal(Array(3).fill('2026-01-01T00:00:00Z'));
    expect(fake.methods().filter((m) => m === 'Login')).to.have.length(2); // the first login + one re-login
  });

  it('keeps the session alive with CurrentTime at the interval, and stops at logout', async () => {
    const fake = new FakeVim();
    const errors: unknown[] = [];
    const s = sessionOn(fake, { keepAliveMs: 40, onKeepAliveError: (e) => errors.push(e) });
    await s.login();
    await sleep(190);
    const beats = fake.methods().filter((m) => m === 'CurrentTime').length;
    expect(beats).to.be.within(3, 5);
    await s.logout();
    expect(fake.methods().at(-1)).to.equal('Logout');
    expect(fake.sessions.size).to.equal(0);
    const after = fake.calls.length;
    await sleep(120);
    expect(fake.calls.length).to.equal(after);
    expect(errors).to.deep.equal([]);
    await s.logout(); // idempotent: no second Logout
    expect(fake.calls.length).to.equal(after);
  });

  it('reports keep-alive failures to the callback without throwing', async () => {
    const fake = new FakeVim();
    fake.on('CurrentTime', () => ({ status: 503, body: 'busy' }));
    const errors: VsphereError[] = [];
    const s = sessionOn(fake, { keepAliveMs: 30, onKeepAliveError: (e) => errors.push(e as VsphereError) });
    await s.login();
    await sleep(100);
    await s.logout();
    expect(errors.length).to.be.greaterThan(0);
    expect(errors[0]!.transient).to.equal(true);
    expect(errors[0]!.status).to.equal(503);
  });
});
