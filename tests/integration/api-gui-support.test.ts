import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { RecentExecutionListResponse, ScheduleDraftPreviewResponse, UnprotectedVmListResponse, validate } from '@vaultflow/schemas';
import { startHub, type Client, type TestHub } from '../support/hub.js';
import { makeBackupFlow, makeGroup, makeSchedule, makeVm } from '../support/fixtures.js';

const API = '/api/v1';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Fails with the answer's body when the status is not the expected one. */
function expectStatus(res: { status: number; body: unknown }, status: number): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
}

/** Fails when `body` breaks the response schema (the hub checks it too; this keeps the test honest on its own). */
function expectShape(schema: Parameters<typeof validate>[1], body: unknown): void {
  const v = validate('response', schema, body);
  expect(v.ok, JSON.stringify(v)).to.equal(true);
}

describe('flows-api: endpoints the web console relies on', function () {
  this.timeout(120_000);
  let hub: TestHub;
  let viewer: Client;
  before(async () => {
    hub = await startHub();
    viewer = await hub.userClient('viewer');
  });
  after(async () => hub?.stop());

  // ---------------------------------------------------------------------------------------------
  describe('validation messages', () => {
    it('names the field and says what a pattern expects, from the schema description', async () => {
      const res = await hub.admin.post(`${API}/schedules`, { name: 'bad cron', cron_expression: '0 2 * * *; rm -rf /' });
      expectStatus(res, 400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details).to.deep.equal([{ field: 'body.cron_expression', message: 'must be a cron expression with 5 fields (minute hour day month weekday), or 6 with seconds first' }]);
      expect(res.body.error.message).to.equal('Invalid request: body.cron_expression must be a cron expression with 5 fields (minute hour day month weekday), or 6 with seconds first');
      expect(res.body.error.request_id).to.be.a('string').and.not.equal('');
    });

    it('says what a format expects', async () => {
      const res = await hub.admin.get(`${API}/executions?since=yesterday`);
      expectStatus(res, 400);
      expect(res.body.error.details).to.deep.equal([{ field: 'query.since', message: 'must be a date and time in RFC 3339 form, e.g. 2026-11-27T13:00:00Z' }]);
    });

    it('puts an article before a description that has none', async () => {
      const res = await hub.admin.post(`${API}/vcenters`, { name: 'vc', host: 'bad host!', username: 'u', password: 'p' });
      expectStatus(res, 400);
      expect(res.body.error.details).to.deep.include({ field: 'body.host', message: 'must be a host name or IP address' });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('POST /schedules/preview', () => {
    const P = `${API}/schedules/preview`;

    it('answers the next fires of an unsaved cron in its zone, under the zone canonical name, and writes nothing', async () => {
      const before = { schedules: await hub.db.db('replication_schedules').count({ n: '*' }).first(), audit: await hub.db.db('audit_log').count({ n: '*' }).first() };
      const started = Date.now();
      const res = await hub.admin.post(P, { cron_expression: ' 30 2 * * * ', timezone: 'europe/berlin', count: 3 });
      expectStatus(res, 200);
      expectShape(ScheduleDraftPreviewResponse, res.body);
      expect(res.body.cron_expression).to.equal('30 2 * * *');
      expect(res.body.timezone).to.equal('Europe/Berlin');
      expect(res.body.fires).to.have.length(3);
      for (const f of res.body.fires as { at: string; local: string }[]) {
        expect(f.local).to.match(/T02:30:00\+0[12]:00$/);
        expect(Date.parse(f.at)).to.be.greaterThan(started);
      }
      const gaps = (res.body.fires as { at: string }[]).slice(1).map((f, i) => Date.parse(f.at) - Date.parse(res.body.fires[i].at));
      for (const g of gaps) expect(g).to.be.within(23 * HOUR, 25 * HOUR);
      const after = { schedules: await hub.db.db('replication_schedules').count({ n: '*' }).first(), audit: await hub.db.db('audit_log').count({ n: '*' }).first() };
      expect(after).to.deep.equal(before);
    });

    it('defaults to 5 fires in UTC, and lets a viewer preview (read permission) but not an anonymous caller', async () => {
      const res = await viewer.post(P, { cron_expression: '*/15 * * * *' });
      expectStatus(res, 200);
      expect(res.body.timezone).to.equal('UTC');
      expect(res.body.fires).to.have.length(5);
      expect(Date.parse(res.body.fires[1].at) - Date.parse(res.body.fires[0].at)).to.equal(15 * 60_000);
      expectStatus(await hub.anonymous.post(P, { cron_expression: '*/15 * * * *' }), 401);
    });

    it('refuses a bad cron or zone with the same 400 a create gives, naming the field', async () => {
      for (const bad of [{ cron_expression: '61 2 * * *' }, { cron_expression: '0 2 * *' }, { cron_expression: '0 2 * * *', timezone: 'Mars/Olympus_Mons' }]) {
        const preview = await hub.admin.post(P, bad);
        const create = await hub.admin.post(`${API}/schedules`, { name: `never-${randomUUID()}`, ...bad });
        expectStatus(preview, 400);
        expectStatus(create, 400);
        expect(preview.body.error.code).to.equal(create.body.error.code);
        expect(preview.body.error.details, JSON.stringify(bad)).to.deep.equal(create.body.error.details);
        expect(preview.body.error.details[0].field).to.equal(bad.timezone ? 'body.timezone' : 'body.cron_expression');
      }
      const count = await hub.admin.post(P, { cron_expression: '0 2 * * *', count: 101 });
      expectStatus(count, 400);
      expect(count.body.error.details[0].field).to.equal('body.count');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('GET /executions', () => {
    let flowA: { id: string; name: string };
    let flowB: { id: string; name: string };
    const made: Record<string, string> = {};

    before(async () => {
      flowA = await makeBackupFlow(hub);
      flowB = await makeBackupFlow(hub);
      const now = Date.now();
      const rows = [
        { key: 'a-old', flow: flowA.id, status: 'success', started: now - 3 * DAY, bytes: 100 },
        { key: 'b-mid', flow: flowB.id, status: 'error', started: now - 5 * HOUR, bytes: 0 },
        { key: 'a-new', flow: flowA.id, status: 'warning', started: now - 1 * HOUR, bytes: 4096 },
        { key: 'b-pending', flow: flowB.id, status: 'pending', started: null, bytes: 0 },
      ];
      for (const r of rows) {
        const id = randomUUID();
        made[r.key] = id;
        await hub.db.db('protection_flow_executions').insert({
          id, flow_id: r.flow, execution_type: 'manual', triggered_by: 'gui-support', status: r.status, created_job_ids: '[]',
          started_at: r.started === null ? null : new Date(r.started), completed_at: r.started === null || r.status === 'pending' ? null : new Date(r.started + 60_000),
          created_at: new Date(r.started ?? now), vms_processed: 2, jobs_created: 2, jobs_completed: r.status === 'error' ? 0 : 2, jobs_failed: r.status === 'error' ? 2 : 0, bytes_transferred: r.bytes,
        });
      }
    });

    const idsOf = (body: { executions: { id: string }[] }) => body.executions.map((e) => e.id);

    it('lists executions of every flow, newest first, with their flow names and counters', async () => {
      const res = await viewer.get(`${API}/executions`);
      expectStatus(res, 200);
      expectShape(RecentExecutionListResponse, res.body);
      expect(idsOf(res.body)).to.deep.equal([made['b-pending'], made['a-new'], made['b-mid'], made['a-old']]);
      expect(res.body.total).to.equal(4);
      const newest = res.body.executions[1];
      expect(newest).to.include({ flow_id: flowA.id, flow_name: flowA.name, status: 'warning', execution_type: 'manual', vms_processed: 2, jobs_created: 2, jobs_completed: 2, jobs_failed: 0, bytes_transferred: 4096 });
      expect(Date.parse(newest.completed_at) - Date.parse(newest.started_at)).to.equal(60_000);
      expect(res.body.executions[0].started_at).to.equal(null);
    });

    it('filters by since, status and flow, and pages with a total', async () => {
      const since = new Date(Date.now() - DAY).toISOString();
      expect(idsOf((await hub.admin.get(`${API}/executions?since=${encodeURIComponent(since)}`)).body)).to.deep.equal([made['b-pending'], made['a-new'], made['b-mid']]);
      expect(idsOf((await hub.admin.get(`${API}/executions?status=error`)).body)).to.deep.equal([made['b-mid']]);
      expect(idsOf((await hub.admin.get(`${API}/executions?flow_id=${flowA.id}`)).body)).to.deep.equal([made['a-new'], made['a-old']]);
      expect(idsOf((await hub.admin.get(`${API}/executions?flow_id=${flowA.id}&order=asc`)).body)).to.deep.equal([made['a-old'], made['a-new']]);
      const page = await hub.admin.get(`${API}/executions?limit=2&offset=1`);
      expect(idsOf(page.body)).to.deep.equal([made['a-new'], made['b-mid']]);
      expect(page.body.total).to.equal(4);
      expect((await hub.admin.get(`${API}/executions?flow_id=${randomUUID()}`)).body).to.deep.equal({ executions: [], total: 0 });
    });

    it('refuses bad filters naming the parameter', async () => {
      for (const [q, field] of [['status=done', 'query.status'], ['limit=0', 'query.limit'], ['flow_id=..%2Fx', 'query.flow_id'], ['bogus=1', 'query.bogus']] as const) {
        const res = await hub.admin.get(`${API}/executions?${q}`);
        expectStatus(res, 400);
        expect(res.body.error.details.map((d: { field: string }) => d.field), q).to.include(field);
      }
      expectStatus(await hub.anonymous.get(`${API}/executions`), 401);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('GET /vms/unprotected', () => {
    const vm: Record<string, string> = {};
    let daily: string;
    let hourly: string;
    const backedUp = (id: string, agoMs: number) => hub.db.db('vm_contexts').where({ context_id: id }).update({ last_backup_at: new Date(Date.now() - agoMs), last_backup_id: null });
    const flowOn = async (target: string, over: Record<string, unknown> = {}) => (await makeBackupFlow(hub, { target_id: target, ...over })) as { id: string; name: string };

    before(async () => {
      daily = await makeSchedule(hub, '0 2 * * *', 'UTC');
      hourly = await makeSchedule(hub, '0 * * * *', 'UTC');
      for (const k of ['alone', 'never', 'fresh', 'stale', 'groupFresh', 'groupOff', 'disabledFlow', 'noSchedule', 'twoFlows', 'gone']) vm[k] = await makeVm(hub);
      await hub.db.db('vm_contexts').where({ context_id: vm.gone }).update({ inventory_status: 'missing' });
      await flowOn(vm.never!, { schedule_id: daily });
      await flowOn(vm.fresh!, { schedule_id: daily });
      await flowOn(vm.stale!, { schedule_id: daily });
      await flowOn(vm.disabledFlow!, { schedule_id: daily, enabled: false });
      await flowOn(vm.noSchedule!);
      await flowOn(vm.twoFlows!, { schedule_id: daily });
      await flowOn(vm.twoFlows!, { schedule_id: hourly, vm_start_window_minutes: 30 });
      const group = await makeGroup(hub, [vm.groupFresh!, vm.groupOff!]);
      expectStatus(await hub.admin.patch(`${API}/machine-groups/${group}/members/${vm.groupOff}`, { enabled: false }), 200);
      await makeBackupFlow(hub, { target_type: 'group', target_id: group, schedule_id: daily });
      await backedUp(vm.fresh!, HOUR);
      await backedUp(vm.stale!, 3 * DAY);
      await backedUp(vm.groupFresh!, HOUR);
      await backedUp(vm.groupOff!, HOUR);
      await backedUp(vm.disabledFlow!, HOUR);
      await backedUp(vm.noSchedule!, HOUR);
      await backedUp(vm.twoFlows!, 2 * HOUR);
    });

    it('lists each present VM that is not protected, with its reason, and leaves the protected ones out', async () => {
      const res = await viewer.get(`${API}/vms/unprotected`);
      expectStatus(res, 200);
      expectShape(UnprotectedVmListResponse, res.body);
      const byId = new Map((res.body.vms as { vm: { context_id: string }; reason: string; expected_within_seconds: number | null; last_backup_at: string | null; flows: { name: string }[] }[]).map((u) => [u.vm.context_id, u]));
      const window = 240 * 60;
      expect(byId.get(vm.alone!)).to.deep.include({ reason: 'no_flow', flows: [], expected_within_seconds: null, last_backup_at: null });
      expect(byId.get(vm.never!)).to.deep.include({ reason: 'never_backed_up', expected_within_seconds: 86_400 + window, last_backup_at: null });
      expect(byId.get(vm.never!)!.flows).to.have.length(1);
      const stale = byId.get(vm.stale!)!;
      expect(stale).to.deep.include({ reason: 'last_backup_too_old', expected_within_seconds: 86_400 + window });
      expect(Date.now() - Date.parse(stale.last_backup_at!)).to.be.within(3 * DAY - 60_000, 3 * DAY + 60_000);
      expect(byId.get(vm.groupOff!)?.reason, 'disabled in its group').to.equal('no_flow');
      expect(byId.get(vm.disabledFlow!)?.reason, 'its only flow is disabled').to.equal('no_flow');
      expect(byId.get(vm.noSchedule!)).to.deep.include({ reason: 'no_schedule', expected_within_seconds: null });
      // the hourly flow (1 h period + 30 min window) is the strictest: a backup 2 h old is too old
      expect(byId.get(vm.twoFlows!)).to.deep.include({ reason: 'last_backup_too_old', expected_within_seconds: 3600 + 1800 });
      expect(byId.get(vm.twoFlows!)!.flows).to.have.length(2);
      for (const ok of [vm.fresh!, vm.groupFresh!, vm.gone!]) expect(byId.has(ok), ok).to.equal(false);
      expect(res.body.total).to.equal(res.body.vms.length);
      const present = await hub.db.db('vm_contexts').where({ inventory_status: 'present' }).count({ n: '*' }).first();
      expect(res.body.present_total).to.equal(Number((present as { n: number }).n));
    });

    it('follows the schedule: a disabled schedule leaves only never-backed-up or no-schedule reasons', async () => {
      expectStatus(await hub.admin.put(`${API}/schedules/${daily}`, { enabled: false }), 200);
      try {
        const byId = new Map((await hub.admin.get(`${API}/vms/unprotected`)).body.vms.map((u: { vm: { context_id: string }; reason: string }) => [u.vm.context_id, u.reason]));
        expect(byId.get(vm.stale!)).to.equal('no_schedule');
        expect(byId.get(vm.never!)).to.equal('never_backed_up');
        expect(byId.get(vm.fresh!)).to.equal('no_schedule');
      } finally {
        expectStatus(await hub.admin.put(`${API}/schedules/${daily}`, { enabled: true }), 200);
      }
    });

    it('is not taken for a VM id, and needs a session', async () => {
      expectStatus(await hub.admin.get(`${API}/vms/${vm.alone}`), 200);
      expectStatus(await hub.anonymous.get(`${API}/vms/unprotected`), 401);
    });
  });
});
