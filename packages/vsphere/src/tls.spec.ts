import { expect } from 'chai';
import https from 'node:https';
import { certificateThumbprint, createAgent, parseThumbprint } from './tls.js';

describe('vsphere TLS policy', () => {
  it('parses SHA-1 and SHA-256 thumbprints in any spelling into one canonical form', () => {
    const sha1 = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01';
    expect(parseThumbprint(sha1)).to.deep.equal({ algorithm: 'sha1', value: sha1.toUpperCase() });
    expect(parseThumbprint(sha1.replace(/:/g, '').toUpperCase())).to.deep.equal(parseThumbprint(sha1));
    const sha256 = 'AA'.repeat(32);
    expect(parseThumbprint(sha256)).to.deep.equal({ algorithm: 'sha256', value: Array(32).fill('AA').join(':') });
    expect(() => parseThumbprint('AB:CD')).to.throw(RangeError);
    expect(() => parseThumbprint('zz'.repeat(20))).to.throw(RangeError);
    expect(() => parseThumbprint('')).to.throw(RangeError);
  });

  it('computes a certificate fingerprint as OpenSSL prints it', () => {
    // sha1("abc") is the classic test vector
    expect(certificateThumbprint(Buffer.from('abc'), 'sha1')).to.equal('A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D');
  });

  it('builds agents per policy and refuses a pinned thumbprint over plain http', () => {
    expect(() => createAgent('http:', { mode: 'thumbprint', thumbprint: 'AA'.repeat(20) })).to.throw(TypeError, /https/);
    expect((createAgent('https:', { mode: 'insecure' }) as https.Agent).options).to.include({ rejectUnauthorized: false });
    expect((createAgent('https:', { mode: 'verify' }) as https.Agent).options).to.include({ rejectUnauthorized: true });
    expect(createAgent('https:', { mode: 'thumbprint', thumbprint: 'AA'.repeat(20) })).to.be.instanceOf(https.Agent);
    expect(() => createAgent('https:', { mode: 'thumbprint', thumbprint: 'nope' })).to.throw(RangeError);
    expect(() => createAgent('ftp:', { mode: 'verify' })).to.throw(TypeError);
  });
});
