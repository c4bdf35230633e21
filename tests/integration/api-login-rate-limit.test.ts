import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startHub, type TestHub } from '../support/hub.js';

const API = '/api/v1';

/**
 * The login rate limit counts failures only: users behind one address (a NAT) who log in correctly
 * are never limited. The hub trusts X-Forwarded-For from loopback, so each test picks its own
 * client addresses. (api-auth.test.ts covers the basic 429 answer and the Redis key prefix.)
 */
describe('flows-api: login rate limit counts failures only', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => hub?.stop());

  async function makeUser(role: 'admin' | 'operator' | 'viewer'): Promise<{ username: string; password: string }> {
    const username = `${role}-${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const created = await hub.admin.post(`${API}/users`, { username, password, role });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { username, password };
  }

  /** A login from `address`, as a reverse proxy on the hub's host would forward it. */
  const loginFrom = (address: string, username: string, password: string) =>
    hub.anonymous.req('POST', `${API}/auth/login`, { username, password }, { 'x-forwarded-for': address });
  const nat = '198.51.100.7';

  it('many successful logins from one address (users behind a NAT) are never limited, and leave no counter', async () => {
    const u = await makeUser('viewer');
    const v = await makeUser('operator');
    for (let i = 1; i <= 56; i++) {
      const who = i % 2 ? u : v;
      const res = await loginFrom(nat, who.username, who.password);
      expect(res.status, `login ${i}`).to.equal(200);
    }
    expect(await hub.redis.exists(`${hub.prefix}:ratelimit:login:a:${nat}`)).to.equal(0);
  });

  it('a success forgets the failures of that user; 10 failures in a row lock the user at that address (429 before the password is checked)', async () => {
    const u = await makeUser('viewer');
    for (let i = 1; i <= 9; i++) expect((await loginFrom(nat, u.username, `wrong-${i}`)).status, `failure ${i}`).to.equal(401);
    expect((await loginFrom(nat, u.username, u.password)).status).to.equal(200);
    for (let i = 1; i <= 10; i++) expect((await loginFrom(nat, u.username, `again-${i}`)).status, `failure ${i} after the success`).to.equal(401);
    const auditBefore = await hub.db.db('audit_log').where({ action: 'auth.login_failed', actor: u.username }).count({ n: '*' }).first();
    for (const password of ['again-11', u.password]) {
      const r = await loginFrom(nat, u.username, password);
      expect(r.status).to.equal(429);
      expect(r.body.error.code).to.equal('TOO_MANY_LOGIN_ATTEMPTS');
      expect(Number(r.headers.get('retry-after'))).to.be.within(1, 300);
    }
    // refused before verifying: no further failure was recorded
    expect(await hub.db.db('audit_log').where({ action: 'auth.login_failed', actor: u.username }).count({ n: '*' }).first()).to.deep.equal(auditBefore);
    // the same user from another address is not locked
    expect((await loginFrom('198.51.100.8', u.username, u.password)).status).to.equal(200);
  });

  it('50 failures from one address lock that address for every user, even with the right password', async () => {
    const address = '198.51.100.9';
    const good = await makeUser('viewer');
    for (let i = 1; i <= 50; i++) {
      const res = await loginFrom(address, `nobody-${i}-${randomBytes(3).toString('hex')}`, 'guess');
      expect(res.status, `failure ${i}`).to.equal(401);
    }
    const locked = await loginFrom(address, good.username, good.password);
    expect(locked.status).to.equal(429);
    expect(locked.body.error.code).to.equal('TOO_MANY_LOGIN_ATTEMPTS');
    expect(Number(await hub.redis.get(`${hub.prefix}:ratelimit:login:a:${address}`))).to.equal(50);
    expect((await loginFrom('198.51.100.10', good.username, good.password)).status).to.equal(200);
  });
});
