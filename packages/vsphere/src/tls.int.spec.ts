import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startVcsim, type Vcsim } from '../../testing/src/vcsim.js';
import { VsphereError } from './errors.js';
import type { TlsPolicy } from './tls.js';
import { VsphereClient } from './vsphere-client.js';

// vcsim serves plain HTTP, so TLS is tested through a local node:https server in front of it, with a
// self-signed certificate that openssl makes at test time. openssl also states the fingerprints, so
// the expected thumbprints do not come from the code under test.

function fingerprint(cert: string, algo: 'sha1' | 'sha256'): string {
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', `-${algo}`, '-in', cert], { encoding: 'utf8' });
  return /=([0-9A-F:]+)\s*$/.exec(out)![1]!;
}

describe('vsphere TLS policies against an https front of vcsim (integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let vc: Vcsim;
  let server: https.Server;
  let url: string;
  let certPem: string;
  let sha1: string;
  let sha256: string;
  let requests = 0;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vf-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    certPem = readFileSync(cert, 'utf8');
    sha1 = fingerprint(cert, 'sha1');
    sha256 = fingerprint(cert, 'sha256');
    vc = await startVcsim({ vms: 1, disks: 1 });
    const upstream = new URL(vc.url);
    server = https.createServer({ key: readFileSync(key), cert: certPem }, (req, res) => {
      requests++;
      const fwd = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', () => res.destroy());
      req.pipe(fwd);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await vc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = (tls: TlsPolicy) => VsphereClient.connect({ url, username: vc.username, password: vc.password, tls, keepAliveMs: 0 });
  async function refused(tls: TlsPolicy): Promise<VsphereError> {
    try {
      await connect(tls);
    } catch (e) {
      if (e instanceof VsphereError) return e;
      throw e;
    }
    throw new Error('expected the connection to be refused');
  }

  it('works end to end with the pinned SHA-256 or SHA-1 thumbprint, in any spelling', async () => {
    for (const thumbprint of [sha256, sha1.replace(/:/g, '').toLowerCase()]) {
      const c = await connect({ mode: 'thumbprint', thumbprint });
      const vms = await c.listVms();
      expect(vms.map((v) => v.name)).to.deep.equal(['DC0_H0_VM0']);
      await c.logout();
    }
  });

  it('refuses a wrong thumbprint before sending a request, naming expected and actual', async () => {
    const before = requests;
    const wrong256 = sha256.replace(/^../, sha256.startsWith('00') ? '11' : '00');
    const err = await refused({ mode: 'thumbprint', thumbprint: wrong256 });
    expect([err.code, err.transient]).to.deep.equal(['TLS_THUMBPRINT_MISMATCH', false]);
    expect(err.message).to.contain(`expected ${wrong256}`).and.contain(`got ${sha256}`);
    const wrong1 = 'AB'.repeat(20);
    const err1 = await refused({ mode: 'thumbprint', thumbprint: wrong1 });
    expect(err1.message).to.contain(`got ${sha1}`).and.contain('SHA1');
    expect(requests).to.equal(before); // not even RetrieveServiceContent reached the server
  });

  it('verifies normally: a self-signed certificate is refused (permanent) unless its CA is given', async () => {
    const before = requests;
    const err = await refused({ mode: 'verify' });
    expect([err.code, err.transient]).to.deep.equal(['TLS_VERIFY_FAILED', false]);
    expect(err.message).to.contain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(requests).to.equal(before);
    const c = await connect({ mode: 'verify', ca: certPem });
    expect(await c.currentTime()).to.be.instanceOf(Date);
    await c.logout();
  });

  it('accepts any certificate only when told to be insecure', async () => {
    const c = await connect({ mode: 'insecure' });
    expect((await c.listVms()).length).to.equal(1);
    await c.logout();
  });

  it('reports a closed port as a transient network error', async () => {
    const probe = https.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    try {
      await VsphereClient.connect({ url: `https://127.0.0.1:${port}/sdk`, username: 'u', password: 'p', tls: { mode: 'insecure' } });
      expect.fail('connected to a closed port');
    } catch (e) {
      expect(e).to.be.instanceOf(VsphereError);
      expect([(e as VsphereError).code, (e as VsphereError).transient]).to.deep.equal(['NETWORK', true]);
      expect((e as VsphereError).message).to.contain('ECONNREFUSED');
    }
  });
});
