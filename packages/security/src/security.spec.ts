import { expect } from 'chai';
import { SecretBox } from './secret-box.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { generateToken, hashToken } from './tokens.js';

describe('security', () => {
  const key = 'k'.repeat(40);

  it('seals secrets with a fresh IV each time and opens them again', () => {
    const box = new SecretBox(key);
    const a = box.encrypt('vCenter p@ss');
    const b = box.encrypt('vCenter p@ss');
    expect(a).to.not.equal(b);
    expect(a).to.not.include('p@ss');
    expect(box.decrypt(a)).to.equal('vCenter p@ss');
  });

  it('refuses a sealed secret under another key or after tampering', () => {
    const sealed = new SecretBox(key).encrypt('secret');
    expect(() => new SecretBox('x'.repeat(40)).decrypt(sealed)).to.throw();
    const parts = sealed.split(':');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(() => new SecretBox(key).decrypt(parts.join(':'))).to.throw();
  });

  it('refuses a short key', () => {
    expect(() => new SecretBox('short')).to.throw(/32 characters/);
  });

  it('hashes passwords with salt and verifies only the right one', async () => {
    const h1 = await hashPassword('correct horse');
    const h2 = await hashPassword('correct horse');
    expect(h1).to.not.equal(h2);
    expect(await verifyPassword('correct horse', h1)).to.equal(true);
    expect(await verifyPassword('wrong horse', h1)).to.equal(false);
    expect(await verifyPassword('x', 'garbage')).to.equal(false);
  });

  it('makes distinct tokens and stable hashes', () => {
    const t = generateToken();
    expect(t).to.match(/^vf_[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).to.not.equal(t);
    expect(hashToken(t)).to.equal(hashToken(t)).and.to.have.length(64);
  });
});
