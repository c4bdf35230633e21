import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { can, type Permission, type Role } from '@vaultflow/domain';
import { allEndpoints, type Endpoint } from '@vaultflow/schemas';
import { startHub, unique, type Client, type HttpResult, type TestHub } from '../support/hub.js';
import { makeBackupFlow, makeRepository, makeVm } from '../support/fixtures.js';

const API = '/api/v1';

/** The endpoint's path with every `:param` replaced by `value`. */
function fill(e: Endpoint, value: string): string {
  return `${API}${e.path.replace(/:[A-Za-z]+/g, encodeURIComponent(value))}`;
}

function call(client: Client, e: Endpoint, id = 'no-such-id'): Promise<HttpResult> {
  const body = e.method === 'get' || e.method === 'delete' || !e.body ? undefined : {};
  return client.req(e.method.toUpperCase(), fill(e, id), body);
}

const label = (e: Endpoint) => `${e.method.toUpperCase()} ${e.path}`;

interface UserHandle { id: string; username: string; password: string; client: Client }

describe('flows-api: authentication, roles, users and API tokens', () => {
  let hub: TestHub;
  const users: Partial<Record<Role, UserHandle>> = {};

  /** Creates a user through the bootstrap admin and logs it in (one login from 127.0.0.1). */
  async function makeUser(role: Role, opts: { login?: boolean } = {}): Promise<UserHandle> {
    const username = `${role}-${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const created = await hub.admin.post(`${API}/users`, { username, password, role });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    let client = hub.anonymous;
    if (opts.login !== false) client = hub.anonymous.as(await login(username, password));
    return { id: created.body.id, username, password, client };
  }

  async function login(username: string, password: string): Promise<string> {
    const res = await hub.anonymous.post(`${API}/auth/login`, { username, password });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.token;
  }

  before(async () => {
    hub = await startHub();
    for (const role of ['admin', 'operator', 'viewer'] as const) users[role] = await makeUser(role);
  });
  after(async () => hub?.stop());

  describe('every route needs a token', () => {
    const routes = allEndpoints.filter((e) => !(e.method === 'post' && e.path === '/auth/login'));

    it('covers the whole catalog except POST /auth/login', () => {
      expect(routes.length).to.equal(allEndpoints.length - 1);
      expect(allEndpoints.filter((e) => e.permission === 'public').map(label)).to.deep.equal(['POST /auth/login']);
    });

    it('answers 401 UNAUTHENTICATED to every route without a token, with a garbage token, and with a non-bearer scheme', async () => {
      const wrong: string[] = [];
      const garbage = hub.anonymous.as(`vf_${randomBytes(32).toString('base64url')}`);
      for (const e of routes) {
        for (const [how, res] of [
          ['no token', await call(hub.anonymous, e)],
          ['garbage token', await call(garbage, e)],
          ['overlong token', await call(hub.anonymous.as('x'.repeat(600)), e)],
          ['basic auth', await hub.anonymous.req(e.method.toUpperCase(), fill(e, 'no-such-id'), undefined, { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` })],
        ] as const) {
          if (res.status !== 401 || res.body?.error?.code !== 'UNAUTHENTICATED' || typeof res.body.error.request_id !== 'string') {
            wrong.push(`${label(e)} (${how}): ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
          }
        }
      }
      expect(wrong, wrong.join('\n')).to.deep.equal([]);
    });

    it('leaves /healthz and /api/v1/openapi.json open', async () => {
      expect((await hub.anonymous.get('/healthz')).status).to.equal(200);
      expect((await hub.anonymous.get(`${API}/openapi.json`)).status).to.equal(200);
    });
  });

  describe('roles follow each route\'s permission', () => {
    it('answers 403 FORBIDDEN exactly when the role lacks the permission of the route, for every route and role', async () => {
      const wrong: string[] = [];
      for (const role of ['viewer', 'operator', 'admin'] as const) {
        const u = users[role]!;
        for (const e of allEndpoints) {
          if (e.permission === 'public') continue;
          // Logging out would end the session the loop uses: log out a session of its own.
          const client = e.path === '/auth/logout' ? hub.anonymous.as(await login(u.username, u.password)) : u.client;
          const res = await call(client, e);
          const allowed = e.permission === 'authenticated' || can(role, e.permission as Permission);
          if (allowed) {
            if (res.status === 403 || res.status === 401 || res.status >= 500) wrong.push(`${role} ${label(e)} (${e.permission}): expected to pass the role check, got ${res.status} ${JSON.stringify(res.body)}`);
          } else if (res.status !== 403 || res.body?.error?.code !== 'FORBIDDEN') {
            wrong.push(`${role} ${label(e)} (${e.permission}): expected 403 FORBIDDEN, got ${res.status} ${JSON.stringify(res.body)}`);
          }
        }
      }
      expect(wrong, wrong.join('\n')).to.deep.equal([]);
    });

    it('matches the roles of the issue: viewer reads, operator also runs and switches flows, admin configures and administers', () => {
      const byPermission = (p: string) => allEndpoints.filter((e) => e.permission === p).map(label);
      expect(byPermission('operate').sort()).to.deep.equal([
        'DELETE /backups/:id', 'GET /backups/:id/disks/:key/image',
        'PATCH /protection-flows/:id/disable', 'PATCH /protection-flows/:id/enable', 'POST /backups', 'POST /backups/:id/restore', 'POST /protection-flows/:id/execute',
        'POST /protection-flows/:id/executions/:execId/cancel', 'POST /protection-flows/bulk-disable', 'POST /protection-flows/bulk-enable',
        'POST /repositories/:id/prune', 'POST /repositories/:id/verify',
      ]);
      for (const e of allEndpoints) {
        if (e.path.startsWith('/users') || e.path.startsWith('/tokens')) expect(e.permission, label(e)).to.equal('administer');
        // Reading VM data (a disk image) is a restore: operators' business, not viewers'.
        if (e.method === 'get') expect(e.produces === 'application/octet-stream' ? ['operate'] : ['read', 'administer', 'authenticated'], label(e)).to.include(e.permission);
        if (e.method !== 'get' && !['/protection-flows/:id/test', '/schedules/preview', '/auth/logout', '/auth/login'].includes(e.path)) {
          expect(['operate', 'configure', 'administer'], label(e)).to.include(e.permission);
        }
      }
    });

    it('lets a viewer read every list, and refuses it /users and /tokens', async () => {
      const viewer = users.viewer!.client;
      for (const e of allEndpoints.filter((x) => x.method === 'get' && !x.path.includes(':'))) {
        const res = await viewer.get(`${API}${e.path}`);
        expect(res.status, label(e)).to.equal(e.permission === 'administer' ? 403 : 200);
      }
    });

    it('lets an operator execute, enable, disable and bulk-switch real flows, but not change their configuration', async () => {
      const op = users.operator!.client;
      const f = await makeBackupFlow(hub);
      const g = await makeBackupFlow(hub);
      expect((await op.patch(`${API}/protection-flows/${f.id}/disable`)).body.enabled).to.equal(false);
      expect((await op.patch(`${API}/protection-flows/${f.id}/enable`)).body.enabled).to.equal(true);
      const bulk = await op.post(`${API}/protection-flows/bulk-disable`, { flow_ids: [f.id, g.id] });
      expect(bulk.status).to.equal(200);
      expect(bulk.body.affected).to.equal(2);
      expect((await op.post(`${API}/protection-flows/bulk-enable`, { flow_ids: [f.id, g.id] })).status).to.equal(200);
      const run = await op.post(`${API}/protection-flows/${f.id}/execute`);
      expect(run.status).to.equal(202);
      expect(run.body).to.include({ execution_type: 'manual', triggered_by: users.operator!.username, status: 'pending' });
      expect((await op.put(`${API}/protection-flows/${f.id}`, { name: unique('renamed') })).status).to.equal(403);
      expect((await op.del(`${API}/protection-flows/${g.id}`)).status).to.equal(403);
      expect((await op.post(`${API}/protection-flows/bulk-delete`, { flow_ids: [g.id] })).status).to.equal(403);
      expect((await op.post(`${API}/protection-flows`, { name: unique('op'), flow_type: 'backup', target_type: 'vm', target_id: f.target_id, repository_id: f.repository_id })).status).to.equal(403);
      expect((await op.post(`${API}/repositories`, { name: unique('r'), repository_type: 'local', config: { path: `${hub.dataDir}/op` } })).status).to.equal(403);
      expect((await op.post(`${API}/schedules`, { name: unique('s'), cron_expression: '0 2 * * *' })).status).to.equal(403);
      expect((await op.post(`${API}/machine-groups`, { name: unique('g') })).status).to.equal(403);
      expect((await op.post(`${API}/users`, { username: 'nope-user', password: 'long-enough-password', role: 'admin' })).status).to.equal(403);
      expect((await hub.admin.get(`${API}/protection-flows/${g.id}`)).status).to.equal(200);
      const viewerRun = await users.viewer!.client.post(`${API}/protection-flows/${g.id}/execute`);
      expect([viewerRun.status, viewerRun.body.error.code]).to.deep.equal([403, 'FORBIDDEN']);
    });
  });

  describe('login and sessions', () => {
    it('answers {token, expires_at, user} and the token authenticates as that user', async () => {
      const u = await makeUser('viewer', { login: false });
      const before = Date.now();
      const res = await hub.anonymous.post(`${API}/auth/login`, { username: u.username, password: u.password });
      expect(res.status).to.equal(200);
      expect(Object.keys(res.body).sort()).to.deep.equal(['expires_at', 'token', 'user']);
      expect(res.body.token).to.be.a('string').and.have.length.greaterThan(30);
      const ttl = new Date(res.body.expires_at).getTime() - before;
      expect(ttl).to.be.within(12 * 3600_000 - 60_000, 12 * 3600_000 + 60_000);
      expect(res.body.user).to.include({ id: u.id, username: u.username, role: 'viewer', enabled: true });
      expect(res.body.user.last_login_at).to.be.a('string');
      expect(res.body.user).to.not.have.any.keys('password', 'password_hash');
      const me = await hub.anonymous.as(res.body.token).get(`${API}/auth/me`);
      expect(me.status).to.equal(200);
      expect(me.body).to.include({ id: u.id, username: u.username, role: 'viewer' });
    });

    it('answers 401 INVALID_CREDENTIALS with the same message for a wrong password and an unknown user', async () => {
      const u = await makeUser('viewer', { login: false });
      const wrong = await hub.anonymous.post(`${API}/auth/login`, { username: u.username, password: 'not-the-password' });
      const unknown = await hub.anonymous.post(`${API}/auth/login`, { username: `ghost-${randomBytes(4).toString('hex')}`, password: 'whatever-password' });
      for (const r of [wrong, unknown]) expect([r.status, r.body.error.code, r.body.token]).to.deep.equal([401, 'INVALID_CREDENTIALS', undefined]);
      expect(wrong.body.error.message).to.equal(unknown.body.error.message);
      expect(wrong.body.error.details).to.deep.equal(unknown.body.error.details);
    });

    it('refuses a disabled user (same 401 as a wrong password), and their API token stops working', async () => {
      const u = await makeUser('operator', { login: false });
      const tok = await hub.admin.post(`${API}/tokens`, { name: 'before disable', user_id: u.id });
      expect((await hub.anonymous.as(tok.body.token).get(`${API}/auth/me`)).status).to.equal(200);
      const off = await hub.admin.put(`${API}/users/${u.id}`, { enabled: false });
      expect(off.status).to.equal(200);
      expect(off.body.enabled).to.equal(false);
      const res = await hub.anonymous.post(`${API}/auth/login`, { username: u.username, password: u.password });
      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('INVALID_CREDENTIALS');
      expect((await hub.anonymous.as(tok.body.token).get(`${API}/auth/me`)).status).to.equal(401);
      expect((await hub.admin.put(`${API}/users/${u.id}`, { enabled: true })).status).to.equal(200);
      expect((await hub.anonymous.as(tok.body.token).get(`${API}/auth/me`)).status).to.equal(200);
    });

    it('logout ends the session: the token then answers 401', async () => {
      const u = await makeUser('viewer');
      expect((await u.client.get(`${API}/auth/me`)).status).to.equal(200);
      expect((await u.client.post(`${API}/auth/logout`)).status).to.equal(204);
      const after = await u.client.get(`${API}/auth/me`);
      expect([after.status, after.body.error.code]).to.deep.equal([401, 'UNAUTHENTICATED']);
    });

    it('a password change by an admin ends every session of that user; the new password works, the old does not', async () => {
      const u = await makeUser('operator');
      const second = hub.anonymous.as(await login(u.username, u.password));
      expect(await hub.api.stores.tokens.countSessions(u.id)).to.equal(2);
      const newPassword = `new-${randomBytes(10).toString('hex')}`;
      const res = await users.admin!.client.put(`${API}/users/${u.id}`, { password: newPassword });
      expect(res.status).to.equal(200);
      expect((await u.client.get(`${API}/auth/me`)).status).to.equal(401);
      expect((await second.get(`${API}/auth/me`)).status).to.equal(401);
      expect(await hub.api.stores.tokens.countSessions(u.id)).to.equal(0);
      expect((await hub.anonymous.post(`${API}/auth/login`, { username: u.username, password: u.password })).status).to.equal(401);
      expect((await hub.anonymous.post(`${API}/auth/login`, { username: u.username, password: newPassword })).status).to.equal(200);
    });

    it('an expired session answers 401', async () => {
      const u = await makeUser('viewer');
      await hub.db.db('api_tokens').where({ user_id: u.id, kind: 'session' }).update({ expires_at: new Date(Date.now() - 1000) });
      expect((await u.client.get(`${API}/auth/me`)).status).to.equal(401);
    });

    it('rate-limits login: after 10 failed attempts for a user from one address, 429 TOO_MANY_LOGIN_ATTEMPTS with Retry-After; keys live under the hub prefix', async () => {
      const u = await makeUser('viewer', { login: false });
      for (let i = 1; i <= 10; i++) {
        const r = await hub.anonymous.post(`${API}/auth/login`, { username: u.username, password: `wrong-${i}` });
        expect(r.status, `attempt ${i}`).to.equal(401);
      }
      for (const password of ['wrong-11', u.password]) {
        const r = await hub.anonymous.post(`${API}/auth/login`, { username: u.username, password });
        expect(r.status).to.equal(429);
        expect(r.body.error.code).to.equal('TOO_MANY_LOGIN_ATTEMPTS');
        expect(r.body.error.request_id).to.be.a('string');
        const retry = Number(r.headers.get('retry-after'));
        expect(retry).to.be.within(1, 300);
      }
      // Another user from the same address is not locked out by this one.
      const other = await makeUser('viewer', { login: false });
      expect((await hub.anonymous.post(`${API}/auth/login`, { username: other.username, password: other.password })).status).to.equal(200);
      const mine: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await hub.redis.scan(cursor, 'MATCH', `*ratelimit:login:*${u.username}*`, 'COUNT', 1000);
        cursor = next;
        mine.push(...keys);
      } while (cursor !== '0');
      expect(mine).to.have.length.greaterThan(0);
      for (const k of mine) expect(k.startsWith(`${hub.prefix}:`), k).to.equal(true);
      expect(await hub.redis.ttl(mine[0]!)).to.be.within(1, 300);
      const perAddress = await hub.redis.keys(`${hub.prefix}:ratelimit:login:a:*`);
      expect(perAddress).to.have.length.greaterThan(0);
    });
  });

  describe('API tokens', () => {
    let owner: UserHandle;
    let created: HttpResult;
    before(async () => {
      owner = await makeUser('operator', { login: false });
      created = await users.admin!.client.post(`${API}/tokens`, { name: 'ci pipeline', user_id: owner.id, expires_in_days: 30 });
    });

    it('creates a token for a user: the secret is shown once, lists show only its prefix', async () => {
      expect(created.status).to.equal(201);
      const t = created.body;
      expect(t).to.include({ name: 'ci pipeline', user_id: owner.id, username: owner.username, last_used_at: null });
      expect(t.token).to.match(/^vf_[A-Za-z0-9_-]{43}$/);
      expect(t.token.startsWith(t.token_prefix)).to.equal(true);
      expect(t.token_prefix.length).to.be.lessThan(16);
      const expires = new Date(t.expires_at).getTime();
      expect(expires - Date.now()).to.be.within(30 * 86400_000 - 120_000, 30 * 86400_000 + 120_000);
      const list = await hub.admin.get(`${API}/tokens?user_id=${owner.id}`);
      expect(list.status).to.equal(200);
      expect(list.body.total).to.equal(1);
      expect(list.body.tokens[0]).to.include({ id: t.id, token_prefix: t.token_prefix });
      expect(list.body.tokens[0]).to.not.have.property('token');
      expect(JSON.stringify(list.body)).to.not.include(t.token);
      // Sessions are not API tokens: they never show up in the list.
      await login(owner.username, owner.password);
      expect((await hub.admin.get(`${API}/tokens?user_id=${owner.id}`)).body.total).to.equal(1);
    });

    it('authenticates as its user; execute through it is recorded as execution_type api by that user', async () => {
      const client = hub.anonymous.as(created.body.token);
      const me = await client.get(`${API}/auth/me`);
      expect(me.body).to.include({ id: owner.id, username: owner.username, role: 'operator' });
      const f = await makeBackupFlow(hub);
      const run = await client.post(`${API}/protection-flows/${f.id}/execute`);
      expect(run.status).to.equal(202);
      expect(run.body).to.include({ execution_type: 'api', triggered_by: owner.username });
      const row = await hub.db.db('protection_flow_executions').where({ id: run.body.id }).first();
      expect(row).to.include({ execution_type: 'api', triggered_by: owner.username });
      // The role of the user applies to the token too.
      expect((await client.post(`${API}/machine-groups`, { name: unique('g') })).status).to.equal(403);
      const listed = (await hub.admin.get(`${API}/tokens?user_id=${owner.id}`)).body.tokens[0];
      expect(listed.last_used_at).to.be.a('string');
    });

    it('stores tokens as sha256 hex hashes, never the token itself', async () => {
      const t = created.body.token as string;
      const row = await hub.db.db('api_tokens').where({ id: created.body.id }).first();
      expect(row.token_hash).to.equal(createHash('sha256').update(t).digest('hex'));
      expect(row.token_hash).to.match(/^[0-9a-f]{64}$/);
      const all = await hub.db.db('api_tokens').select('*');
      expect(all.length).to.be.greaterThan(1);
      const secret = t.slice(10);
      for (const r of all) for (const v of Object.values(r)) expect(String(v)).to.not.include(secret);
      const audit = await hub.db.db('audit_log').select('details');
      for (const a of audit) expect(String(a.details ?? '')).to.not.include(secret);
    });

    it('honours expires_in_days: a token past its expiry answers 401', async () => {
      const t = await hub.admin.post(`${API}/tokens`, { name: 'short lived', user_id: owner.id, expires_in_days: 1 });
      expect(t.status).to.equal(201);
      expect(new Date(t.body.expires_at).getTime() - Date.now()).to.be.within(86400_000 - 120_000, 86400_000 + 120_000);
      const client = hub.anonymous.as(t.body.token);
      expect((await client.get(`${API}/auth/me`)).status).to.equal(200);
      await hub.db.db('api_tokens').where({ id: t.body.id }).update({ expires_at: new Date(Date.now() - 60_000) });
      const res = await client.get(`${API}/auth/me`);
      expect([res.status, res.body.error.code]).to.deep.equal([401, 'UNAUTHENTICATED']);
      const forever = await hub.admin.post(`${API}/tokens`, { name: 'no expiry', user_id: owner.id });
      expect(forever.body.expires_at).to.equal(null);
    });

    it('revoking a token makes it answer 401; revoking again is 404', async () => {
      const t = await hub.admin.post(`${API}/tokens`, { name: 'to revoke', user_id: owner.id });
      const client = hub.anonymous.as(t.body.token);
      expect((await client.get(`${API}/auth/me`)).status).to.equal(200);
      expect((await hub.admin.del(`${API}/tokens/${t.body.id}`)).status).to.equal(204);
      expect((await client.get(`${API}/auth/me`)).status).to.equal(401);
      const again = await hub.admin.del(`${API}/tokens/${t.body.id}`);
      expect([again.status, again.body.error.code]).to.deep.equal([404, 'TOKEN_NOT_FOUND']);
    });

    it('defaults to the calling admin; the bootstrap token must name a user; an unknown user is a 422 reference problem', async () => {
      const mine = await users.admin!.client.post(`${API}/tokens`, { name: 'my own' });
      expect(mine.status).to.equal(201);
      expect(mine.body.user_id).to.equal(users.admin!.id);
      const boot = await hub.admin.post(`${API}/tokens`, { name: 'bootstrap has no user' });
      expect(boot.status).to.equal(400);
      expect(boot.body.error.details).to.deep.equal([{ field: 'body.user_id', message: 'is required' }]);
      const ghost = await hub.admin.post(`${API}/tokens`, { name: 'ghost', user_id: 'no-such-user' });
      expect([ghost.status, ghost.body.error.code]).to.deep.equal([422, 'REFERENCE_NOT_FOUND']);
      expect(ghost.body.error.details[0].field).to.equal('body.user_id');
      expect(await hub.db.db('api_tokens').where({ name: 'ghost' }).first()).to.equal(undefined);
    });
  });

  describe('users', () => {
    it('creates, lists, gets, updates and deletes a user (and its tokens with it)', async () => {
      const admin = users.admin!.client;
      const username = `crud-${randomBytes(4).toString('hex')}`;
      const c = await admin.post(`${API}/users`, { username, password: 'a-long-password-1', role: 'viewer' });
      expect(c.status).to.equal(201);
      expect(c.body).to.include({ username, role: 'viewer', enabled: true, created_by: users.admin!.username, last_login_at: null });
      expect(c.body).to.not.have.any.keys('password', 'password_hash');
      const id = c.body.id;
      const row = await hub.db.db('users').where({ id }).first();
      expect(row.password_hash).to.match(/^scrypt\$/).and.not.include('a-long-password-1');
      const list = await admin.get(`${API}/users?role=viewer&limit=1000`);
      expect(list.status).to.equal(200);
      expect(list.body.users.map((u: { id: string }) => u.id)).to.include(id);
      expect(list.body.users.every((u: { role: string }) => u.role === 'viewer')).to.equal(true);
      expect((await admin.get(`${API}/users/${id}`)).body).to.deep.equal(c.body);
      const up = await admin.put(`${API}/users/${id}`, { role: 'operator' });
      expect(up.status).to.equal(200);
      expect(up.body.role).to.equal('operator');
      const tok = await admin.post(`${API}/tokens`, { name: 'dies with its user', user_id: id });
      const del = await admin.del(`${API}/users/${id}`);
      expect(del.status).to.equal(204);
      const gone = await admin.get(`${API}/users/${id}`);
      expect([gone.status, gone.body.error.code]).to.deep.equal([404, 'USER_NOT_FOUND']);
      expect((await hub.anonymous.as(tok.body.token).get(`${API}/auth/me`)).status).to.equal(401);
      expect(await hub.db.db('api_tokens').where({ user_id: id }).first()).to.equal(undefined);
      expect((await admin.del(`${API}/users/${id}`)).status).to.equal(404);
      expect((await admin.put(`${API}/users/${id}`, { role: 'viewer' })).status).to.equal(404);
    });

    it('refuses a duplicate username with 409 USERNAME_TAKEN (also in another letter case)', async () => {
      const u = await makeUser('viewer', { login: false });
      for (const username of [u.username, u.username.toUpperCase()]) {
        const res = await hub.admin.post(`${API}/users`, { username, password: 'another-long-password', role: 'admin' });
        expect(res.status, username).to.equal(409);
        expect(res.body.error.code).to.equal('USERNAME_TAKEN');
        expect(res.body.error.details[0].field).to.equal('body.username');
      }
    });

    it('validates usernames, passwords and roles (400 naming the field)', async () => {
      for (const [body, field] of [
        [{ username: 'ab', password: 'long-enough-pass', role: 'viewer' }, 'body.username'],
        [{ username: 'has space', password: 'long-enough-pass', role: 'viewer' }, 'body.username'],
        [{ username: 'shortpw', password: 'short', role: 'viewer' }, 'body.password'],
        [{ username: 'badrole', password: 'long-enough-pass', role: 'root' }, 'body.role'],
        [{ username: 'extra', password: 'long-enough-pass', role: 'viewer', is_admin: true }, 'body.is_admin'],
      ] as const) {
        const res = await hub.admin.post(`${API}/users`, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include(field);
      }
    });

    it('keeps the last enabled admin: no demotion, disabling or deletion (409 LAST_ADMIN); an admin cannot delete itself', async () => {
      // A hub of its own, so the set of admins is known: the bootstrap token is not a user.
      const h = await startHub();
      try {
        const mk = async (role: Role) => (await h.admin.post(`${API}/users`, { username: `${role}-${randomBytes(4).toString('hex')}`, password: 'a-long-password-2', role })).body;
        const a = await mk('admin');
        for (const body of [{ role: 'operator' }, { role: 'viewer' }, { enabled: false }]) {
          const res = await h.admin.put(`${API}/users/${a.id}`, body);
          expect([res.status, res.body.error.code], JSON.stringify(body)).to.deep.equal([409, 'LAST_ADMIN']);
        }
        const del = await h.admin.del(`${API}/users/${a.id}`);
        expect([del.status, del.body.error.code]).to.deep.equal([409, 'LAST_ADMIN']);
        // A password change of the last admin is fine.
        expect((await h.admin.put(`${API}/users/${a.id}`, { password: 'a-long-password-3' })).status).to.equal(200);

        const b = await mk('admin');
        const bClient = h.anonymous.as((await h.anonymous.post(`${API}/auth/login`, { username: b.username, password: 'a-long-password-2' })).body.token);
        const self = await bClient.del(`${API}/users/${b.id}`);
        expect([self.status, self.body.error.code]).to.deep.equal([409, 'CANNOT_DELETE_SELF']);
        // With two admins, one may go; then the other is the last again.
        expect((await bClient.put(`${API}/users/${a.id}`, { enabled: false })).status).to.equal(200);
        const lastB = await h.admin.put(`${API}/users/${b.id}`, { role: 'viewer' });
        expect([lastB.status, lastB.body.error.code]).to.deep.equal([409, 'LAST_ADMIN']);
        // A disabled admin does not count, and re-enabling it makes b removable.
        expect((await h.admin.put(`${API}/users/${a.id}`, { enabled: true })).status).to.equal(200);
        expect((await bClient.del(`${API}/users/${a.id}`)).status).to.equal(204);
        expect((await h.admin.del(`${API}/users/${b.id}`)).body.error.code).to.equal('LAST_ADMIN');
        const enabledAdmins = async () => Number(((await h.db.db('users').where({ role: 'admin', enabled: true }).count({ n: '*' }).first()) as { n: number }).n);
        expect(await enabledAdmins()).to.equal(1);

        // Two admins demoting each other at the same moment: exactly one may win.
        let last = b;
        for (let round = 0; round < 5; round++) {
          const other = await mk('admin');
          const [x, y] = await Promise.all([
            h.admin.put(`${API}/users/${last.id}`, round % 2 ? { enabled: false } : { role: 'operator' }),
            h.admin.put(`${API}/users/${other.id}`, { role: 'viewer' }),
          ]);
          expect([x.status, y.status].sort(), `round ${round}`).to.deep.equal([200, 409]);
          expect(await enabledAdmins(), `round ${round}`).to.equal(1);
          last = x.status === 409 ? last : other;
        }
      } finally {
        await h.stop();
      }
    });
  });

  describe('the acting user is recorded', () => {
    it('created_by and triggered_by hold the user of the session', async () => {
      const admin = users.admin!;
      const vm = await makeVm(hub);
      const repo = await makeRepository(hub);
      const f = await admin.client.post(`${API}/protection-flows`, { name: unique('by admin user'), flow_type: 'backup', target_type: 'vm', target_id: vm, repository_id: repo.id });
      expect(f.status).to.equal(201);
      expect(f.body.created_by).to.equal(admin.username);
      const s = await admin.client.post(`${API}/schedules`, { name: unique('by admin user'), cron_expression: '0 4 * * *' });
      expect(s.body.created_by).to.equal(admin.username);
      const run = await admin.client.post(`${API}/protection-flows/${f.body.id}/execute`);
      expect(run.status).to.equal(202);
      expect(run.body).to.include({ triggered_by: admin.username, execution_type: 'manual' });
      const boot = await hub.admin.post(`${API}/machine-groups`, { name: unique('by bootstrap'), created_by: 'someone-else' });
      expect(boot.body.created_by).to.equal('bootstrap-token');
    });

    it('writes audit_log rows for a login, a user creation and a token creation', async () => {
      const admin = users.admin!;
      const fresh = await admin.client.post(`${API}/users`, { username: `audited-${randomBytes(4).toString('hex')}`, password: 'a-long-password-4', role: 'viewer' });
      const logged = await hub.anonymous.post(`${API}/auth/login`, { username: fresh.body.username, password: 'a-long-password-4' });
      expect(logged.status).to.equal(200);
      const tok = await admin.client.post(`${API}/tokens`, { name: 'audited', user_id: fresh.body.id });
      const forUser = await hub.db.db('audit_log').where({ entity_type: 'user', entity_id: fresh.body.id }).orderBy('id').select('actor', 'action', 'request_id');
      expect(forUser.map((r) => [r.actor, r.action])).to.deep.equal([
        [admin.username, 'user.create'],
        [fresh.body.username, 'auth.login'],
      ]);
      expect(forUser.every((r) => typeof r.request_id === 'string' && r.request_id.length > 0)).to.equal(true);
      const forToken = await hub.db.db('audit_log').where({ entity_type: 'api_token', entity_id: tok.body.id }).select('actor', 'action', 'details');
      expect(forToken).to.have.length(1);
      expect(forToken[0]).to.include({ actor: admin.username, action: 'token.create' });
      const details = typeof forToken[0].details === 'string' ? JSON.parse(forToken[0].details) : forToken[0].details;
      expect(details).to.include({ user_id: fresh.body.id, name: 'audited' });
      const failed = await hub.anonymous.post(`${API}/auth/login`, { username: fresh.body.username, password: 'wrong-password-x' });
      expect(failed.status).to.equal(401);
      const rows = await hub.db.db('audit_log').where({ entity_type: 'user', entity_id: fresh.body.id, action: 'auth.login_failed' });
      expect(rows).to.have.length(1);
    });
  });
});
