import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Role } from '@vaultflow/domain';
import { startHub, type TestHub } from '../support/hub.js';
import { makeBackupFlow } from '../support/fixtures.js';

const BOARD = '/admin/queues';
const COOKIE = 'vaultflow_session';

/** A login: the JSON token, the raw Set-Cookie, and the `name=value` a browser sends back. */
interface Session { role: Role; token: string; cookie: string; setCookie: string }

interface Visit { status: number; headers: Headers; text: string; json: any }

/** One request as a browser or a script would send it; redirects are not followed. */
interface Browse {
  method?: string;
  cookie?: string;
  bearer?: string;
  accept?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

describe('Bull Board at /admin/queues: session cookie, roles, read-only board, CSRF', () => {
  let hub: TestHub;
  const sessions: Partial<Record<Role, Session>> = {};
  let flowId: string;

  async function visit(path: string, o: Browse = {}): Promise<Visit> {
    const headers: Record<string, string> = { accept: o.accept ?? 'application/json', ...o.headers };
    if (o.cookie) headers.cookie = o.cookie;
    if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${hub.url}${path}`, { method: o.method ?? 'GET', headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), redirect: 'manual' });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  async function login(username: string, password: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${hub.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username, password }) });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { token: string; expires_at: string; user: { username: string } };
    const setCookie = res.headers.getSetCookie();
    expect(setCookie, 'one Set-Cookie').to.have.length(1);
    return { body, setCookie: setCookie[0]! };
  }

  async function makeSession(role: Role): Promise<Session> {
    const username = `board-${role}-${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const created = await hub.admin.post('/api/v1/users', { username, password, role });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const { body, setCookie } = await login(username, password);
    return { role, token: body.token, setCookie, cookie: setCookie.split(';')[0]! };
  }

  const paused = async () => ({ flowRuns: await hub.api.queues.flowRuns.isPaused(), vmBackups: await hub.api.queues.vmBackups.isPaused() });
  const sameOrigin = () => ({ origin: hub.url, 'sec-fetch-site': 'same-origin' });

  before(async () => {
    hub = await startHub();
    for (const role of ['admin', 'operator', 'viewer'] as const) sessions[role] = await makeSession(role);
    const flow = await makeBackupFlow(hub);
    flowId = flow.id;
    const run = await hub.admin.post(`/api/v1/protection-flows/${flowId}/execute`);
    expect(run.status, JSON.stringify(run.body)).to.equal(202);
    expect(await hub.api.queues.flowRuns.count(), 'the execution queued a flow.run job').to.be.greaterThan(0);
  });
  after(async () => hub?.stop());

  describe('the session cookie set by login', () => {
    it('carries the session token, HttpOnly, SameSite=Strict, Path=/, with the session lifetime as Max-Age, and no Secure over plain HTTP', () => {
      const s = sessions.viewer!;
      const attrs = s.setCookie.split(';').map((a) => a.trim());
      expect(attrs[0]).to.equal(`${COOKIE}=${encodeURIComponent(s.token)}`);
      expect(attrs).to.include('HttpOnly');
      expect(attrs).to.include('SameSite=Strict');
      expect(attrs).to.include('Path=/');
      expect(attrs).to.include(`Max-Age=${12 * 3600}`);
      expect(attrs.map((a) => a.toLowerCase())).not.to.include('secure');
    });

    it('adds Secure when the request came over HTTPS through the trusted local proxy', async () => {
      const username = `board-tls-${randomBytes(3).toString('hex')}`;
      const password = `pw-${randomBytes(12).toString('hex')}`;
      expect((await hub.admin.post('/api/v1/users', { username, password, role: 'viewer' })).status).to.equal(201);
      const { setCookie } = await login(username, password, { 'x-forwarded-proto': 'https' });
      expect(setCookie.split(';').map((a) => a.trim())).to.include('Secure');
    });

    it('does not authenticate the API: GET /api/v1/protection-flows with only the cookie is 401, with the bearer token 200', async () => {
      const s = sessions.admin!;
      const byCookie = await visit('/api/v1/protection-flows', { cookie: s.cookie });
      expect(byCookie.status).to.equal(401);
      expect(byCookie.json.error.code).to.equal('UNAUTHENTICATED');
      const byCookieWrite = await visit(`/api/v1/protection-flows/${flowId}/execute`, { method: 'POST', cookie: s.cookie, headers: sameOrigin() });
      expect(byCookieWrite.status).to.equal(401);
      expect((await visit('/api/v1/protection-flows', { bearer: s.token })).status).to.equal(200);
    });
  });

  describe('without a valid session', () => {
    it('redirects a browser page request to the login page, keeping where it was going', async () => {
      const page = await visit(BOARD, { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
      expect(page.status).to.equal(302);
      expect(page.headers.get('location')).to.equal('/login?next=/admin/queues');
      const deep = await visit(`${BOARD}/queue/flow-runs`, { accept: 'text/html' });
      expect(deep.status).to.equal(302);
      expect(deep.headers.get('location')).to.equal('/login?next=/admin/queues/queue/flow-runs');
    });

    it('answers 401 UNAUTHENTICATED in JSON to the board API and to non-browser requests, and never shows the board', async () => {
      for (const path of [`${BOARD}/api/queues`, BOARD]) {
        const r = await visit(path);
        expect(r.status, path).to.equal(401);
        expect(r.json.error.code, path).to.equal('UNAUTHENTICATED');
      }
      const htmlToApi = await visit(`${BOARD}/api/queues`, { accept: 'text/html' });
      expect(htmlToApi.status, 'the board API never redirects').to.equal(401);
      const write = await visit(`${BOARD}/api/queues/flow-runs/pause`, { method: 'PUT' });
      expect(write.status).to.equal(401);
      expect((await paused()).flowRuns).to.equal(false);
    });

    it('rejects a garbage cookie, a garbage bearer token, and non-session tokens presented as the cookie', async () => {
      expect((await visit(`${BOARD}/api/queues`, { cookie: `${COOKIE}=vf_nope` })).status).to.equal(401);
      expect((await visit(`${BOARD}/api/queues`, { cookie: `${COOKIE}=%E0%A4%A` })).status).to.equal(401);
      expect((await visit(`${BOARD}/api/queues`, { bearer: 'vf_nope' })).status).to.equal(401);
      // A bad Authorization header is not rescued by a good cookie.
      expect((await visit(`${BOARD}/api/queues`, { bearer: 'vf_nope', cookie: sessions.admin!.cookie })).status).to.equal(401);
      // The cookie stands for a browser login only: an API token or the bootstrap token in it is refused.
      const apiToken = await hub.anonymous.as(sessions.admin!.token).post('/api/v1/tokens', { name: `board-${randomBytes(3).toString('hex')}` });
      expect(apiToken.status, JSON.stringify(apiToken.body)).to.equal(201);
      expect((await visit(`${BOARD}/api/queues`, { cookie: `${COOKIE}=${apiToken.body.token}` })).status).to.equal(401);
      expect((await visit(`${BOARD}/api/queues`, { cookie: `${COOKIE}=${hub.admin.token}` })).status).to.equal(401);
      // The same API token as a bearer header works (scripts).
      expect((await visit(`${BOARD}/api/queues`, { bearer: apiToken.body.token })).status).to.equal(200);
    });
  });

  describe('an admin', () => {
    it('gets the board page with the cookie alone', async () => {
      const page = await visit(BOARD, { cookie: sessions.admin!.cookie, accept: 'text/html' });
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/text\/html/);
      expect(page.headers.get('cache-control')).to.equal('no-store');
      expect(page.headers.get('x-powered-by'), 'the board apps do not advertise Express').to.equal(null);
      expect(page.text).to.include('<base href="/admin/queues/"');
      expect(page.text).to.include('Vaultflow queues');
      expect(page.text).not.to.include('read-only');
      const asset = /src="(static\/js\/main[^"]*\.js)"/.exec(page.text);
      expect(asset, 'the page loads its script from the board').to.not.equal(null);
      const script = await visit(`${BOARD}/${asset![1]}`, { cookie: sessions.admin!.cookie, accept: '*/*' });
      expect(script.status).to.equal(200);
    });

    it('sees flow-runs (with the queued flow.run job) and vm-backups in the board API, writable', async () => {
      const r = await visit(`${BOARD}/api/queues?activeQueue=flow-runs&status=latest&page=1&jobsPerPage=50`, { cookie: sessions.admin!.cookie });
      expect(r.status, r.text).to.equal(200);
      const queues = r.json.queues as { name: string; readOnlyMode: boolean; jobs: { data: { flow_id?: string } }[] }[];
      expect(queues.map((q) => q.name).sort()).to.deep.equal(['flow-runs', 'vm-backups']);
      expect(queues.every((q) => q.readOnlyMode === false)).to.equal(true);
      const flowRuns = queues.find((q) => q.name === 'flow-runs')!;
      expect(flowRuns.jobs.map((j) => j.data.flow_id)).to.include(flowId);
    });

    it('can pause, resume and clean a queue from its own origin (cookie) and with a bearer token', async () => {
      const cookie = sessions.admin!.cookie;
      const pause = await visit(`${BOARD}/api/queues/flow-runs/pause`, { method: 'PUT', cookie, headers: sameOrigin() });
      expect(pause.status, pause.text).to.equal(200);
      expect((await paused()).flowRuns).to.equal(true);
      const resume = await visit(`${BOARD}/api/queues/flow-runs/resume`, { method: 'PUT', cookie, headers: { origin: hub.url } });
      expect(resume.status, resume.text).to.equal(200);
      expect((await paused()).flowRuns).to.equal(false);
      const clean = await visit(`${BOARD}/api/queues/vm-backups/clean/completed`, { method: 'PUT', cookie, headers: sameOrigin() });
      expect(clean.status, clean.text).to.equal(200);
      const byBearer = await visit(`${BOARD}/api/queues/vm-backups/pause`, { method: 'PUT', bearer: sessions.admin!.token });
      expect(byBearer.status, byBearer.text).to.equal(200);
      expect((await paused()).vmBackups).to.equal(true);
      expect((await visit(`${BOARD}/api/queues/vm-backups/resume`, { method: 'PUT', bearer: hub.admin.token })).status).to.equal(200);
      expect((await paused()).vmBackups).to.equal(false);
    });

    it('cannot be made to change queues by another origin through the cookie (CSRF)', async () => {
      const cookie = sessions.admin!.cookie;
      const evil = await visit(`${BOARD}/api/queues/flow-runs/pause`, { method: 'PUT', cookie, headers: { origin: 'http://evil.example' } });
      expect(evil.status).to.equal(403);
      expect(evil.json.error.code).to.equal('CROSS_ORIGIN_REQUEST');
      const crossSite = await visit(`${BOARD}/api/queues/flow-runs/pause`, { method: 'PUT', cookie, headers: { 'sec-fetch-site': 'same-site' } });
      expect(crossSite.status).to.equal(403);
      const otherPort = await visit(`${BOARD}/api/queues/flow-runs/pause`, { method: 'PUT', cookie, headers: { origin: 'http://127.0.0.1:1' } });
      expect(otherPort.status).to.equal(403);
      expect((await paused()).flowRuns).to.equal(false);
    });
  });

  for (const role of ['viewer', 'operator'] as const) {
    describe(role === 'operator' ? 'an operator' : 'a viewer', () => {
      it('gets the read-only board: the page says so and the API reports every queue readOnlyMode', async () => {
        const page = await visit(BOARD, { cookie: sessions[role]!.cookie, accept: 'text/html' });
        expect(page.status).to.equal(200);
        expect(page.text).to.include('Vaultflow queues (read-only)');
        const r = await visit(`${BOARD}/api/queues?activeQueue=flow-runs&status=latest&page=1&jobsPerPage=50`, { cookie: sessions[role]!.cookie });
        expect(r.status, r.text).to.equal(200);
        const queues = r.json.queues as { name: string; readOnlyMode: boolean; allowRetries: boolean; jobs: { data: { flow_id?: string } }[] }[];
        expect(queues.map((q) => q.name).sort()).to.deep.equal(['flow-runs', 'vm-backups']);
        expect(queues.every((q) => q.readOnlyMode === true && q.allowRetries === false)).to.equal(true);
        expect(queues.find((q) => q.name === 'flow-runs')!.jobs.map((j) => j.data.flow_id)).to.include(flowId);
      });

      it('cannot pause, resume, retry, clean, empty or add jobs, by cookie or bearer token', async () => {
        const s = sessions[role]!;
        const countBefore = await hub.api.queues.flowRuns.count();
        const writes: [string, string, unknown?][] = [
          ['PUT', '/api/queues/flow-runs/pause'],
          ['PUT', '/api/queues/pause'],
          ['PUT', '/api/queues/flow-runs/retry/failed'],
          ['PUT', '/api/queues/flow-runs/clean/completed'],
          ['PUT', '/api/queues/flow-runs/empty'],
          ['PUT', '/api/queues/flow-runs/obliterate', {}],
          ['POST', '/api/queues/flow-runs/add', { name: 'flow.run', data: { flow_id: flowId }, options: {} }],
          ['PATCH', '/api/queues/flow-runs/some-job/update-data', { data: {} }],
        ];
        for (const [method, path, body] of writes) {
          for (const cred of [{ cookie: s.cookie, headers: sameOrigin() }, { bearer: s.token }]) {
            const r = await visit(`${BOARD}${path}`, { method, body, ...cred });
            expect(r.status, `${method} ${path}`).to.equal(403);
            expect(r.json.error.code, `${method} ${path}`).to.equal('QUEUE_BOARD_READ_ONLY');
          }
        }
        expect(await paused()).to.deep.equal({ flowRuns: false, vmBackups: false });
        expect(await hub.api.queues.flowRuns.count()).to.equal(countBefore);
      });
    });
  }

  describe('logout', () => {
    it('clears the cookie, and the old cookie no longer opens the board', async () => {
      const s = await makeSession('admin');
      expect((await visit(`${BOARD}/api/queues`, { cookie: s.cookie })).status).to.equal(200);
      const out = await visit('/api/v1/auth/logout', { method: 'POST', bearer: s.token });
      expect(out.status).to.equal(204);
      const cleared = out.headers.getSetCookie();
      expect(cleared).to.have.length(1);
      const attrs = cleared[0]!.split(';').map((a) => a.trim());
      expect(attrs[0]).to.equal(`${COOKIE}=`);
      expect(attrs).to.include('Max-Age=0');
      expect(attrs).to.include('Path=/');
      expect(attrs).to.include('HttpOnly');
      expect(attrs).to.include('SameSite=Strict');
      expect((await visit(`${BOARD}/api/queues`, { cookie: s.cookie })).status).to.equal(401);
      const page = await visit(BOARD, { cookie: s.cookie, accept: 'text/html' });
      expect(page.status).to.equal(302);
    });
  });
});
