import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { allEndpoints, type Endpoint } from '@vaultflow/schemas';
import { startHub, unique, type HttpResult, type TestHub } from '../support/hub.js';
import { makeBackupFlow, makeGroup, makePolicy, makeRepository, makeSchedule, makeVcenter, makeVm } from '../support/fixtures.js';

const API = '/api/v1';
type Json = Record<string, unknown>;

/** Strings that must never confuse SQL, the file system, logs or the database's text handling. */
const TRICKS = [
  "' OR 1=1 --",
  '"; DROP TABLE protection_flows; --',
  "x'); DELETE FROM users; --",
  '50%_\\',
  '../../etc/passwd',
  '/etc',
  '..\\..',
  '/etc/passwd\u0000.png',
  '\u0000',
  'bell\u0007 esc\u001b[31m',
  'line\r\nX-Injected: yes',
  'nel\u0085 rlo\u202e ls\u2028',
  'lone \ud800 surrogate',
  '${jndi:ldap://x}{{7*7}}',
];

/** Path segments (already URL-encoded as sent) that are not ids. */
const BAD_IDS = ['..%2Fx', '..%2F..%2Fetc%2Fpasswd', '../x', '%00', '%zz', '%', 'a'.repeat(200), encodeURIComponent("' OR 1=1 --"), '%2Fetc', encodeURIComponent('..\\..'), '%E2%80%AE', '-1', '1.5', '9223372036854775808'];

// ---- walking the body schemas ----------------------------------------------------------------

interface Field {
  path: string[];
  type: string;
  required: boolean;
}

type Schema = { type?: string; anyOf?: Schema[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema };

/** `T | null` -> T. */
function unwrap(s: Schema): Schema {
  if (!s.anyOf) return s;
  const real = s.anyOf.filter((x) => x.type !== 'null');
  return real.length === 1 ? unwrap(real[0]!) : s;
}

/** Every field of a body schema, nested objects and array items (as index 0) included. */
function fieldsOf(schema: Schema, prefix: string[] = [], out: Field[] = []): Field[] {
  for (const [k, raw] of Object.entries(schema.properties ?? {})) {
    const s = unwrap(raw);
    const p = [...prefix, k];
    out.push({ path: p, type: s.type ?? 'unknown', required: (schema.required ?? []).includes(k) });
    if (s.type === 'object' && s.properties) fieldsOf(s, p, out);
    if (s.type === 'array' && s.items) {
      const item = unwrap(s.items);
      out.push({ path: [...p, '0'], type: item.type ?? 'unknown', required: false });
      if (item.type === 'object' && item.properties) fieldsOf(item, [...p, '0'], out);
    }
  }
  return out;
}

/** A copy of `base` with `value` at `p` (parents created as needed), or without it when `value` is `REMOVE`. */
const REMOVE = Symbol('remove');
function setAt(base: unknown, p: string[], value: unknown): Json {
  const root = structuredClone(base) as Json;
  let cur: Record<string, unknown> = root;
  for (const [i, k] of p.slice(0, -1).entries()) {
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = p[i + 1] === '0' ? [] : {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = p[p.length - 1]!;
  if (value === REMOVE) delete cur[last];
  else cur[last] = value;
  return root;
}

function wrongTypeFor(type: string): unknown {
  return type === 'string' ? 12345 : type === 'boolean' ? 'yes' : type === 'object' ? 'not-an-object' : type === 'array' ? 'not-an-array' : 'not-a-number';
}

// ---- the requests ------------------------------------------------------------------------------

interface Case {
  name: string;
  method: string;
  url: string;
  /** A string is sent as is; anything else as JSON; undefined: no body. */
  body?: unknown;
  /** The exact status expected; otherwise any 4xx. */
  status?: number;
  /** A field the error details must name. */
  field?: string;
}

/** What each write route needs: ids of existing objects for its path, a body that would succeed, and one the service must refuse. */
interface Spec {
  params?: Record<string, string | number>;
  /** A valid body: the base of the schema-breaking cases, so a missed check shows up as a success. */
  valid?: Json;
  /** A body the schema accepts but the service refuses (a reference or duplicate problem): the base of the string tricks. */
  late?: Json;
}

function urlOf(e: Endpoint, params: Record<string, string | number> = {}, override: Record<string, string> = {}): string {
  return `${API}${e.path.replace(/:([A-Za-z]+)/g, (_m, k: string) => override[k] ?? encodeURIComponent(String(params[k] ?? 'missing-spec')))}`;
}

const raw = (s: string) => s; // a body sent verbatim

function casesFor(e: Endpoint, spec: Spec): Case[] {
  const method = e.method.toUpperCase();
  const url = urlOf(e, spec.params);
  const base = spec.valid ?? {};
  const out: Case[] = [
    { name: 'invalid JSON text', method, url, body: raw('{"name": "x",'), status: 400, field: 'body' },
    { name: 'a JSON array', method, url, body: raw(JSON.stringify([base])), status: 400, field: 'body' },
    { name: 'a JSON string', method, url, body: raw('"just a string"'), status: 400, field: 'body' },
    { name: 'JSON null', method, url, body: raw('null'), status: 400, field: 'body' },
    { name: 'a number', method, url, body: raw('42'), status: 400, field: 'body' },
    { name: 'an unknown field', method, url, body: { ...base, hostile_extra: 1 }, status: 400, field: 'body.hostile_extra' },
    { name: 'a __proto__ field', method, url, body: raw(JSON.stringify(base).replace(/^\{/, '{"__proto__":{"role":"admin"}' + (Object.keys(base).length ? ',' : ''))), status: 400, field: 'body.__proto__' },
    { name: 'a 2 MB body', method, url, body: { ...base, padding: 'x'.repeat(2 * 1024 * 1024) }, status: 413, field: 'body' },
  ];
  if (e.body) {
    out.push({ name: 'no body', method, url, body: undefined, status: 400, field: 'body' });
    out.push({ name: 'an empty object', method, url, body: {}, status: 400 });
    for (const f of fieldsOf(e.body as Schema)) {
      const field = ['body', ...f.path].join('.');
      const at = (v: unknown) => setAt(base, f.path, v);
      if (f.required) out.push({ name: `${field} missing`, method, url, body: at(REMOVE), status: 400, field });
      if (f.type === 'unknown') continue;
      out.push({ name: `${field} of a wrong type`, method, url, body: at(wrongTypeFor(f.type)), status: 400, field });
      if (f.type === 'string') out.push({ name: `${field} of 100k characters`, method, url, body: at('y'.repeat(100_000)), status: 400, field });
      if (f.type === 'integer') {
        for (const n of [-1, 2 ** 63, 1.5]) out.push({ name: `${field} = ${n}`, method, url, body: at(n), status: 400, field });
      }
      if (f.type === 'string' && spec.late) {
        for (const t of TRICKS) out.push({ name: `${field} = ${JSON.stringify(t)}`, method, url, body: setAt(spec.late, f.path, t) });
      }
    }
  }
  for (const param of Object.keys(spec.params ?? {})) {
    const body = e.body ? spec.valid : undefined;
    for (const bad of BAD_IDS) out.push({ name: `path ${param} = ${bad.slice(0, 40)}`, method, url: urlOf(e, spec.params, { [param]: bad }), body });
    const unknownId = typeof spec.params![param] === 'number' ? '2147480000' : randomUUID();
    out.push({ name: `path ${param} unknown`, method, url: urlOf(e, spec.params, { [param]: unknownId }), body, status: 404 });
  }
  return out;
}

/** Checks one answer; returns what is wrong with it, or undefined. */
function problemOf(c: Case, res: HttpResult): string | undefined {
  const where = `${c.method} ${c.url.slice(0, 90)} [${c.name}]`;
  const got = `${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
  if (res.status < 400 || res.status >= 500) return `${where}: expected 4xx, got ${got}`;
  if (c.status !== undefined && res.status !== c.status) return `${where}: expected ${c.status}, got ${got}`;
  const err = res.body?.error;
  if (!err || typeof err.code !== 'string' || typeof err.message !== 'string' || !Array.isArray(err.details) || typeof err.request_id !== 'string' || !err.request_id) {
    return `${where}: not an error body: ${got}`;
  }
  if (res.status === 400) {
    if (!err.details.length || !err.details.every((d: { field?: unknown }) => typeof d.field === 'string' && d.field)) return `${where}: 400 without field details: ${got}`;
    if (c.field && !err.details.some((d: { field: string }) => d.field === c.field)) return `${where}: details do not name ${c.field}: ${got}`;
  }
  return undefined;
}

describe('flows-api: malformed and hostile input on every write route', function () {
  this.timeout(120_000);
  let hub: TestHub;
  let tables: string[];
  const specs: Record<string, Spec> = {};
  const trickGroups: string[] = [];

  /** Rows and checksum of every table but the two that authentication writes legitimately. */
  async function snapshot(): Promise<Record<string, string>> {
    const counts = await hub.db.db.raw(tables.map((t) => `SELECT '${t}' AS t, COUNT(*) AS n FROM \`${t}\``).join(' UNION ALL '));
    const sums = await hub.db.db.raw(`CHECKSUM TABLE ${tables.map((t) => `\`${t}\``).join(', ')}`);
    const out: Record<string, string> = {};
    for (const r of counts[0] as { t: string; n: number }[]) out[r.t] = `${r.n} rows`;
    for (const r of sums[0] as { Table: string; Checksum: number }[]) out[r.Table.split('.').pop()!] += `, checksum ${r.Checksum}`;
    return out;
  }

  async function send(c: Case): Promise<HttpResult> {
    const body = c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    return hub.admin.req(c.method, c.url, body);
  }

  before(async () => {
    hub = await startHub();
    const showTables = await hub.db.db.raw('SHOW TABLES');
    tables = (showTables[0] as Record<string, string>[]).map((r) => Object.values(r)[0]!).filter((t) => !['audit_log', 'api_tokens'].includes(t)).sort();

    const vc1 = await makeVcenter(hub);
    const vc1Host = (await hub.admin.get(`${API}/vcenters/${vc1}`)).body.host as string;
    const vc2 = await makeVcenter(hub);
    const vm1 = await makeVm(hub, { vcenter_id: vc1 });
    const vm2 = await makeVm(hub, { vcenter_id: vc1 });
    const group = await makeGroup(hub, [vm1]);
    const group2 = await makeGroup(hub);
    const groupName = (await hub.admin.get(`${API}/machine-groups/${group}`)).body.name as string;
    const group2Name = (await hub.admin.get(`${API}/machine-groups/${group2}`)).body.name as string;
    const repo1 = await makeRepository(hub);
    const repo2 = await makeRepository(hub);
    const policy = await makePolicy(hub);
    const schedule = await makeSchedule(hub);
    const flow = (await makeBackupFlow(hub, { policy_id: policy, schedule_id: schedule })).id as string;
    const flow2 = (await makeBackupFlow(hub)).id as string;
    const flow3 = (await makeBackupFlow(hub)).id as string;
    const execution = await hub.admin.post(`${API}/protection-flows/${flow3}/execute`);
    expect(execution.status, JSON.stringify(execution.body)).to.equal(202);
    const admin = await hub.admin.post(`${API}/users`, { username: `admin-${randomBytes(3).toString('hex')}`, password: 'a-long-password-1', role: 'admin' });
    const viewer = await hub.admin.post(`${API}/users`, { username: `viewer-${randomBytes(3).toString('hex')}`, password: 'a-long-password-1', role: 'viewer' });
    const token = await hub.admin.post(`${API}/tokens`, { name: 'hostile', user_id: viewer.body.id });
    // Groups named like each trick that is a valid name: duplicates of them are the late failure of group writes.
    for (const t of TRICKS) {
      const g = await hub.admin.post(`${API}/machine-groups`, { name: t });
      if (g.status === 201) trickGroups.push(t);
    }
    const NO_REPO = 2147480000;
    // a restore point as a worker records it (the routes that need one refuse every case before reading it)
    const backupId = `backup-hostile-${randomBytes(3).toString('hex')}`;
    await hub.db.db('backup_jobs').insert({ id: backupId, vm_context_id: vm1, repository_id: repo1.id, backup_type: 'full', requested_type: 'full', status: 'success', manifest_ref: '20261127T000000Z-0000beef', completed_at: new Date(), created_by: 'hostile' });
    await hub.db.db('backup_disks').insert({ backup_job_id: backupId, disk_key: 2000, capacity_bytes: 1024 * 1024, backup_mode: 'full', status: 'success' });
    const restoreBody = { target: 'file', path: hub.dataDir, disk_keys: [2000], overwrite: false };
    const datastoreFields = { vcenter_id: vc1, datacenter: 'DC0', datastore: 'datastore1', folder: 'restores' };
    const flowBody = { name: 'hostile flow', description: 'valid', flow_type: 'backup', target_type: 'vm', target_id: vm1, repository_id: repo1.id, policy_id: policy, schedule_id: schedule, enabled: true };
    const bulk = { valid: { flow_ids: [flow2] }, late: { flow_ids: [flow2, 'no-such-flow'] } };
    const scheduleBody = { name: 'hostile schedule', cron_expression: '0 2 * * *', timezone: 'Europe/Berlin', enabled: true, description: 'valid', misfire_grace_seconds: 60 };
    const repoBody = { name: 'hostile repo', description: 'valid', repository_type: 'local', config: { path: path.join(hub.dataDir, 'hostile-valid') }, enabled: true, immutable: { enabled: true, retention_days: 7 } };
    const rule = { destination_repository_id: repo2.id, copy_mode: 'immediate', priority: 1, verify_after_copy: true, enabled: true };
    const policyBody = { name: 'hostile policy', description: 'valid', retention: { keep_last: 3, keep_daily: 7, keep_weekly: 4, keep_monthly: 12, keep_yearly: 2 }, copy_rules: [rule] };
    const vcBody = { name: 'hostile vc', host: 'vc-hostile.lab.local', port: 443, username: 'administrator@vsphere.local', password: 'S3cret!pass', insecure: true, enabled: true };
    Object.assign(specs, {
      logout: {},
      createFlow: { valid: flowBody, late: { ...flowBody, repository_id: NO_REPO } },
      bulkEnableFlows: bulk,
      bulkDisableFlows: bulk,
      bulkDeleteFlows: bulk,
      updateFlow: { params: { id: flow }, valid: { description: 'changed' }, late: { name: 'late flow', description: 'late', repository_id: NO_REPO } },
      deleteFlow: { params: { id: flow2 } },
      enableFlow: { params: { id: flow } },
      disableFlow: { params: { id: flow } },
      executeFlow: { params: { id: flow } },
      testFlow: { params: { id: flow } },
      cancelFlowExecution: { params: { id: flow3, execId: execution.body.id } },
      createSchedule: { valid: scheduleBody, late: { ...scheduleBody, timezone: 'Mars/Olympus_Mons' } },
      updateSchedule: { params: { id: schedule }, valid: { description: 'changed' }, late: { ...scheduleBody, timezone: 'Mars/Olympus_Mons' } },
      deleteSchedule: { params: { id: schedule } },
      // read only: a preview of a cron and zone not saved; a zone that does not exist is the service's refusal
      previewScheduleDraft: { valid: { cron_expression: '0 2 * * *', timezone: 'Europe/Berlin', count: 3 }, late: { cron_expression: '0 2 * * *', timezone: 'Mars/Olympus_Mons', count: 3 } },
      createGroup: { valid: { name: 'hostile group', description: 'valid', max_concurrent_vms: 3, priority: 10, created_by: 'someone' }, late: { name: groupName, description: 'late', max_concurrent_vms: 3, priority: 10, created_by: 'someone' } },
      updateGroup: { params: { id: group }, valid: { description: 'changed' }, late: { name: group2Name, description: 'late', max_concurrent_vms: 3, priority: 10, created_by: 'someone' } },
      deleteGroup: { params: { id: group2 } },
      addGroupMembers: { params: { id: group }, valid: { vm_context_ids: [vm2], enabled: true }, late: { vm_context_ids: [vm2, 'no-such-vm'], enabled: true } },
      updateGroupMember: { params: { id: group, vmId: vm1 }, valid: { enabled: false } },
      removeGroupMember: { params: { id: group, vmId: vm1 } },
      createRepository: { valid: repoBody, late: { ...repoBody, config: { path: '/proc/vaultflow-hostile' } } },
      updateRepository: { params: { id: repo2.id }, valid: { description: 'changed' }, late: { name: 'late repo', description: 'late', config: { path: '/proc/vaultflow-hostile' } } },
      deleteRepository: { params: { id: repo2.id } },
      createPolicy: { valid: policyBody, late: { ...policyBody, copy_rules: [{ ...rule, destination_repository_id: NO_REPO }] } },
      updatePolicy: { params: { id: policy }, valid: { description: 'changed' }, late: { ...policyBody, copy_rules: [{ ...rule, destination_repository_id: NO_REPO }] } },
      deletePolicy: { params: { id: policy } },
      createVcenter: { valid: vcBody, late: { ...vcBody, host: vc1Host } },
      updateVcenter: { params: { id: vc2 }, valid: { username: 'changed' }, late: { ...vcBody, host: vc1Host } },
      discoverVcenter: { params: { id: vc2 } },
      deleteVcenter: { params: { id: vc2 } },
      createUser: { valid: { username: 'hostile-user', password: 'a-long-password-2', role: 'viewer' }, late: { username: viewer.body.username, password: 'a-long-password-2', role: 'viewer' } },
      // The user is the only enabled admin: demoting it is refused (409 LAST_ADMIN).
      updateUser: { params: { id: admin.body.id }, valid: { password: 'a-long-password-3' }, late: { password: 'a-long-password-3', role: 'viewer', enabled: true } },
      deleteUser: { params: { id: viewer.body.id } },
      createToken: { valid: { name: 'hostile token', user_id: viewer.body.id, expires_in_days: 30 }, late: { name: 'late token', user_id: 'no-such-user', expires_in_days: 30 } },
      deleteToken: { params: { id: token.body.id } },
      createBackup: { valid: { vm_context_id: vm1, repository_id: repo1.id, backup_type: 'auto' }, late: { vm_context_id: vm1, repository_id: NO_REPO, backup_type: 'full' } },
      deleteBackup: { params: { id: backupId } },
      verifyRepository: { params: { id: repo1.id } },
      pruneRepository: { params: { id: repo1.id } },
      // late: datastore fields with a file target, and a folder that does not exist
      restoreBackup: { params: { id: backupId }, valid: restoreBody, late: { ...restoreBody, path: '/nonexistent-vaultflow-restore', ...datastoreFields } },
    } satisfies Record<string, Spec>);
  });
  after(async () => hub?.stop());

  const writes = allEndpoints.filter((e) => e.method !== 'get' && e.operationId !== 'login');

  it('has a spec for every write route of the catalog, and a valid and late body for every route with a body', () => {
    expect(writes.length).to.be.greaterThan(30);
    for (const e of writes) {
      const spec = specs[e.operationId];
      expect(spec, `${e.operationId}: add it to the specs`).to.not.equal(undefined);
      for (const k of e.path.match(/:([A-Za-z]+)/g) ?? []) expect(spec!.params, `${e.operationId} ${k}`).to.have.property(k.slice(1));
      if (e.body) expect(spec!.valid, e.operationId).to.be.an('object');
      if (e.body && fieldsOf(e.body as Schema).some((f) => f.type === 'string')) expect(spec!.late, e.operationId).to.be.an('object');
    }
    expect(trickGroups.length, 'some tricks are valid names').to.be.greaterThan(5);
  });

  it('stores hostile strings that are valid values literally and finds them again', async () => {
    for (const t of trickGroups) {
      const list = await hub.admin.get(`${API}/machine-groups?search=${encodeURIComponent(t)}`);
      expect(list.status, t).to.equal(200);
      expect(list.body.groups.map((g: { name: string }) => g.name), t).to.include(t);
      expect(list.body.groups.every((g: { name: string }) => g.name.toLowerCase().includes(t.toLowerCase())), t).to.equal(true);
    }
    const before = await snapshot();
    const f = await makeBackupFlow(hub, { name: "' OR 1=1 --", description: '"; DROP TABLE protection_flows; --\u0000\u0007' });
    // The snapshot the batches compare sees inserts, and updates that keep the row count.
    const inserted = await snapshot();
    expect(inserted.protection_flows).to.not.equal(before.protection_flows);
    expect((await hub.admin.put(`${API}/protection-flows/${f.id}`, { description: 'plain' })).status).to.equal(200);
    const updated = await snapshot();
    expect(updated.protection_flows).to.not.equal(inserted.protection_flows);
    expect(updated.protection_flows?.split(',')[0]).to.equal(inserted.protection_flows?.split(',')[0]);
    expect((await hub.admin.put(`${API}/protection-flows/${f.id}`, { description: '"; DROP TABLE protection_flows; --\u0000\u0007' })).status).to.equal(200);
    const got = await hub.admin.get(`${API}/protection-flows/${f.id}`);
    expect(got.body).to.include({ name: "' OR 1=1 --", description: '"; DROP TABLE protection_flows; --\u0000\u0007' });
    const search = await hub.admin.get(`${API}/protection-flows?search=${encodeURIComponent("' OR 1=1")}`);
    expect(search.body.flows.map((x: { id: string }) => x.id)).to.deep.equal([f.id]);
    expect((await hub.admin.del(`${API}/protection-flows/${f.id}`)).status).to.equal(204);
  });

  it('refuses names with control characters (C0, DEL, C1, separators, bidi overrides) and text that is not Unicode', async () => {
    for (const c of ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009f', '\u2028', '\u202e', '\u2067']) {
      const res = await hub.admin.post(`${API}/machine-groups`, { name: `a${c}b` });
      expect(res.status, JSON.stringify(c)).to.equal(400);
      expect(res.body.error.details).to.deep.include({ field: 'body.name', message: 'has a form that is not allowed' });
    }
    const lone = await hub.admin.post(`${API}/machine-groups`, { name: 'ok name', description: 'half \udc00 pair' });
    expect(lone.status).to.equal(400);
    expect(lone.body.error.details).to.deep.equal([{ field: 'body.description', message: 'is not valid Unicode text' }]);
    const fine = await hub.admin.post(`${API}/machine-groups`, { name: unique('Ünïcödé 名前 😀 שלום') });
    expect(fine.status).to.equal(201);
    expect((await hub.admin.del(`${API}/machine-groups/${fine.body.id}`)).status).to.equal(204);
  });

  for (const e of writes) {
    it(`${e.method.toUpperCase()} ${e.path}: every malformed or hostile request is a 4xx error and writes nothing`, async () => {
      const spec = specs[e.operationId]!;
      const cases = casesFor(e, spec);
      const before = await snapshot();
      const problems: string[] = [];
      for (const c of cases) {
        const p = problemOf(c, await send(c));
        if (p) problems.push(p);
      }
      const after = await snapshot();
      const changed = tables.filter((t) => before[t] !== after[t]).map((t) => `${t}: ${before[t]} -> ${after[t]}`);
      expect([...problems, ...changed], `${cases.length} requests:\n${[...problems, ...changed].join('\n')}`).to.deep.equal([]);
    });
  }

  it('POST /auth/login: malformed and hostile credentials are 400 or 401, never a session', async () => {
    const url = `${API}/auth/login`;
    const valid = { username: 'nobody-here', password: 'not-a-password' };
    const e = allEndpoints.find((x) => x.operationId === 'login')!;
    const cases = casesFor(e, { valid }).filter((c) => !c.name.includes('2 MB'));
    cases.push({ name: 'a 2 MB body', method: 'POST', url, body: { ...valid, password: 'x'.repeat(2 * 1024 * 1024) }, status: 413, field: 'body' });
    for (const t of TRICKS) {
      cases.push({ name: `username ${JSON.stringify(t)}`, method: 'POST', url, body: { username: t, password: 'whatever-password' } });
      cases.push({ name: `password ${JSON.stringify(t)}`, method: 'POST', url, body: { username: 'admin', password: t } });
    }
    const before = await snapshot();
    const sessions = await hub.db.db('api_tokens').where({ kind: 'session' }).count({ n: '*' }).first();
    const problems: string[] = [];
    for (const c of cases) {
      const res = await send(c);
      const p = problemOf(c, res) ?? (res.status === 400 || res.status === 401 || res.status === 413 || res.status === 429 ? undefined : `${c.name}: ${res.status}`);
      if (p) problems.push(p);
    }
    const after = await snapshot();
    const changed = tables.filter((t) => before[t] !== after[t]).map((t) => `${t}: ${before[t]} -> ${after[t]}`);
    expect([...problems, ...changed], [...problems, ...changed].join('\n')).to.deep.equal([]);
    expect(await hub.db.db('api_tokens').where({ kind: 'session' }).count({ n: '*' }).first()).to.deep.equal(sessions);
  });
});
