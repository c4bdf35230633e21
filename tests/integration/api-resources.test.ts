import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readdir, rmdir, stat, statfs, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BackupResponse, BackupSummary, GroupMember, GroupResponse, PolicyResponse, RepositoryResponse, ScheduleExecutionResponse, ScheduleResponse, VcenterResponse, VmResponse, VmSummary } from '@vaultflow/schemas';
import { startHub, unique, type HttpResult, type TestHub } from '../support/hub.js';
import { makeBackupFlow, makeGroup, makePolicy, makeRepository, makeSchedule, makeVcenter, makeVm } from '../support/fixtures.js';

const S = '/api/v1/schedules';
const R = '/api/v1/repositories';
const POL = '/api/v1/policies';
const G = '/api/v1/machine-groups';
const VMS = '/api/v1/vms';
const VC = '/api/v1/vcenters';
const B = '/api/v1/backups';
const F = '/api/v1/protection-flows';

/** The fields named by an error answer. */
function fieldsOf(res: HttpResult): string[] {
  return ((res.body?.error?.details ?? []) as { field: string }[]).map((d) => d.field);
}

function ids(list: { id?: string | number; context_id?: string }[]): (string | number)[] {
  return list.map((x) => x.id ?? x.context_id!);
}

/** Wall-clock time of `at` in `zone`, e.g. "2026-03-29 03:30". */
function wallClock(at: string | Date, zone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(at))
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** statfs figures as the API computes them. */
async function fsFigures(p: string) {
  const s = await statfs(p);
  return { total: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize };
}

/** The answer carries exactly the fields its schema documents: nothing missing, nothing internal. */
function expectDocumentedFields(body: Record<string, unknown>, schema: { properties: Record<string, unknown> }, what: string): void {
  expect(Object.keys(body).sort(), what).to.deep.equal(Object.keys(schema.properties).sort());
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

describe('flows-api: supporting resources', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => hub?.stop());

  const audit = (entityType: string, entityId: string | number) =>
    hub.db.db('audit_log').where({ entity_type: entityType, entity_id: String(entityId) }).orderBy('id').select('actor', 'action', 'details', 'request_id');
  const count = async (table: string) => Number(((await hub.db.db(table).count({ n: '*' }).first()) as { n: number }).n);

  // ---------------------------------------------------------------------------------------------
  describe('schedules', () => {
    it('creates a schedule (201) with its id, next fire, UTC zone and a 3600 s misfire grace by default', async () => {
      const name = unique('nightly');
      const before = Date.now();
      const res = await hub.admin.post(S, { name, cron_expression: '0 2 * * *', description: 'two at night' });
      expect(res.status).to.equal(201);
      const s = res.body;
      expect(s.id).to.match(/^[0-9a-f-]{36}$/);
      expect(s).to.include({ name, cron_expression: '0 2 * * *', timezone: 'UTC', enabled: true, misfire_grace_seconds: 3600, description: 'two at night', flow_count: 0, created_by: 'bootstrap-token' });
      const next = new Date(s.next_fire_time);
      expect(next.getTime()).to.be.greaterThan(before);
      expect(next.getTime() - before).to.be.at.most(24 * 3600 * 1000);
      expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).to.deep.equal([2, 0, 0]);
      const got = await hub.admin.get(`${S}/${s.id}`);
      expect(got.status).to.equal(200);
      expect(got.body).to.deep.equal(s);
      const row = await hub.db.db('replication_schedules').where({ id: s.id }).first();
      expect(row.timezone).to.equal('UTC');
      const trail = await audit('schedule', s.id);
      expect(trail.map((a) => a.action)).to.deep.equal(['schedule.create']);
      expect(trail[0].actor).to.equal('bootstrap-token');
    });

    it('accepts a 6-field cron with seconds first and fires on those seconds', async () => {
      const res = await hub.admin.post(S, { name: unique('every20s'), cron_expression: '*/20 * * * * *', misfire_grace_seconds: 30 });
      expect(res.status).to.equal(201);
      expect(res.body.misfire_grace_seconds).to.equal(30);
      const p = await hub.admin.get(`${S}/${res.body.id}/preview?count=4`);
      expect(p.status).to.equal(200);
      const at = p.body.fires.map((f: { at: string }) => new Date(f.at).getTime());
      expect(at).to.have.length(4);
      for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).to.equal(20_000);
      expect(at.every((t: number) => new Date(t).getUTCSeconds() % 20 === 0)).to.equal(true);
    });

    it('rejects a bad cron (400 naming body.cron_expression) and a bad zone (400 naming body.timezone), writing nothing', async () => {
      const before = await count('replication_schedules');
      for (const cron of ['61 2 * * *', '0 2 * *', '0 0 0 2 * * * *', 'a b c d e']) {
        const res = await hub.admin.post(S, { name: unique('bad cron'), cron_expression: cron });
        expect(res.status, cron).to.equal(400);
        expect(res.body.error.code).to.equal('VALIDATION_FAILED');
        expect(fieldsOf(res), cron).to.deep.equal(['body.cron_expression']);
      }
      const zone = await hub.admin.post(S, { name: unique('bad zone'), cron_expression: '0 2 * * *', timezone: 'Mars/Olympus' });
      expect(zone.status).to.equal(400);
      expect(fieldsOf(zone)).to.deep.equal(['body.timezone']);
      const both = await hub.admin.post(S, { name: unique('bad both'), cron_expression: '0 99 * * *', timezone: 'Nowhere/Land' });
      expect(fieldsOf(both).sort()).to.deep.equal(['body.cron_expression', 'body.timezone']);
      expect(await count('replication_schedules')).to.equal(before);
    });

    it('refuses a duplicate name with 409 SCHEDULE_NAME_TAKEN, on create and on rename', async () => {
      const a = (await hub.admin.post(S, { name: unique('dup'), cron_expression: '0 3 * * *' })).body;
      const b = (await hub.admin.post(S, { name: unique('dup'), cron_expression: '0 4 * * *' })).body;
      const res = await hub.admin.post(S, { name: a.name, cron_expression: '0 5 * * *' });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('SCHEDULE_NAME_TAKEN');
      const rename = await hub.admin.put(`${S}/${b.id}`, { name: a.name });
      expect(rename.status).to.equal(409);
      expect((await hub.admin.get(`${S}/${b.id}`)).body.name).to.equal(b.name);
    });

    it('lists with paging, filters and sort', async () => {
      const tag = `lst${randomBytes(3).toString('hex')}`;
      const made: string[] = [];
      for (const [i, enabled] of [true, false, true].entries()) {
        const r = await hub.admin.post(S, { name: `${tag}-${i}`, cron_expression: '0 1 * * *', enabled });
        made.push(r.body.id);
      }
      const all = await hub.admin.get(`${S}?search=${tag}`);
      expect(all.status).to.equal(200);
      expect(all.body.total).to.equal(3);
      expect(all.body.schedules.map((s: { name: string }) => s.name)).to.deep.equal([`${tag}-0`, `${tag}-1`, `${tag}-2`]);
      const desc = await hub.admin.get(`${S}?search=${tag}&sort=name&order=desc`);
      expect(desc.body.schedules.map((s: { name: string }) => s.name)).to.deep.equal([`${tag}-2`, `${tag}-1`, `${tag}-0`]);
      const page2 = await hub.admin.get(`${S}?search=${tag}&limit=2&offset=2`);
      expect(page2.body.total).to.equal(3);
      expect(ids(page2.body.schedules)).to.deep.equal([made[2]]);
      const disabled = await hub.admin.get(`${S}?search=${tag}&enabled=false`);
      expect(ids(disabled.body.schedules)).to.deep.equal([made[1]]);
      expect(disabled.body.schedules[0].next_fire_time).to.equal(null);
      const bad = await hub.admin.get(`${S}?sort=cron_expression`);
      expect(bad.status).to.equal(400);
      expect(fieldsOf(bad)).to.deep.equal(['query.sort']);
    });

    it('answers 404 SCHEDULE_NOT_FOUND for an unknown id', async () => {
      for (const p of [`${S}/${randomUUID()}`, `${S}/${randomUUID()}/preview`, `${S}/${randomUUID()}/executions`]) {
        const res = await hub.admin.get(p);
        expect(res.status, p).to.equal(404);
        expect(res.body.error.code).to.equal('SCHEDULE_NOT_FOUND');
      }
      expect((await hub.admin.put(`${S}/${randomUUID()}`, { enabled: false })).status).to.equal(404);
      expect((await hub.admin.del(`${S}/${randomUUID()}`)).status).to.equal(404);
    });

    it('update moves the next run of the flows that use it; disabling clears it; delete leaves the flows unscheduled', async () => {
      const sched = await makeSchedule(hub, '0 2 * * *');
      const flow = await makeBackupFlow(hub, { schedule_id: sched });
      let next = new Date(flow.status.next_execution_time);
      expect(wallClock(next, 'UTC').slice(11)).to.equal('02:00');

      const upd = await hub.admin.put(`${S}/${sched}`, { cron_expression: '30 5 * * *', timezone: 'Europe/Berlin' });
      expect(upd.status).to.equal(200);
      expect(upd.body).to.include({ cron_expression: '30 5 * * *', timezone: 'Europe/Berlin', flow_count: 1 });
      let f = (await hub.admin.get(`${F}/${flow.id}`)).body;
      expect(f.schedule_cron).to.equal('30 5 * * *');
      next = new Date(f.status.next_execution_time);
      expect(wallClock(next, 'Europe/Berlin').slice(11)).to.equal('05:30');
      expect(next.getTime()).to.be.greaterThan(Date.now());
      expect(f.status.next_execution_time).to.equal(upd.body.next_fire_time);

      const off = await hub.admin.put(`${S}/${sched}`, { enabled: false });
      expect(off.body).to.include({ enabled: false, next_fire_time: null });
      f = (await hub.admin.get(`${F}/${flow.id}`)).body;
      expect(f.schedule_id).to.equal(sched);
      expect(f.status.next_execution_time).to.equal(null);

      const on = await hub.admin.put(`${S}/${sched}`, { enabled: true });
      f = (await hub.admin.get(`${F}/${flow.id}`)).body;
      expect(f.status.next_execution_time).to.be.a('string').and.equal(on.body.next_fire_time);

      const del = await hub.admin.del(`${S}/${sched}`);
      expect(del.status).to.equal(204);
      expect(del.body).to.equal(undefined);
      f = (await hub.admin.get(`${F}/${flow.id}`)).body;
      expect(f).to.include({ schedule_id: null, schedule_name: null, schedule_cron: null });
      expect(f.status.next_execution_time).to.equal(null);
      expect((await hub.admin.get(`${S}/${sched}`)).status).to.equal(404);
      const trail = (await audit('schedule', sched)).map((a) => a.action);
      expect(trail).to.deep.equal(['schedule.create', 'schedule.update', 'schedule.update', 'schedule.update', 'schedule.delete']);
    });

    it('an update with a bad cron or zone is a 400 and changes nothing', async () => {
      const sched = await makeSchedule(hub, '0 2 * * *');
      const res = await hub.admin.put(`${S}/${sched}`, { cron_expression: '0 2 * * * * *' });
      expect(res.status).to.equal(400);
      expect(fieldsOf(res)).to.deep.equal(['body.cron_expression']);
      const tz = await hub.admin.put(`${S}/${sched}`, { timezone: 'Europe/Atlantis' });
      expect(fieldsOf(tz)).to.deep.equal(['body.timezone']);
      expect((await hub.admin.get(`${S}/${sched}`)).body).to.include({ cron_expression: '0 2 * * *', timezone: 'UTC' });
      const empty = await hub.admin.put(`${S}/${sched}`, {});
      expect(empty.status).to.equal(400);
    });

    it('a disabled flow stays without a next run when its schedule changes', async () => {
      const sched = await makeSchedule(hub, '0 2 * * *');
      const flow = await makeBackupFlow(hub, { schedule_id: sched, enabled: false });
      expect(flow.status.next_execution_time).to.equal(null);
      await hub.admin.put(`${S}/${sched}`, { cron_expression: '0 4 * * *' });
      expect((await hub.admin.get(`${F}/${flow.id}`)).body.status.next_execution_time).to.equal(null);
      const enabled = await hub.admin.patch(`${F}/${flow.id}/enable`);
      expect(enabled.status).to.equal(200);
      expect(wallClock(enabled.body.status.next_execution_time, 'UTC').slice(11)).to.equal('04:00');
    });

    it('previews N strictly increasing fires with the wall time of the schedule zone; count > 100 is a 400', async () => {
      const r = await hub.admin.post(S, { name: unique('tokyo'), cron_expression: '15 9 * * 1-5', timezone: 'Asia/Tokyo' });
      const p = await hub.admin.get(`${S}/${r.body.id}/preview?count=7`);
      expect(p.status).to.equal(200);
      expect(p.body).to.include({ schedule_id: r.body.id, cron_expression: '15 9 * * 1-5', timezone: 'Asia/Tokyo' });
      const fires = p.body.fires as { at: string; local: string }[];
      expect(fires).to.have.length(7);
      for (let i = 1; i < fires.length; i++) expect(new Date(fires[i]!.at).getTime()).to.be.greaterThan(new Date(fires[i - 1]!.at).getTime());
      for (const f of fires) {
        expect(f.local).to.match(/^\d{4}-\d{2}-\d{2}T09:15:00\+09:00$/);
        expect(f.local.slice(0, 16).replace('T', ' ')).to.equal(wallClock(f.at, 'Asia/Tokyo'));
        const weekday = new Date(`${f.local.slice(0, 10)}T00:00:00Z`).getUTCDay();
        expect(weekday).to.be.within(1, 5);
      }
      expect(fires[0]!.at).to.equal(r.body.next_fire_time);
      const dflt = await hub.admin.get(`${S}/${r.body.id}/preview`);
      expect(dflt.body.fires).to.have.length(5);
      for (const bad of ['101', '0', 'many']) {
        const res = await hub.admin.get(`${S}/${r.body.id}/preview?count=${bad}`);
        expect(res.status, bad).to.equal(400);
        expect(fieldsOf(res)).to.deep.equal(['query.count']);
      }
      expect((await hub.admin.get(`${S}/${r.body.id}/preview?count=100`)).body.fires).to.have.length(100);
    });

    describe('across daylight-saving changes (hub with a fixed clock)', () => {
      let clockHub: TestHub;
      let clock = new Date('2026-03-27T12:00:00Z');
      let id: string;
      before(async () => {
        clockHub = await startHub({ now: () => clock });
        const r = await clockHub.admin.post(S, { name: 'daily 02:30 Berlin', cron_expression: '30 2 * * *', timezone: 'Europe/Berlin' });
        expect(r.status).to.equal(201);
        id = r.body.id;
        expect(r.body.next_fire_time).to.equal('2026-03-28T01:30:00.000Z');
      });
      after(async () => clockHub?.stop());

      it('fires once on 2026-03-29, when 02:30 does not exist in Berlin (spring forward)', async () => {
        clock = new Date('2026-03-27T12:00:00Z');
        const p = await clockHub.admin.get(`${S}/${id}/preview?count=5`);
        expect(p.status).to.equal(200);
        const fires = p.body.fires as { at: string; local: string }[];
        expect(fires.map((f) => f.local.slice(0, 10))).to.deep.equal(['2026-03-28', '2026-03-29', '2026-03-30', '2026-03-31', '2026-04-01']);
        const that = fires.filter((f) => f.local.startsWith('2026-03-29'));
        expect(that).to.have.length(1);
        expect(that[0]).to.deep.equal({ at: '2026-03-29T01:30:00.000Z', local: '2026-03-29T03:30:00+02:00' });
        expect(fires[0]).to.deep.equal({ at: '2026-03-28T01:30:00.000Z', local: '2026-03-28T02:30:00+01:00' });
        expect(fires[2]).to.deep.equal({ at: '2026-03-30T00:30:00.000Z', local: '2026-03-30T02:30:00+02:00' });
      });

      it('fires once on 2026-10-25, when 02:30 happens twice in Berlin (fall back)', async () => {
        clock = new Date('2026-10-23T12:00:00Z');
        const p = await clockHub.admin.get(`${S}/${id}/preview?count=4`);
        const fires = p.body.fires as { at: string; local: string }[];
        expect(fires.map((f) => f.local.slice(0, 10))).to.deep.equal(['2026-10-24', '2026-10-25', '2026-10-26', '2026-10-27']);
        const that = fires.filter((f) => f.local.startsWith('2026-10-25'));
        expect(that).to.have.length(1);
        expect(that[0]!.local.slice(11, 16)).to.equal('02:30');
        expect(fires[2]).to.deep.equal({ at: '2026-10-26T01:30:00.000Z', local: '2026-10-26T02:30:00+01:00' });
        const got = await clockHub.admin.get(`${S}/${id}`);
        expect(got.body.next_fire_time).to.equal('2026-10-24T00:30:00.000Z');
      });
    });

    it('lists its executions: empty at first, then what the scheduler recorded, filtered by status and flow', async () => {
      const sched = await makeSchedule(hub, '0 2 * * *');
      const other = await makeSchedule(hub, '0 3 * * *');
      const empty = await hub.admin.get(`${S}/${sched}/executions`);
      expect(empty.status).to.equal(200);
      expect(empty.body).to.deep.equal({ executions: [], total: 0 });
      const flow = await makeBackupFlow(hub, { schedule_id: sched });
      const rows = [
        { id: randomUUID(), schedule_id: sched, flow_id: flow.id, scheduled_for: new Date('2026-01-01T02:00:00Z'), status: 'triggered', reason: null },
        { id: randomUUID(), schedule_id: sched, flow_id: null, scheduled_for: new Date('2026-01-02T02:00:00Z'), status: 'skipped', reason: 'no enabled flow' },
        { id: randomUUID(), schedule_id: sched, flow_id: flow.id, scheduled_for: new Date('2026-01-03T02:00:00Z'), status: 'missed', reason: 'hub was down' },
        { id: randomUUID(), schedule_id: other, flow_id: null, scheduled_for: new Date('2026-01-01T03:00:00Z'), status: 'triggered', reason: null },
      ];
      await hub.db.db('schedule_executions').insert(rows);
      const all = await hub.admin.get(`${S}/${sched}/executions`);
      expect(all.body.total).to.equal(3);
      expect(ids(all.body.executions)).to.deep.equal([rows[2]!.id, rows[1]!.id, rows[0]!.id]);
      expect(all.body.executions[2]).to.deep.include({ schedule_id: sched, flow_id: flow.id, scheduled_for: '2026-01-01T02:00:00.000Z', status: 'triggered', reason: null });
      const skipped = await hub.admin.get(`${S}/${sched}/executions?status=skipped`);
      expect(skipped.body).to.deep.include({ total: 1 });
      expect(skipped.body.executions[0]).to.include({ id: rows[1]!.id, reason: 'no enabled flow', flow_id: null });
      const byFlow = await hub.admin.get(`${S}/${sched}/executions?flow_id=${flow.id}`);
      expect(ids(byFlow.body.executions)).to.deep.equal([rows[2]!.id, rows[0]!.id]);
      const paged = await hub.admin.get(`${S}/${sched}/executions?limit=1&offset=1`);
      expect(paged.body.total).to.equal(3);
      expect(ids(paged.body.executions)).to.deep.equal([rows[1]!.id]);
      const bad = await hub.admin.get(`${S}/${sched}/executions?status=exploded`);
      expect(bad.status).to.equal(400);
      expect(fieldsOf(bad)).to.deep.equal(['query.status']);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('repositories', () => {
    it('creates a local repository: the folder is made, writable, left clean, and its capacity recorded', async () => {
      const p = path.join(hub.dataDir, `new-${randomUUID()}`, 'nested', 'repo');
      const name = unique('local repo');
      const res = await hub.admin.post(R, { name, description: 'first', repository_type: 'local', config: { path: p } });
      expect(res.status).to.equal(201);
      const r = res.body;
      expect(r.id).to.be.a('number').and.greaterThan(0);
      expect(r).to.deep.include({ name, description: 'first', repository_type: 'local', config: { path: p }, enabled: true, immutable: { enabled: false, retention_days: null }, flow_count: 0, backup_count: 0, created_by: 'bootstrap-token' });
      expect((await stat(p)).isDirectory()).to.equal(true);
      await access(p, constants.W_OK);
      expect(await readdir(p)).to.deep.equal([]);
      const fsNow = await fsFigures(p);
      expect(r.capacity.total_bytes).to.equal(fsNow.total);
      expect(r.capacity.used_bytes + r.capacity.available_bytes).to.be.at.most(r.capacity.total_bytes);
      expect(new Date(r.capacity.checked_at).getTime()).to.be.closeTo(Date.now(), 60_000);
      expect((await hub.admin.get(`${R}/${r.id}`)).body).to.deep.equal(r);
      expect((await audit('repository', r.id)).map((a) => a.action)).to.deep.equal(['repository.create']);
    });

    it('GET /{id}/storage reads the file system now (statfs figures, used + available <= total)', async () => {
      const repo = await makeRepository(hub);
      const before = await fsFigures(repo.path);
      const res = await hub.admin.get(`${R}/${repo.id}/storage`);
      const after = await fsFigures(repo.path);
      expect(res.status).to.equal(200);
      const s = res.body;
      expect(s).to.include({ repository_id: repo.id, path: repo.path });
      expect(s.total_bytes).to.equal(before.total).and.equal(after.total);
      expect(s.used_bytes).to.be.within(Math.min(before.used, after.used), Math.max(before.used, after.used));
      expect(s.available_bytes).to.be.within(Math.min(before.available, after.available), Math.max(before.available, after.available));
      expect(s.used_bytes + s.available_bytes).to.be.at.most(s.total_bytes);
      expect(s.used_percent).to.be.closeTo((s.used_bytes / s.total_bytes) * 100, 0.01);
      const got = (await hub.admin.get(`${R}/${repo.id}`)).body;
      expect(got.capacity).to.deep.equal({ total_bytes: s.total_bytes, used_bytes: s.used_bytes, available_bytes: s.available_bytes, checked_at: s.checked_at });
      expect((await hub.admin.get(`${R}/999999/storage`)).status).to.equal(404);
    });

    it('rejects relative paths and paths with .. (400 naming body.config.path), writing nothing', async () => {
      const before = await count('backup_repositories');
      for (const p of ['relative/repo', `${hub.dataDir}/a/../b`, `${hub.dataDir}/..`, './repo', `${hub.dataDir}//x`]) {
        const res = await hub.admin.post(R, { name: unique('bad path'), repository_type: 'local', config: { path: p } });
        expect(res.status, p).to.equal(400);
        expect(fieldsOf(res), p).to.deep.equal(['body.config.path']);
      }
      expect(await count('backup_repositories')).to.equal(before);
    });

    it('refuses system folders with 422 REPOSITORY_PATH_NOT_ALLOWED and creates nothing there', async () => {
      const probe = `/etc/vaultflow-${randomBytes(4).toString('hex')}`;
      const hadLibx32 = await exists('/libx32');
      try {
        for (const p of ['/etc', '/etc/', probe, '/usr/lib', '/proc/self', '/var/lib/mysql', '/libx32/vaultflow-test']) {
          const res = await hub.admin.post(R, { name: unique('sys'), repository_type: 'local', config: { path: p } });
          expect(res.status, p).to.equal(422);
          expect(res.body.error.code, p).to.equal('REPOSITORY_PATH_NOT_ALLOWED');
          expect(fieldsOf(res)).to.deep.equal(['body.config.path']);
        }
        expect(await exists(probe)).to.equal(false);
        expect(await exists('/libx32/vaultflow-test')).to.equal(false);
      } finally {
        // the tests run as root: should the guard ever fail, leave no trace in system folders
        await rmdir(probe).catch(() => undefined);
        await rmdir('/libx32/vaultflow-test').catch(() => undefined);
        if (!hadLibx32) await rmdir('/libx32').catch(() => undefined);
      }
    });

    it('refuses a path that reaches a system folder through a symbolic link (and creates nothing there)', async () => {
      const link = path.join(hub.dataDir, `etc-link-${randomUUID()}`);
      await symlink('/etc', link);
      const leaf = `vaultflow-${randomBytes(4).toString('hex')}`;
      try {
        for (const p of [path.join(link, leaf), link]) {
          const res = await hub.admin.post(R, { name: unique('via link'), repository_type: 'local', config: { path: p } });
          expect(res.status, p).to.equal(422);
          expect(res.body.error.code).to.equal('REPOSITORY_PATH_NOT_ALLOWED');
        }
        expect(await exists(path.join('/etc', leaf))).to.equal(false);
      } finally {
        await rmdir(path.join('/etc', leaf)).catch(() => undefined);
      }
    });

    it('refuses an nfs path that is not a mounted NFS share (422 REPOSITORY_NOT_MOUNTED) and s3 (422)', async () => {
      const p = path.join(hub.dataDir, `nfs-${randomUUID()}`);
      await mkdir(p);
      const nfs = await hub.admin.post(R, { name: unique('nfs'), repository_type: 'nfs', config: { path: p, server: 'filer', export: '/exports/backup' } });
      expect(nfs.status).to.equal(422);
      expect(nfs.body.error.code).to.equal('REPOSITORY_NOT_MOUNTED');
      expect(fieldsOf(nfs)).to.deep.equal(['body.config.path']);
      const cifs = await hub.admin.post(R, { name: unique('cifs'), repository_type: 'cifs', config: { path: p, share: '//filer/backup' } });
      expect(cifs.status).to.equal(422);
      expect(cifs.body.error.code).to.equal('REPOSITORY_NOT_MOUNTED');
      const s3 = await hub.admin.post(R, { name: unique('s3'), repository_type: 's3', config: { path: path.join(hub.dataDir, 's3') } });
      expect(s3.status).to.equal(422);
      expect(s3.body.error.code).to.equal('REPOSITORY_TYPE_UNSUPPORTED');
      expect(fieldsOf(s3)).to.deep.equal(['body.repository_type']);
      expect(await exists(path.join(hub.dataDir, 's3'))).to.equal(false);
    });

    it('refuses a path that cannot be written (below a regular file): 422 REPOSITORY_NOT_WRITABLE', async () => {
      const file = path.join(hub.dataDir, `plain-${randomUUID()}`);
      await writeFile(file, 'not a folder');
      for (const p of [path.join(file, 'repo'), file]) {
        const res = await hub.admin.post(R, { name: unique('unwritable'), repository_type: 'local', config: { path: p } });
        expect(res.status, p).to.equal(422);
        expect(res.body.error.code).to.equal('REPOSITORY_NOT_WRITABLE');
        expect(fieldsOf(res)).to.deep.equal(['body.config.path']);
      }
    });

    it('refuses two repositories on one path (409 REPOSITORY_PATH_TAKEN), also when written with a trailing slash', async () => {
      const repo = await makeRepository(hub);
      for (const p of [repo.path, `${repo.path}/`]) {
        const res = await hub.admin.post(R, { name: unique('same path'), repository_type: 'local', config: { path: p } });
        expect(res.status, p).to.equal(409);
        expect(res.body.error.code).to.equal('REPOSITORY_PATH_TAKEN');
        expect(fieldsOf(res)).to.deep.equal(['body.config.path']);
      }
      const slashed = path.join(hub.dataDir, randomUUID());
      const canon = await hub.admin.post(R, { name: unique('slashed'), repository_type: 'local', config: { path: `${slashed}//` } });
      expect(canon.status).to.equal(400);
      const trailing = await hub.admin.post(R, { name: unique('slashed'), repository_type: 'local', config: { path: `${slashed}/` } });
      expect(trailing.status).to.equal(201);
      expect(trailing.body.config.path).to.equal(slashed);
      const other = await makeRepository(hub);
      const move = await hub.admin.put(`${R}/${other.id}`, { config: { path: repo.path } });
      expect(move.status).to.equal(409);
      expect(move.body.error.code).to.equal('REPOSITORY_PATH_TAKEN');
      const dup = await hub.admin.post(R, { name: repo.name, repository_type: 'local', config: { path: path.join(hub.dataDir, randomUUID()) } });
      expect(dup.status).to.equal(409);
      expect(dup.body.error.code).to.equal('REPOSITORY_NAME_TAKEN');
    });

    it('needs retention_days for an immutable repository (400) and records it when given', async () => {
      const p = path.join(hub.dataDir, randomUUID());
      const bad = await hub.admin.post(R, { name: unique('imm'), repository_type: 'local', config: { path: p }, immutable: { enabled: true } });
      expect(bad.status).to.equal(400);
      expect(fieldsOf(bad)).to.deep.equal(['body.immutable.retention_days']);
      expect(await exists(p)).to.equal(false);
      const ok = await hub.admin.post(R, { name: unique('imm'), repository_type: 'local', config: { path: p }, immutable: { enabled: true, retention_days: 30 } });
      expect(ok.status).to.equal(201);
      expect(ok.body.immutable).to.deep.equal({ enabled: true, retention_days: 30 });
      const upd = await hub.admin.put(`${R}/${ok.body.id}`, { immutable: { enabled: true } });
      expect(upd.status).to.equal(400);
      const off = await hub.admin.put(`${R}/${ok.body.id}`, { immutable: { enabled: false } });
      expect(off.body.immutable).to.deep.equal({ enabled: false, retention_days: null });
    });

    it('updates name, description and enabled', async () => {
      const repo = await makeRepository(hub);
      const name = unique('renamed repo');
      const res = await hub.admin.put(`${R}/${repo.id}`, { name, description: 'now described', enabled: false });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: repo.id, name, description: 'now described', enabled: false });
      expect(res.body.config).to.deep.equal({ path: repo.path });
      expect((await hub.admin.get(`${R}/${repo.id}`)).body).to.include({ name, enabled: false });
      const row = await hub.db.db('backup_repositories').where({ id: repo.id }).first();
      expect(row.name).to.equal(name);
      expect(Boolean(row.enabled)).to.equal(false);
      expect((await audit('repository', repo.id)).map((a) => a.action)).to.deep.equal(['repository.create', 'repository.update']);
    });

    it('lists with filters and sort', async () => {
      const tag = `rl${randomBytes(3).toString('hex')}`;
      const a = await makeRepository(hub, { name: `${tag}-a` });
      const b = await makeRepository(hub, { name: `${tag}-b`, enabled: false });
      const all = await hub.admin.get(`${R}?search=${tag}&sort=name&order=desc`);
      expect(all.status).to.equal(200);
      expect(all.body.total).to.equal(2);
      expect(ids(all.body.repositories)).to.deep.equal([b.id, a.id]);
      const enabled = await hub.admin.get(`${R}?search=${tag}&enabled=true&repository_type=local`);
      expect(ids(enabled.body.repositories)).to.deep.equal([a.id]);
      const nfs = await hub.admin.get(`${R}?search=${tag}&repository_type=nfs`);
      expect(nfs.body).to.deep.equal({ repositories: [], total: 0 });
    });

    it('refuses to delete a repository a flow uses (409 REPOSITORY_IN_USE naming the flow)', async () => {
      const flow = await makeBackupFlow(hub);
      const res = await hub.admin.del(`${R}/${flow.repository_id}`);
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('REPOSITORY_IN_USE');
      expect(res.body.error.message).to.include(flow.name);
      expect(res.body.error.details.map((d: { message: string }) => d.message).join(' ')).to.include(flow.id);
      expect((await hub.admin.get(`${R}/${flow.repository_id}`)).body.flow_count).to.equal(1);
    });

    it('refuses to delete a repository a policy copies to (409 naming the policy)', async () => {
      const dest = await makeRepository(hub);
      const pol = await hub.admin.post(POL, { name: unique('copier'), retention: { keep_last: 3 }, copy_rules: [{ destination_repository_id: dest.id }] });
      expect(pol.status).to.equal(201);
      const res = await hub.admin.del(`${R}/${dest.id}`);
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('REPOSITORY_IN_USE');
      expect(res.body.error.message).to.include(pol.body.name);
      expect((await hub.admin.get(`${R}/${dest.id}`)).status).to.equal(200);
    });

    it('refuses to delete a repository that holds backups (409 REPOSITORY_HAS_BACKUPS)', async () => {
      const repo = await makeRepository(hub);
      const vm = await makeVm(hub);
      await hub.db.db('backup_jobs').insert({ id: `backup-${randomUUID()}`, vm_context_id: vm, repository_id: repo.id, backup_type: 'full', status: 'success' });
      expect((await hub.admin.get(`${R}/${repo.id}`)).body.backup_count).to.equal(1);
      const res = await hub.admin.del(`${R}/${repo.id}`);
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('REPOSITORY_HAS_BACKUPS');
      const move = await hub.admin.put(`${R}/${repo.id}`, { config: { path: path.join(hub.dataDir, randomUUID()) } });
      expect(move.status).to.equal(409);
      expect(move.body.error.code).to.equal('REPOSITORY_HAS_BACKUPS');
    });

    it('deletes an unused repository (204, then 404) and leaves its folder on disk', async () => {
      const repo = await makeRepository(hub);
      const res = await hub.admin.del(`${R}/${repo.id}`);
      expect(res.status).to.equal(204);
      const gone = await hub.admin.get(`${R}/${repo.id}`);
      expect(gone.status).to.equal(404);
      expect(gone.body.error.code).to.equal('REPOSITORY_NOT_FOUND');
      expect(await exists(repo.path)).to.equal(true);
      expect((await hub.admin.del(`${R}/${repo.id}`)).status).to.equal(404);
      expect((await audit('repository', repo.id)).map((a) => a.action)).to.deep.equal(['repository.create', 'repository.delete']);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('policies', () => {
    it('creates a policy with retention and copy rules (names of the destinations included)', async () => {
      const d1 = await makeRepository(hub);
      const d2 = await makeRepository(hub);
      const name = unique('3-2-1');
      const res = await hub.admin.post(POL, {
        name, description: 'three copies', retention: { keep_last: 7, keep_monthly: 12 },
        copy_rules: [{ destination_repository_id: d1.id }, { destination_repository_id: d2.id, copy_mode: 'scheduled', priority: 10, verify_after_copy: true, enabled: false }],
      });
      expect(res.status).to.equal(201);
      const p = res.body;
      expect(p.id).to.be.a('number');
      expect(p).to.include({ name, description: 'three copies', flow_count: 0, created_by: 'bootstrap-token' });
      expect(p.retention).to.deep.equal({ keep_last: 7, keep_daily: null, keep_weekly: null, keep_monthly: 12, keep_yearly: null });
      expect(p.copy_rules.map(({ id: _id, ...r }: { id: number }) => r)).to.deep.equal([
        { destination_repository_id: d2.id, destination_repository_name: d2.name, copy_mode: 'scheduled', priority: 10, verify_after_copy: true, enabled: false },
        { destination_repository_id: d1.id, destination_repository_name: d1.name, copy_mode: 'immediate', priority: 0, verify_after_copy: false, enabled: true },
      ]);
      expect((await hub.admin.get(`${POL}/${p.id}`)).body).to.deep.equal(p);
      expect((await audit('policy', p.id)).map((a) => a.action)).to.deep.equal(['policy.create']);
    });

    it('rejects a retention that keeps nothing (400 naming body.retention)', async () => {
      const before = await count('backup_policies');
      for (const retention of [{}, { keep_last: null, keep_daily: null }]) {
        const res = await hub.admin.post(POL, { name: unique('keeps nothing'), retention });
        expect(res.status).to.equal(400);
        expect(fieldsOf(res)).to.deep.equal(['body.retention']);
      }
      const zero = await hub.admin.post(POL, { name: unique('zero'), retention: { keep_last: 0 } });
      expect(zero.status).to.equal(400);
      expect(fieldsOf(zero)).to.deep.equal(['body.retention.keep_last']);
      expect(await count('backup_policies')).to.equal(before);
    });

    it('rejects an unknown destination (422 naming body.copy_rules.N.destination_repository_id) and a duplicate one (400)', async () => {
      const d = await makeRepository(hub);
      const before = await count('backup_policies');
      const unknown = await hub.admin.post(POL, { name: unique('p'), retention: { keep_last: 1 }, copy_rules: [{ destination_repository_id: 999999 }] });
      expect(unknown.status).to.equal(422);
      expect(unknown.body.error.code).to.equal('REFERENCE_NOT_FOUND');
      expect(fieldsOf(unknown)).to.deep.equal(['body.copy_rules.0.destination_repository_id']);
      const second = await hub.admin.post(POL, { name: unique('p'), retention: { keep_last: 1 }, copy_rules: [{ destination_repository_id: d.id }, { destination_repository_id: 999998 }] });
      expect(fieldsOf(second)).to.deep.equal(['body.copy_rules.1.destination_repository_id']);
      const dup = await hub.admin.post(POL, { name: unique('p'), retention: { keep_last: 1 }, copy_rules: [{ destination_repository_id: d.id }, { destination_repository_id: d.id }] });
      expect(dup.status).to.equal(400);
      expect(fieldsOf(dup)).to.deep.equal(['body.copy_rules.1.destination_repository_id']);
      expect(await count('backup_policies')).to.equal(before);
    });

    it('update replaces the copy rules when given and keeps them otherwise', async () => {
      const d1 = await makeRepository(hub);
      const d2 = await makeRepository(hub);
      const p = (await hub.admin.post(POL, { name: unique('p'), retention: { keep_daily: 7 }, copy_rules: [{ destination_repository_id: d1.id }] })).body;
      const swap = await hub.admin.put(`${POL}/${p.id}`, { copy_rules: [{ destination_repository_id: d2.id, priority: 5 }] });
      expect(swap.status).to.equal(200);
      expect(swap.body.copy_rules.map((r: { destination_repository_id: number; priority: number }) => [r.destination_repository_id, r.priority])).to.deep.equal([[d2.id, 5]]);
      expect(await hub.db.db('backup_copy_rules').where({ policy_id: p.id }).pluck('destination_repository_id')).to.deep.equal([d2.id]);
      const ret = await hub.admin.put(`${POL}/${p.id}`, { retention: { keep_weekly: 4 }, description: 'weekly' });
      expect(ret.body.retention).to.deep.equal({ keep_last: null, keep_daily: null, keep_weekly: 4, keep_monthly: null, keep_yearly: null });
      expect(ret.body.description).to.equal('weekly');
      expect(ret.body.copy_rules).to.have.length(1);
      const bad = await hub.admin.put(`${POL}/${p.id}`, { copy_rules: [{ destination_repository_id: 999999 }] });
      expect(bad.status).to.equal(422);
      expect((await hub.admin.get(`${POL}/${p.id}`)).body.copy_rules).to.have.length(1);
      const none = await hub.admin.put(`${POL}/${p.id}`, { copy_rules: [] });
      expect(none.body.copy_rules).to.deep.equal([]);
      // d1 is free again: it can be deleted
      expect((await hub.admin.del(`${R}/${d1.id}`)).status).to.equal(204);
    });

    it('delete leaves the flows that used it without a policy (policy_id and policy_name null)', async () => {
      const policy = await makePolicy(hub);
      const dest = await makeRepository(hub);
      await hub.admin.put(`${POL}/${policy}`, { copy_rules: [{ destination_repository_id: dest.id }] });
      const flow = await makeBackupFlow(hub, { policy_id: policy });
      expect(flow.policy_id).to.equal(policy);
      expect((await hub.admin.get(`${POL}/${policy}`)).body.flow_count).to.equal(1);
      const res = await hub.admin.del(`${POL}/${policy}`);
      expect(res.status).to.equal(204);
      const f = (await hub.admin.get(`${F}/${flow.id}`)).body;
      expect(f).to.include({ policy_id: null, policy_name: null, repository_id: flow.repository_id });
      expect(await hub.db.db('backup_copy_rules').where({ policy_id: policy }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
      const gone = await hub.admin.get(`${POL}/${policy}`);
      expect(gone.status).to.equal(404);
      expect(gone.body.error.code).to.equal('POLICY_NOT_FOUND');
      expect((await audit('policy', policy)).map((a) => a.action)).to.deep.equal(['policy.create', 'policy.update', 'policy.delete']);
    });

    it('lists with search and sort, and refuses duplicate names (409)', async () => {
      const tag = `pl${randomBytes(3).toString('hex')}`;
      const a = (await hub.admin.post(POL, { name: `${tag} a`, retention: { keep_last: 1 } })).body;
      const b = (await hub.admin.post(POL, { name: `${tag} b`, retention: { keep_last: 2 } })).body;
      const list = await hub.admin.get(`${POL}?search=${tag}&sort=name&order=desc`);
      expect(list.body.total).to.equal(2);
      expect(ids(list.body.policies)).to.deep.equal([b.id, a.id]);
      const dup = await hub.admin.post(POL, { name: a.name, retention: { keep_last: 1 } });
      expect(dup.status).to.equal(409);
      expect(dup.body.error.code).to.equal('POLICY_NAME_TAKEN');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('machine groups', () => {
    it('creates a group with defaults (5 VMs at once, priority 50) and records the acting user, not created_by', async () => {
      const name = unique('prod');
      const res = await hub.admin.post(G, { name, created_by: 'mallory' });
      expect(res.status).to.equal(201);
      expect(res.body.id).to.match(/^[0-9a-f-]{36}$/);
      expect(res.body).to.include({ name, description: null, max_concurrent_vms: 5, priority: 50, member_count: 0, enabled_member_count: 0, flow_count: 0, created_by: 'bootstrap-token' });
      const operatorLike = await hub.userClient('admin');
      const me = (await operatorLike.get('/api/v1/auth/me')).body;
      const mine = await operatorLike.post(G, { name: unique('mine'), max_concurrent_vms: 3, priority: 0, created_by: 'mallory' });
      expect(mine.status).to.equal(201);
      expect(mine.body).to.include({ max_concurrent_vms: 3, priority: 0 });
      expect(mine.body.created_by).to.be.a('string').and.not.equal('mallory');
      if (me?.username) expect(mine.body.created_by).to.equal(me.username);
      const upd = await hub.admin.put(`${G}/${res.body.id}`, { created_by: 'mallory', priority: 70, description: 'tier 1' });
      expect(upd.status).to.equal(200);
      expect(upd.body).to.include({ created_by: 'bootstrap-token', priority: 70, description: 'tier 1' });
      expect((await audit('machine_group', res.body.id)).map((a) => a.action)).to.deep.equal(['group.create', 'group.update']);
    });

    it('rejects max_concurrent_vms 0 and priority 101 (400 naming them) and a duplicate name (409)', async () => {
      const zero = await hub.admin.post(G, { name: unique('g'), max_concurrent_vms: 0 });
      expect(zero.status).to.equal(400);
      expect(fieldsOf(zero)).to.deep.equal(['body.max_concurrent_vms']);
      const high = await hub.admin.post(G, { name: unique('g'), priority: 101 });
      expect(high.status).to.equal(400);
      expect(fieldsOf(high)).to.deep.equal(['body.priority']);
      const g = (await hub.admin.post(G, { name: unique('g') })).body;
      const dup = await hub.admin.post(G, { name: g.name });
      expect(dup.status).to.equal(409);
      expect(dup.body.error.code).to.equal('GROUP_NAME_TAKEN');
      const upd = await hub.admin.put(`${G}/${g.id}`, { max_concurrent_vms: 1001 });
      expect(fieldsOf(upd)).to.deep.equal(['body.max_concurrent_vms']);
    });

    it('manages members: add (idempotent), unknown VMs (422, nothing added), disable, remove', async () => {
      const [v1, v2, v3, v4] = [await makeVm(hub), await makeVm(hub), await makeVm(hub), await makeVm(hub)];
      const g = (await hub.admin.post(G, { name: unique('members') })).body.id as string;
      const add = await hub.admin.post(`${G}/${g}/members`, { vm_context_ids: [v1, v2] });
      expect(add.status).to.equal(200);
      expect(add.body.total).to.equal(2);
      expect(add.body.members.map((m: { vm_context_id: string }) => m.vm_context_id).sort()).to.deep.equal([v1, v2].sort());
      expect(add.body.members[0]).to.include({ enabled: true, added_by: 'bootstrap-token', power_state: 'poweredOn', inventory_status: 'present' });

      const off = await hub.admin.patch(`${G}/${g}/members/${v2}`, { enabled: false });
      expect(off.status).to.equal(200);
      expect(off.body).to.include({ vm_context_id: v2, enabled: false });

      const again = await hub.admin.post(`${G}/${g}/members`, { vm_context_ids: [v2, v3] });
      expect(again.status).to.equal(200);
      expect(again.body.total).to.equal(3);
      expect(again.body.members.find((m: { vm_context_id: string }) => m.vm_context_id === v2).enabled).to.equal(false);
      expect(await hub.db.db('vm_group_memberships').where({ group_id: g }).count({ n: '*' }).first()).to.deep.equal({ n: 3 });
      let grp = (await hub.admin.get(`${G}/${g}`)).body;
      expect(grp).to.include({ member_count: 3, enabled_member_count: 2 });

      const bad = await hub.admin.post(`${G}/${g}/members`, { vm_context_ids: [v4, 'no-such-vm', v1] });
      expect(bad.status).to.equal(422);
      expect(bad.body.error.code).to.equal('VM_NOT_FOUND');
      expect(fieldsOf(bad)).to.deep.equal(['body.vm_context_ids.1']);
      expect((await hub.admin.get(`${G}/${g}/members`)).body.members.map((m: { vm_context_id: string }) => m.vm_context_id)).to.not.include(v4);

      const notMember = await hub.admin.patch(`${G}/${g}/members/${v4}`, { enabled: false });
      expect(notMember.status).to.equal(404);
      expect(notMember.body.error.code).to.equal('MEMBER_NOT_FOUND');

      const del = await hub.admin.del(`${G}/${g}/members/${v1}`);
      expect(del.status).to.equal(204);
      const del2 = await hub.admin.del(`${G}/${g}/members/${v1}`);
      expect(del2.status).to.equal(404);
      expect(del2.body.error.code).to.equal('MEMBER_NOT_FOUND');
      grp = (await hub.admin.get(`${G}/${g}`)).body;
      expect(grp).to.include({ member_count: 2, enabled_member_count: 1 });
      const on = await hub.admin.patch(`${G}/${g}/members/${v2}`, { enabled: true });
      expect(on.body.enabled).to.equal(true);
      expect((await hub.admin.get(`${G}/${g}`)).body.enabled_member_count).to.equal(2);
      const actions = (await audit('machine_group', g)).map((a) => a.action);
      expect(actions).to.deep.equal(['group.create', 'group.members.add', 'group.member.disable', 'group.members.add', 'group.members.remove', 'group.member.enable']);
      expect((await hub.admin.get(`${G}/${randomUUID()}/members`)).body.error.code).to.equal('GROUP_NOT_FOUND');
    });

    it('allows a VM in two groups', async () => {
      const vm = await makeVm(hub);
      const g1 = await makeGroup(hub, [vm]);
      const g2 = await makeGroup(hub, [vm]);
      const v = (await hub.admin.get(`${VMS}/${vm}`)).body;
      expect(v.groups.map((g: { id: string }) => g.id).sort()).to.deep.equal([g1, g2].sort());
      expect((await hub.admin.get(`${G}/${g1}`)).body.member_count).to.equal(1);
      expect((await hub.admin.get(`${G}/${g2}`)).body.member_count).to.equal(1);
    });

    it('refuses to delete a group a flow targets (409 GROUP_IN_USE); deletes it once free', async () => {
      const vm = await makeVm(hub);
      const g = await makeGroup(hub, [vm]);
      const repo = await makeRepository(hub);
      const flow = (await hub.admin.post(F, { name: unique('grp flow'), flow_type: 'backup', target_type: 'group', target_id: g, repository_id: repo.id })).body;
      const res = await hub.admin.del(`${G}/${g}`);
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('GROUP_IN_USE');
      expect(res.body.error.message).to.include(flow.name);
      expect((await hub.admin.get(`${G}/${g}`)).body.flow_count).to.equal(1);
      expect((await hub.admin.del(`${F}/${flow.id}`)).status).to.equal(204);
      expect((await hub.admin.del(`${G}/${g}`)).status).to.equal(204);
      expect((await hub.admin.get(`${G}/${g}`)).status).to.equal(404);
      expect(await hub.db.db('vm_group_memberships').where({ group_id: g }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
      expect((await hub.admin.get(`${VMS}/${vm}`)).status).to.equal(200);
    });

    it('lists with search, sort and paging', async () => {
      const tag = `gl${randomBytes(3).toString('hex')}`;
      const made = [];
      for (const priority of [10, 90, 50]) made.push((await hub.admin.post(G, { name: `${tag}-${priority}`, priority })).body.id);
      const byPrio = await hub.admin.get(`${G}?search=${tag}&sort=priority&order=desc`);
      expect(byPrio.body.total).to.equal(3);
      expect(byPrio.body.groups.map((g: { priority: number }) => g.priority)).to.deep.equal([90, 50, 10]);
      const page = await hub.admin.get(`${G}?search=${tag}&sort=priority&limit=1&offset=1`);
      expect(ids(page.body.groups)).to.deep.equal([made[2]]);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('VM inventory', () => {
    const tag = `vm${randomBytes(3).toString('hex')}`;
    let vcA: string;
    let vcB: string;
    const vm: Record<string, string> = {};
    let group: string;
    before(async () => {
      vcA = await makeVcenter(hub);
      vcB = await makeVcenter(hub);
      vm.alpha = await makeVm(hub, { vcenter_id: vcA, vm_name: `${tag}-alpha`, power_state: 'poweredOn', cbt_enabled: true, guest_os: 'windows2019srv_64Guest' });
      vm.beta = await makeVm(hub, { vcenter_id: vcA, vm_name: `${tag}-beta`, power_state: 'poweredOff', cbt_enabled: false });
      vm.gamma = await makeVm(hub, { vcenter_id: vcA, vm_name: `${tag}-gamma`, power_state: 'suspended', inventory_status: 'missing' });
      vm.delta = await makeVm(hub, { vcenter_id: vcB, vm_name: `${tag}-delta` });
      group = await makeGroup(hub, [vm.alpha!, vm.beta!]);
    });

    const names = (res: HttpResult) => res.body.vms.map((v: { vm_name: string }) => v.vm_name.slice(tag.length + 1));

    it('lists with search and every filter', async () => {
      const all = await hub.admin.get(`${VMS}?search=${tag}`);
      expect(all.status).to.equal(200);
      expect(all.body.total).to.equal(4);
      expect(names(all)).to.deep.equal(['alpha', 'beta', 'delta', 'gamma']);
      expect(names(await hub.admin.get(`${VMS}?search=${tag}&power_state=poweredOff`))).to.deep.equal(['beta']);
      expect(names(await hub.admin.get(`${VMS}?search=${tag}&cbt_enabled=false`))).to.deep.equal(['beta']);
      expect(names(await hub.admin.get(`${VMS}?search=${tag}&cbt_enabled=true`))).to.deep.equal(['alpha', 'delta', 'gamma']);
      expect(names(await hub.admin.get(`${VMS}?search=${tag}&inventory_status=missing`))).to.deep.equal(['gamma']);
      expect(names(await hub.admin.get(`${VMS}?group_id=${group}`))).to.deep.equal(['alpha', 'beta']);
      expect(names(await hub.admin.get(`${VMS}?vcenter_id=${vcB}`))).to.deep.equal(['delta']);
      expect(names(await hub.admin.get(`${VMS}?vcenter_id=${vcA}&power_state=suspended`))).to.deep.equal(['gamma']);
      expect(names(await hub.admin.get(`${VMS}?search=windows2019`))).to.deep.equal(['alpha']);
      expect((await hub.admin.get(`${VMS}?search=${encodeURIComponent(`${tag}%`)}`)).body.total).to.equal(0);
      expect((await hub.admin.get(`${VMS}?search=${encodeURIComponent(`${tag}_alpha`)}`)).body.total).to.equal(0);
      const first = (await hub.admin.get(`${VMS}?vcenter_id=${vcB}`)).body.vms[0];
      expect(first).to.include({ context_id: vm.delta, vcenter_id: vcB, cbt_enabled: true, num_cpu: 2, memory_mb: 4096 });
      expect(first.vcenter_name).to.be.a('string');
      const bad = await hub.admin.get(`${VMS}?power_state=on`);
      expect(bad.status).to.equal(400);
      expect(fieldsOf(bad)).to.deep.equal(['query.power_state']);
    });

    it('sorts and pages', async () => {
      const desc = await hub.admin.get(`${VMS}?search=${tag}&sort=vm_name&order=desc`);
      expect(names(desc)).to.deep.equal(['gamma', 'delta', 'beta', 'alpha']);
      const p2 = await hub.admin.get(`${VMS}?search=${tag}&sort=vm_name&limit=2&offset=2`);
      expect(p2.body.total).to.equal(4);
      expect(names(p2)).to.deep.equal(['delta', 'gamma']);
    });

    it('gets a VM with its disks, its groups and the flows that protect it directly or through a group', async () => {
      await hub.db.db('vm_disks').insert([
        { vm_context_id: vm.alpha, disk_key: 2001, disk_uuid: 'uuid-b', label: 'Hard disk 2', capacity_bytes: 53687091200, datastore_path: '[ds1] alpha/alpha_1.vmdk', disk_mode: 'persistent' },
        { vm_context_id: vm.alpha, disk_key: 2000, disk_uuid: 'uuid-a', label: 'Hard disk 1', capacity_bytes: 10737418240, datastore_path: '[ds1] alpha/alpha.vmdk', disk_mode: 'persistent' },
      ]);
      const repo = await makeRepository(hub);
      const direct = (await hub.admin.post(F, { name: `${tag} direct`, flow_type: 'backup', target_type: 'vm', target_id: vm.alpha, repository_id: repo.id })).body;
      const viaGroup = (await hub.admin.post(F, { name: `${tag} via group`, flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id })).body;
      await hub.admin.post(F, { name: `${tag} other`, flow_type: 'backup', target_type: 'vm', target_id: vm.delta, repository_id: repo.id });
      const res = await hub.admin.get(`${VMS}/${vm.alpha}`);
      expect(res.status).to.equal(200);
      const v = res.body;
      expect(v).to.include({ context_id: vm.alpha, vm_name: `${tag}-alpha`, vcenter_id: vcA, power_state: 'poweredOn' });
      expect(v.disks).to.deep.equal([
        { disk_key: 2000, disk_uuid: 'uuid-a', label: 'Hard disk 1', capacity_bytes: 10737418240, datastore_path: '[ds1] alpha/alpha.vmdk', disk_mode: 'persistent' },
        { disk_key: 2001, disk_uuid: 'uuid-b', label: 'Hard disk 2', capacity_bytes: 53687091200, datastore_path: '[ds1] alpha/alpha_1.vmdk', disk_mode: 'persistent' },
      ]);
      expect(v.groups).to.have.length(1);
      expect(v.groups[0]).to.include({ id: group, enabled: true });
      expect(v.flows).to.deep.equal([
        { id: direct.id, name: direct.name, via: 'vm' },
        { id: viaGroup.id, name: viaGroup.name, via: 'group' },
      ]);
      const gamma = (await hub.admin.get(`${VMS}/${vm.gamma}`)).body;
      expect(gamma).to.deep.include({ disks: [], groups: [], flows: [], inventory_status: 'missing' });
      const missing = await hub.admin.get(`${VMS}/${randomUUID()}`);
      expect(missing.status).to.equal(404);
      expect(missing.body.error.code).to.equal('VM_NOT_FOUND');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('vCenters', () => {
    const secretBox = () => (hub.api.services.vcenters as unknown as { secrets: { decrypt(s: string): string } }).secrets;
    const thumb = Array.from({ length: 20 }, (_, i) => (i * 7 + 16).toString(16).padStart(2, '0')).join(':');

    it('needs tls_thumbprint or insecure: true, not both (400)', async () => {
      const base = { name: unique('vc'), host: `vc-${randomBytes(3).toString('hex')}.lab.local`, username: 'administrator@vsphere.local', password: 'pw' };
      const none = await hub.admin.post(VC, base);
      expect(none.status).to.equal(400);
      expect(fieldsOf(none)).to.deep.equal(['body.tls_thumbprint']);
      const insecureFalse = await hub.admin.post(VC, { ...base, insecure: false });
      expect(insecureFalse.status).to.equal(400);
      const both = await hub.admin.post(VC, { ...base, tls_thumbprint: thumb, insecure: true });
      expect(both.status).to.equal(400);
      expect(fieldsOf(both)).to.deep.equal(['body.insecure']);
      const badThumb = await hub.admin.post(VC, { ...base, tls_thumbprint: 'AA:BB' });
      expect(fieldsOf(badThumb)).to.deep.equal(['body.tls_thumbprint']);
      expect(await hub.db.db('vcenters').where({ name: base.name }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
      const ok = await hub.admin.post(VC, { ...base, tls_thumbprint: thumb });
      expect(ok.status).to.equal(201);
      expect(ok.body).to.include({ tls_thumbprint: thumb.toUpperCase(), insecure: false, port: 443, has_password: true, vm_count: 0, enabled: true });
      const switched = await hub.admin.put(`${VC}/${ok.body.id}`, { insecure: true });
      expect(switched.status).to.equal(400);
      const cleared = await hub.admin.put(`${VC}/${ok.body.id}`, { tls_thumbprint: null, insecure: true });
      expect(cleared.status).to.equal(200);
      expect(cleared.body).to.include({ tls_thumbprint: null, insecure: true });
    });

    it('never returns the password and stores it encrypted; a new password is re-encrypted', async () => {
      const password = `Pl41n-${randomBytes(8).toString('hex')}`;
      const created = await hub.admin.post(VC, { name: unique('vc'), host: `vc-${randomBytes(3).toString('hex')}.lab.local`, username: 'administrator@vsphere.local', password, insecure: true });
      expect(created.status).to.equal(201);
      const id = created.body.id;
      const row1 = await hub.db.db('vcenters').where({ id }).first();
      expect(row1.password_encrypted).to.match(/^v1:/);
      expect(row1.password_encrypted).to.not.include(password);
      expect(secretBox().decrypt(row1.password_encrypted)).to.equal(password);

      const renamed = await hub.admin.put(`${VC}/${id}`, { name: unique('vc renamed') });
      expect((await hub.db.db('vcenters').where({ id }).first()).password_encrypted).to.equal(row1.password_encrypted);

      const newPassword = `N3w-${randomBytes(8).toString('hex')}`;
      const changed = await hub.admin.put(`${VC}/${id}`, { password: newPassword });
      expect(changed.status).to.equal(200);
      const row2 = await hub.db.db('vcenters').where({ id }).first();
      expect(row2.password_encrypted).to.match(/^v1:/).and.not.equal(row1.password_encrypted);
      expect(row2.password_encrypted).to.not.include(newPassword);
      expect(secretBox().decrypt(row2.password_encrypted)).to.equal(newPassword);

      const got = await hub.admin.get(`${VC}/${id}`);
      const list = await hub.admin.get(`${VC}?search=${encodeURIComponent(renamed.body.host)}`);
      expect(list.body.total).to.equal(1);
      for (const r of [created, renamed, changed, got, list]) {
        const text = JSON.stringify(r.body);
        expect(text).to.not.include(password);
        expect(text).to.not.include(newPassword);
        expect(text).to.not.include('password_encrypted');
        expect(text).to.not.include(row2.password_encrypted);
        expect(text).to.not.match(/"password"/);
      }
      expect(got.body.has_password).to.equal(true);
      const trail = await audit('vcenter', id);
      expect(trail.map((a) => a.action)).to.deep.equal(['vcenter.create', 'vcenter.update', 'vcenter.update']);
      expect(JSON.stringify(trail)).to.not.include(password).and.not.include(newPassword);
    });

    it('refuses a second vCenter on the same host:port (409) and allows another port', async () => {
      const host = `vc-${randomBytes(3).toString('hex')}.lab.local`;
      const a = await hub.admin.post(VC, { name: unique('vc'), host, username: 'u', password: 'p', insecure: true });
      expect(a.status).to.equal(201);
      const dup = await hub.admin.post(VC, { name: unique('vc'), host, port: 443, username: 'u', password: 'p', insecure: true });
      expect(dup.status).to.equal(409);
      expect(dup.body.error.code).to.equal('VCENTER_DUPLICATE');
      const b = await hub.admin.post(VC, { name: unique('vc'), host, port: 8443, username: 'u', password: 'p', insecure: true });
      expect(b.status).to.equal(201);
      const move = await hub.admin.put(`${VC}/${b.body.id}`, { port: 443 });
      expect(move.status).to.equal(409);
      expect(move.body.error.code).to.equal('VCENTER_DUPLICATE');
      const sameName = await hub.admin.post(VC, { name: a.body.name, host: `x${host}`, username: 'u', password: 'p', insecure: true });
      expect(sameName.status).to.equal(409);
    });

    it('delete keeps the VMs, with vcenter_id null', async () => {
      const vc = await makeVcenter(hub);
      const v = await makeVm(hub, { vcenter_id: vc });
      expect((await hub.admin.get(`${VC}/${vc}`)).body.vm_count).to.equal(1);
      const res = await hub.admin.del(`${VC}/${vc}`);
      expect(res.status).to.equal(204);
      const gone = await hub.admin.get(`${VC}/${vc}`);
      expect(gone.status).to.equal(404);
      expect(gone.body.error.code).to.equal('VCENTER_NOT_FOUND');
      const kept = await hub.admin.get(`${VMS}/${v}`);
      expect(kept.status).to.equal(200);
      expect(kept.body).to.include({ vcenter_id: null, vcenter_name: null });
      expect((await audit('vcenter', vc)).map((a) => a.action)).to.deep.equal(['vcenter.create', 'vcenter.delete']);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('backups', () => {
    let vm1: string;
    let vm2: string;
    let repoA: { id: number; name: string };
    let repoB: { id: number; name: string };
    const id = (n: number) => `backup-${n}-${randomUUID()}`;
    const b: string[] = [id(0), id(1), id(2)];
    before(async () => {
      vm1 = await makeVm(hub);
      vm2 = await makeVm(hub);
      repoA = await makeRepository(hub);
      repoB = await makeRepository(hub);
      await hub.db.db('backup_jobs').insert([
        { id: b[0], vm_context_id: vm1, repository_id: repoA.id, backup_type: 'full', requested_type: 'auto', status: 'success', consistency: 'quiesced', bytes_total: 1000, bytes_transferred: 900, bytes_stored: 800, started_at: new Date('2026-01-01T02:00:00Z'), completed_at: new Date('2026-01-01T02:10:00Z'), created_at: new Date('2026-01-01T02:00:00Z'), created_by: 'scheduler' },
        { id: b[1], vm_context_id: vm1, repository_id: repoA.id, backup_type: 'incremental', status: 'failed', error_message: 'snapshot failed', bytes_total: 1000, bytes_transferred: 10, created_at: new Date('2026-01-02T02:00:00Z') },
        { id: b[2], vm_context_id: vm2, repository_id: repoB.id, backup_type: 'full', status: 'running', bytes_transferred: 5000, created_at: new Date('2026-01-03T02:00:00Z') },
      ]);
      await hub.db.db('backup_disks').insert([
        { backup_job_id: b[0], disk_key: 2001, disk_uuid: 'd2', capacity_bytes: 600, backup_mode: 'full', change_id: '52 a1/2', bytes_transferred: 500, status: 'success' },
        { backup_job_id: b[0], disk_key: 2000, disk_uuid: 'd1', capacity_bytes: 400, backup_mode: 'full', change_id: '52 a1/1', bytes_transferred: 400, status: 'success' },
      ]);
    });

    it('lists newest first and filters by VM, repository, status and type', async () => {
      const byVm = await hub.admin.get(`${B}?vm_context_id=${vm1}`);
      expect(byVm.status).to.equal(200);
      expect(byVm.body.total).to.equal(2);
      expect(ids(byVm.body.backups)).to.deep.equal([b[1], b[0]]);
      expect(byVm.body.backups[1]).to.include({ vm_context_id: vm1, repository_id: repoA.id, repository_name: repoA.name, backup_type: 'full', status: 'success', bytes_transferred: 900, created_by: 'scheduler', started_at: '2026-01-01T02:00:00.000Z', completed_at: '2026-01-01T02:10:00.000Z' });
      expect(byVm.body.backups[1].vm_name).to.be.a('string');
      const oldest = await hub.admin.get(`${B}?vm_context_id=${vm1}&sort=created_at&order=asc`);
      expect(ids(oldest.body.backups)).to.deep.equal([b[0], b[1]]);
      expect(ids((await hub.admin.get(`${B}?repository_id=${repoB.id}`)).body.backups)).to.deep.equal([b[2]]);
      expect(ids((await hub.admin.get(`${B}?vm_context_id=${vm1}&status=failed`)).body.backups)).to.deep.equal([b[1]]);
      expect(ids((await hub.admin.get(`${B}?repository_id=${repoA.id}&backup_type=full`)).body.backups)).to.deep.equal([b[0]]);
      const page = await hub.admin.get(`${B}?vm_context_id=${vm1}&limit=1&offset=1`);
      expect(page.body.total).to.equal(2);
      expect(ids(page.body.backups)).to.deep.equal([b[0]]);
      const bad = await hub.admin.get(`${B}?status=great`);
      expect(bad.status).to.equal(400);
      expect(fieldsOf(bad)).to.deep.equal(['query.status']);
    });

    it('gets one backup with its disks; unknown ids are 404 BACKUP_NOT_FOUND', async () => {
      const res = await hub.admin.get(`${B}/${b[0]}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: b[0], consistency: 'quiesced', bytes_total: 1000, bytes_stored: 800, error_message: null });
      expect(res.body.disks).to.deep.equal([
        { disk_key: 2000, disk_uuid: 'd1', capacity_bytes: 400, backup_mode: 'full', change_id: '52 a1/1', bytes_transferred: 400, status: 'success', error_message: null },
        { disk_key: 2001, disk_uuid: 'd2', capacity_bytes: 600, backup_mode: 'full', change_id: '52 a1/2', bytes_transferred: 500, status: 'success', error_message: null },
      ]);
      expect((await hub.admin.get(`${B}/${b[1]}`)).body).to.include({ status: 'failed', error_message: 'snapshot failed', started_at: null });
      const missing = await hub.admin.get(`${B}/backup-none`);
      expect(missing.status).to.equal(404);
      expect(missing.body.error.code).to.equal('BACKUP_NOT_FOUND');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('roles and audit', () => {
    it('a viewer reads but cannot change any of these resources (403)', async () => {
      const viewer = await hub.userClient('viewer');
      for (const p of [S, R, POL, G, VMS, VC, B]) expect((await viewer.get(p)).status, p).to.equal(200);
      const before = await count('audit_log');
      expect((await viewer.post(S, { name: unique('v'), cron_expression: '0 2 * * *' })).status).to.equal(403);
      expect((await viewer.post(G, { name: unique('v') })).status).to.equal(403);
      expect((await viewer.post(POL, { name: unique('v'), retention: { keep_last: 1 } })).status).to.equal(403);
      expect(await count('audit_log')).to.equal(before);
    });

    it('answers carry exactly the documented fields (no internal columns such as password_encrypted or manifest_ref)', async () => {
      const vc = await makeVcenter(hub);
      const vm = await makeVm(hub, { vcenter_id: vc });
      const group = await makeGroup(hub, [vm]);
      const repo = await makeRepository(hub);
      const sched = await makeSchedule(hub);
      const policy = await makePolicy(hub);
      const backupId = `backup-${randomUUID()}`;
      await hub.db.db('backup_jobs').insert({ id: backupId, vm_context_id: vm, repository_id: repo.id, backup_type: 'full', status: 'success', manifest_ref: 'manifests/internal.json' });
      await hub.db.db('schedule_executions').insert({ id: randomUUID(), schedule_id: sched, scheduled_for: new Date(), status: 'missed' });
      expectDocumentedFields((await hub.admin.get(`${S}/${sched}`)).body, ScheduleResponse, 'schedule');
      expectDocumentedFields((await hub.admin.get(`${S}/${sched}/executions`)).body.executions[0], ScheduleExecutionResponse, 'schedule execution');
      expectDocumentedFields((await hub.admin.get(`${R}/${repo.id}`)).body, RepositoryResponse, 'repository');
      expectDocumentedFields((await hub.admin.get(`${POL}/${policy}`)).body, PolicyResponse, 'policy');
      expectDocumentedFields((await hub.admin.get(`${G}/${group}`)).body, GroupResponse, 'group');
      expectDocumentedFields((await hub.admin.get(`${G}/${group}/members`)).body.members[0], GroupMember, 'member');
      expectDocumentedFields((await hub.admin.get(`${VMS}?vcenter_id=${vc}`)).body.vms[0], VmSummary, 'vm summary');
      expectDocumentedFields((await hub.admin.get(`${VMS}/${vm}`)).body, VmResponse, 'vm');
      expectDocumentedFields((await hub.admin.get(`${VC}/${vc}`)).body, VcenterResponse, 'vcenter');
      expectDocumentedFields((await hub.admin.get(`${B}?vm_context_id=${vm}`)).body.backups[0], BackupSummary, 'backup summary');
      const backup = await hub.admin.get(`${B}/${backupId}`);
      expectDocumentedFields(backup.body, BackupResponse, 'backup');
      expect(JSON.stringify(backup.body)).to.not.include('manifests/internal.json');
    });

    it('every kind of change above left an audit_log row with the actor and request id', async () => {
      const rows = (await hub.db.db('audit_log').whereIn('entity_type', ['schedule', 'repository', 'policy', 'machine_group', 'vcenter']).select('action', 'actor', 'request_id')) as { action: string; actor: string; request_id: string | null }[];
      const actions = new Set(rows.map((r) => r.action));
      for (const a of [
        'schedule.create', 'schedule.update', 'schedule.delete',
        'repository.create', 'repository.update', 'repository.delete',
        'policy.create', 'policy.update', 'policy.delete',
        'group.create', 'group.update', 'group.delete', 'group.members.add', 'group.member.disable', 'group.member.enable', 'group.members.remove',
        'vcenter.create', 'vcenter.update', 'vcenter.delete',
      ]) expect(actions, a).to.include(a);
      expect(rows.every((r) => r.actor.length > 0 && typeof r.request_id === 'string' && r.request_id.length > 0)).to.equal(true);
    });
  });
});
