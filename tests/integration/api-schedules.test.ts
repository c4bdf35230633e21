import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { ScheduleExecutionResponse, ScheduleResponse } from '@vaultflow/schemas';
import { startHub, unique, type TestHub } from '../support/hub.js';
import { makeBackupFlow, makeSchedule } from '../support/fixtures.js';
import { PATHS, auditOf, countRows, expectAuditedActions, expectDocumentedFields, fieldsOf, ids, wallClock } from '../support/api-helpers.js';

const S = PATHS.schedules;
const F = PATHS.flows;

describe('flows-api: supporting resources', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => hub?.stop());

  const audit = (entityType: string, entityId: string | number) => auditOf(hub, entityType, entityId);
  const count = (table: string) => countRows(hub, table);

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

    it('stores a zone under its canonical IANA name, however it was typed, on create and on update', async () => {
      const res = await hub.admin.post(S, { name: unique('typed zone'), cron_expression: '0 2 * * *', timezone: 'europe/berlin' });
      expect(res.status).to.equal(201);
      expect(res.body.timezone).to.equal('Europe/Berlin');
      const id = res.body.id as string;
      expect((await hub.db.db('replication_schedules').where({ id }).first()).timezone).to.equal('Europe/Berlin');
      expect(wallClock(res.body.next_fire_time, 'Europe/Berlin').slice(11)).to.equal('02:00');
      const upd = await hub.admin.put(`${S}/${id}`, { timezone: 'ASIA/TOKYO' });
      expect(upd.status).to.equal(200);
      expect(upd.body.timezone).to.equal('Asia/Tokyo');
      expect((await hub.db.db('replication_schedules').where({ id }).first()).timezone).to.equal('Asia/Tokyo');
      expect((await hub.admin.get(`${S}/${id}/preview?count=1`)).body.timezone).to.equal('Asia/Tokyo');
      const utc = await hub.admin.post(S, { name: unique('typed utc'), cron_expression: '0 2 * * *', timezone: 'utc' });
      expect(utc.body.timezone).to.equal('UTC');
      // an update that does not touch the zone keeps it as stored
      expect((await hub.admin.put(`${S}/${id}`, { description: 'tokyo' })).body.timezone).to.equal('Asia/Tokyo');
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
  describe('roles and audit', () => {
    it('a viewer reads but cannot change schedules (403)', async () => {
      const viewer = await hub.userClient('viewer');
      expect((await viewer.get(S)).status, S).to.equal(200);
      const before = await count('audit_log');
      expect((await viewer.post(S, { name: unique('v'), cron_expression: '0 2 * * *' })).status).to.equal(403);
      expect(await count('audit_log')).to.equal(before);
    });

    it('answers carry exactly the documented fields', async () => {
      const sched = await makeSchedule(hub);
      await hub.db.db('schedule_executions').insert({ id: randomUUID(), schedule_id: sched, scheduled_for: new Date(), status: 'missed' });
      expectDocumentedFields((await hub.admin.get(`${S}/${sched}`)).body, ScheduleResponse, 'schedule');
      expectDocumentedFields((await hub.admin.get(`${S}/${sched}/executions`)).body.executions[0], ScheduleExecutionResponse, 'schedule execution');
    });

    it('every kind of change above left an audit_log row with the actor and request id', async () => {
      await expectAuditedActions(hub, ['schedule'], ['schedule.create', 'schedule.update', 'schedule.delete']);
    });
  });
});
