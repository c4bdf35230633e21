import { expect } from 'chai';
import { Queue } from 'bullmq';
import { startHub, unique, type TestHub } from '../support/hub.js';
import { makeBackupFlow, makeGroup, makePolicy, makeRepository, makeSchedule, makeVm } from '../support/fixtures.js';

const P = '/api/v1/protection-flows';

describe('flows-api: protection flows', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => hub?.stop());

  describe('create and read', () => {
    it('creates a group backup flow as in the job sheet and answers the FlowResponse shape', async () => {
      const vms = [await makeVm(hub), await makeVm(hub)];
      const group = await makeGroup(hub, vms);
      const repo = await makeRepository(hub);
      const policy = await makePolicy(hub);
      const schedule = await makeSchedule(hub, '0 2 * * *');
      const name = unique('Daily VM Backup - Production');
      const res = await hub.admin.post(P, {
        name, description: 'Automated daily backup of production VMs', flow_type: 'backup', target_type: 'group', target_id: group,
        repository_id: repo.id, policy_id: policy, schedule_id: schedule, enabled: true,
      });
      expect(res.status).to.equal(201);
      const f = res.body;
      expect(f.id).to.match(/^[0-9a-f-]{36}$/);
      expect(f).to.include({ name, flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id, repository_name: repo.name, policy_id: policy, schedule_id: schedule, schedule_cron: '0 2 * * *', enabled: true, created_by: 'bootstrap-token' });
      expect(f.target_name).to.be.a('string').and.match(/^group /);
      expect(f.policy_name).to.match(/^policy /);
      expect(f.schedule_name).to.match(/^schedule /);
      expect(f.status).to.include({ last_execution_id: null, last_execution_status: 'pending', total_executions: 0, successful_executions: 0, failed_executions: 0 });
      const next = new Date(f.status.next_execution_time);
      expect(next.getTime()).to.be.greaterThan(Date.now());
      expect(next.getUTCHours()).to.equal(2);
      expect(next.getUTCMinutes()).to.equal(0);
      const got = await hub.admin.get(`${P}/${f.id}`);
      expect(got.status).to.equal(200);
      expect(got.body).to.deep.equal(f);
    });

    it('creates a replication flow with a destination and no repository', async () => {
      const vm = await makeVm(hub);
      const res = await hub.admin.post(P, { name: unique('repl'), flow_type: 'replication', target_type: 'vm', target_id: vm, destination_type: 'vmware', destination_config: { datastore: 'ds1' } });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ flow_type: 'replication', destination_type: 'vmware', repository_id: null });
      expect(res.body.destination_config).to.deep.equal({ datastore: 'ds1' });
      expect(res.body.status.next_execution_time).to.equal(null);
    });

    it('bounds destination_config: 64 keys of <= 128 characters, strings <= 4096, JSON <= 16 KiB, depth <= 8 (400, nothing written), on create and update', async () => {
      const vm = await makeVm(hub);
      const repl = (config: unknown) => ({ name: unique('repl cfg'), flow_type: 'replication', target_type: 'vm', target_id: vm, destination_type: 'vmware', destination_config: config });
      /** `leaf` wrapped in objects until the whole value is `depth` containers deep. */
      const nested = (depth: number, leaf: unknown = 'x'): unknown => {
        let v: unknown = leaf;
        for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
        return v;
      };
      const ok = { datastore: 'ds1', note: 'n'.repeat(4096), port: 902, ratio: 0.5, thin: true, folder: null, tags: ['a', 1, false, null], deep: nested(7) };
      const made = await hub.admin.post(P, repl(ok));
      expect(made.status, JSON.stringify(made.body)).to.equal(201);
      expect(made.body.destination_config).to.deep.equal(ok);
      expect((await hub.admin.get(`${P}/${made.body.id}`)).body.destination_config).to.deep.equal(ok);

      const before = await hub.db.db('protection_flows').count({ n: '*' }).first();
      const DEEP = '<100000 nested arrays>';
      const bad: Record<string, unknown> = {
        'a key of 129 characters': { ['k'.repeat(129)]: 1 },
        '65 keys': Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])),
        'a string of 4097 characters': { note: 'n'.repeat(4097) },
        'a nested string of 4097 characters': { list: [{ note: 'n'.repeat(4097) }] },
        'depth 9': { deep: nested(8) },
        'depth 40 (deeper than MariaDB JSON allows)': { deep: nested(39) },
        'depth 100000': { deep: DEEP },
        'more than 16 KiB of JSON': { a: 'a'.repeat(4000), b: 'b'.repeat(4000), c: 'c'.repeat(4000), d: 'd'.repeat(4000), e: 'e'.repeat(500) },
        'not an object': ['ds1'],
      };
      // Too deep for JSON.stringify here: the client sends that one as text.
      const text = (body: unknown) => JSON.stringify(body).replace(JSON.stringify(DEEP), `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
      for (const [what, config] of Object.entries(bad)) {
        const res = await hub.admin.post(P, text(repl(config)));
        expect(res.status, what).to.equal(400);
        const fields = (res.body.error.details as { field: string }[]).map((d) => d.field);
        expect(fields.length, what).to.be.greaterThan(0);
        for (const f of fields) expect(f, what).to.match(/^body\.destination_config(\.|$)/);
        const upd = await hub.admin.put(`${P}/${made.body.id}`, text({ destination_config: config }));
        expect(upd.status, `update: ${what}`).to.equal(400);
      }
      expect(await hub.db.db('protection_flows').count({ n: '*' }).first()).to.deep.equal(before);
      expect((await hub.admin.get(`${P}/${made.body.id}`)).body.destination_config).to.deep.equal(ok);
    });

    it('rejects a backup flow without repository_id and a replication flow without destination_type (400 naming the field)', async () => {
      const vm = await makeVm(hub);
      const a = await hub.admin.post(P, { name: unique('x'), flow_type: 'backup', target_type: 'vm', target_id: vm });
      expect(a.status).to.equal(400);
      expect(a.body.error.code).to.equal('FLOW_INVALID');
      expect(a.body.error.details).to.deep.include({ field: 'body.repository_id', message: 'is required for a backup flow' });
      const b = await hub.admin.post(P, { name: unique('x'), flow_type: 'replication', target_type: 'vm', target_id: vm });
      expect(b.status).to.equal(400);
      expect(b.body.error.details[0].field).to.equal('body.destination_type');
    });

    it('answers 422 naming every reference that does not exist, and writes nothing', async () => {
      const before = await hub.db.db('protection_flows').count({ n: '*' }).first();
      const res = await hub.admin.post(P, { name: unique('bad refs'), flow_type: 'backup', target_type: 'group', target_id: 'no-such-group', repository_id: 999999, policy_id: 999999, schedule_id: 'no-such-schedule' });
      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('REFERENCE_NOT_FOUND');
      expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).to.deep.equal(['body.policy_id', 'body.repository_id', 'body.schedule_id', 'body.target_id']);
      const after = await hub.db.db('protection_flows').count({ n: '*' }).first();
      expect(after).to.deep.equal(before);
    });

    it('refuses a duplicate name with 409 FLOW_NAME_TAKEN', async () => {
      const f = await makeBackupFlow(hub);
      const res = await hub.admin.post(P, { name: f.name, flow_type: 'backup', target_type: 'vm', target_id: f.target_id, repository_id: f.repository_id });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('FLOW_NAME_TAKEN');
      expect(res.body.error.request_id).to.be.a('string').and.not.equal('');
    });

    it('answers 404 FLOW_NOT_FOUND for an unknown id', async () => {
      const res = await hub.admin.get(`${P}/00000000-0000-0000-0000-000000000000`);
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('FLOW_NOT_FOUND');
    });
  });

  describe('list', () => {
    let repoId: number;
    const ids: string[] = [];
    before(async () => {
      repoId = (await makeRepository(hub)).id;
      const vm = await makeVm(hub);
      for (const [i, type] of (['backup', 'backup', 'replication'] as const).entries()) {
        const body = type === 'backup'
          ? { name: unique(`list-${i}`), flow_type: type, target_type: 'vm', target_id: vm, repository_id: repoId, enabled: i !== 1 }
          : { name: unique(`list-${i}`), flow_type: type, target_type: 'vm', target_id: vm, destination_type: 'ossea' };
        ids.push((await hub.admin.post(P, body)).body.id);
      }
    });

    it('returns {flows, total} and filters by type, enabled, repository and search', async () => {
      const all = await hub.admin.get(P);
      expect(all.status).to.equal(200);
      expect(all.body.total).to.be.at.least(3);
      expect(all.body.flows.length).to.equal(Math.min(all.body.total, 100));
      const byRepo = await hub.admin.get(`${P}?repository_id=${repoId}`);
      expect(byRepo.body.flows.map((f: { id: string }) => f.id).sort()).to.deep.equal([ids[0], ids[1]].sort());
      const disabled = await hub.admin.get(`${P}?repository_id=${repoId}&enabled=false`);
      expect(disabled.body.flows.map((f: { id: string }) => f.id)).to.deep.equal([ids[1]]);
      const repl = await hub.admin.get(`${P}?flow_type=replication&target_type=vm`);
      expect(repl.body.flows.every((f: { flow_type: string }) => f.flow_type === 'replication')).to.equal(true);
      expect(repl.body.flows.map((f: { id: string }) => f.id)).to.include(ids[2]);
      const search = await hub.admin.get(`${P}?search=${encodeURIComponent('list-2')}`);
      expect(search.body.flows.map((f: { id: string }) => f.id)).to.deep.equal([ids[2]]);
    });

    it('sorts and pages', async () => {
      const page1 = await hub.admin.get(`${P}?sort=name&order=desc&limit=2&offset=0`);
      const page2 = await hub.admin.get(`${P}?sort=name&order=desc&limit=2&offset=2`);
      expect(page1.body.flows).to.have.length(2);
      const names = [...page1.body.flows, ...page2.body.flows].map((f: { name: string }) => f.name);
      expect(names).to.deep.equal([...names].sort().reverse());
      expect(page1.body.total).to.equal(page2.body.total);
    });

    it('rejects unknown filters and bad values with 400 naming the parameter', async () => {
      const a = await hub.admin.get(`${P}?flow_type=snapshot`);
      expect(a.status).to.equal(400);
      expect(a.body.error.details[0].field).to.equal('query.flow_type');
      const b = await hub.admin.get(`${P}?colour=red`);
      expect(b.status).to.equal(400);
      expect(b.body.error.details[0].field).to.equal('query.colour');
      const c = await hub.admin.get(`${P}?limit=0`);
      expect(c.body.error.details[0].field).to.equal('query.limit');
    });
  });

  describe('update, enable, disable, delete', () => {
    it('PUT accepts a partial body and keeps the other fields', async () => {
      const f = await makeBackupFlow(hub, { description: 'before' });
      const res = await hub.admin.put(`${P}/${f.id}`, { description: 'after' });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ description: 'after', name: f.name, repository_id: f.repository_id, target_id: f.target_id });
    });

    it('PUT validates the merged flow (switching to replication needs a destination and no repository)', async () => {
      const f = await makeBackupFlow(hub);
      const bad = await hub.admin.put(`${P}/${f.id}`, { flow_type: 'replication' });
      expect(bad.status).to.equal(400);
      const fields = bad.body.error.details.map((d: { field: string }) => d.field);
      expect(fields).to.include('body.destination_type');
      const ok = await hub.admin.put(`${P}/${f.id}`, { flow_type: 'replication', destination_type: 'hyperv', repository_id: null });
      expect(ok.status).to.equal(200);
      expect(ok.body).to.include({ flow_type: 'replication', destination_type: 'hyperv', repository_id: null });
    });

    it('PUT with an empty body is a 400', async () => {
      const f = await makeBackupFlow(hub);
      const res = await hub.admin.put(`${P}/${f.id}`, {});
      expect(res.status).to.equal(400);
    });

    it('attaching a schedule sets next_execution_time; disabling clears it and keeps the configuration', async () => {
      const schedule = await makeSchedule(hub, '30 4 * * *', 'Europe/Berlin');
      const f = await makeBackupFlow(hub);
      expect(f.status.next_execution_time).to.equal(null);
      const withSchedule = await hub.admin.put(`${P}/${f.id}`, { schedule_id: schedule });
      const next = withSchedule.body.status.next_execution_time;
      expect(next).to.be.a('string');
      expect(new Date(next).toLocaleString('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' })).to.equal('04:30');
      const disabled = await hub.admin.patch(`${P}/${f.id}/disable`);
      expect(disabled.status).to.equal(200);
      expect(disabled.body.enabled).to.equal(false);
      expect(disabled.body.schedule_id).to.equal(schedule);
      expect(disabled.body.status.next_execution_time).to.equal(null);
      const enabled = await hub.admin.patch(`${P}/${f.id}/enable`);
      expect(enabled.body.enabled).to.equal(true);
      expect(enabled.body.status.next_execution_time).to.equal(next);
      const status = await hub.admin.get(`${P}/${f.id}/status`);
      expect(status.body).to.deep.equal(enabled.body.status);
    });

    it('DELETE removes the flow and its executions (204, then 404)', async () => {
      const f = await makeBackupFlow(hub);
      expect((await hub.admin.post(`${P}/${f.id}/execute`)).status).to.equal(202);
      const del = await hub.admin.del(`${P}/${f.id}`);
      expect(del.status).to.equal(204);
      expect((await hub.admin.get(`${P}/${f.id}`)).status).to.equal(404);
      const rows = await hub.db.db('protection_flow_executions').where({ flow_id: f.id });
      expect(rows).to.have.length(0);
      expect((await hub.admin.del(`${P}/${f.id}`)).status).to.equal(404);
    });
  });

  describe('bulk operations', () => {
    it('bulk-disable and bulk-enable change every listed flow', async () => {
      const a = await makeBackupFlow(hub);
      const b = await makeBackupFlow(hub);
      const off = await hub.admin.post(`${P}/bulk-disable`, { flow_ids: [a.id, b.id] });
      expect(off.status).to.equal(200);
      expect(off.body).to.deep.equal({ affected: 2, flow_ids: [a.id, b.id] });
      for (const id of [a.id, b.id]) expect((await hub.admin.get(`${P}/${id}`)).body.enabled).to.equal(false);
      await hub.admin.post(`${P}/bulk-enable`, { flow_ids: [a.id, b.id] });
      for (const id of [a.id, b.id]) expect((await hub.admin.get(`${P}/${id}`)).body.enabled).to.equal(true);
    });

    it('is all or nothing: one unknown id changes nothing (422 naming it)', async () => {
      const a = await makeBackupFlow(hub);
      const res = await hub.admin.post(`${P}/bulk-delete`, { flow_ids: [a.id, 'does-not-exist'] });
      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('FLOWS_NOT_FOUND');
      expect(res.body.error.details).to.deep.equal([{ field: 'body.flow_ids.1', message: 'flow does-not-exist does not exist' }]);
      expect((await hub.admin.get(`${P}/${a.id}`)).status).to.equal(200);
    });

    it('bulk-delete removes the flows', async () => {
      const a = await makeBackupFlow(hub);
      const b = await makeBackupFlow(hub);
      const res = await hub.admin.post(`${P}/bulk-delete`, { flow_ids: [a.id, b.id] });
      expect(res.body.affected).to.equal(2);
      expect((await hub.admin.get(`${P}/${a.id}`)).status).to.equal(404);
      expect((await hub.admin.get(`${P}/${b.id}`)).status).to.equal(404);
    });

    it('rejects duplicates and empty lists', async () => {
      expect((await hub.admin.post(`${P}/bulk-enable`, { flow_ids: [] })).status).to.equal(400);
      expect((await hub.admin.post(`${P}/bulk-enable`, { flow_ids: ['a', 'a'] })).status).to.equal(400);
    });
  });

  describe('execute', () => {
    it('answers 202 with a pending execution and puts a flow.run job on flow-runs', async () => {
      const f = await makeBackupFlow(hub);
      const res = await hub.admin.post(`${P}/${f.id}/execute`);
      expect(res.status).to.equal(202);
      const e = res.body;
      expect(e).to.include({ flow_id: f.id, flow_name: f.name, status: 'pending', execution_type: 'api', triggered_by: 'bootstrap-token', jobs_created: 0 });
      expect(e.created_job_ids).to.deep.equal([]);
      const queue = new Queue('flow-runs', { connection: hub.redis, prefix: hub.prefix });
      try {
        const job = await queue.getJob(`exec-${e.id}`);
        expect(job, 'job on flow-runs').to.not.equal(undefined);
        expect(job!.name).to.equal('flow.run');
        expect(job!.data).to.deep.equal({ flow_id: f.id, execution_id: e.id });
        expect(await job!.getState()).to.equal('waiting');
      } finally {
        await queue.close();
      }
      const list = await hub.admin.get(`${P}/${f.id}/executions`);
      expect(list.body.total).to.equal(1);
      expect(list.body.executions[0]).to.deep.equal(e);
      const one = await hub.admin.get(`${P}/${f.id}/executions/${e.id}`);
      expect(one.body).to.deep.include(e);
      expect(one.body.vms).to.deep.equal([]);
      expect(one.body.progress).to.include({ vms_total: 0, percent: null });
    });

    it('marks a run started from a login session as manual, triggered by the user', async () => {
      const operator = await hub.userClient('operator');
      const me = (await operator.get('/api/v1/auth/me')).body;
      const f = await makeBackupFlow(hub);
      const res = await operator.post(`${P}/${f.id}/execute`);
      expect(res.status).to.equal(202);
      expect(res.body).to.include({ execution_type: 'manual', triggered_by: me.username });
    });

    it('refuses a second run while one is pending (409) and a disabled flow (409)', async () => {
      const f = await makeBackupFlow(hub);
      const first = await hub.admin.post(`${P}/${f.id}/execute`);
      const second = await hub.admin.post(`${P}/${f.id}/execute`);
      expect(second.status).to.equal(409);
      expect(second.body.error.code).to.equal('EXECUTION_IN_PROGRESS');
      expect(second.body.error.message).to.include(first.body.id);
      const g = await makeBackupFlow(hub, { enabled: false });
      const r = await hub.admin.post(`${P}/${g.id}/execute`);
      expect(r.status).to.equal(409);
      expect(r.body.error.code).to.equal('FLOW_DISABLED');
    });

    it('keeps nothing when the queue cannot take the job (503 QUEUE_UNAVAILABLE)', async () => {
      const f = await makeBackupFlow(hub);
      const producer = (hub.api.services.runs as unknown as { producer: { enqueueExecution: unknown } }).producer;
      const original = producer.enqueueExecution;
      producer.enqueueExecution = async () => { throw new Error('connection refused'); };
      try {
        const res = await hub.admin.post(`${P}/${f.id}/execute`);
        expect(res.status).to.equal(503);
        expect(res.body.error.code).to.equal('QUEUE_UNAVAILABLE');
      } finally {
        producer.enqueueExecution = original;
      }
      expect(await hub.db.db('protection_flow_executions').where({ flow_id: f.id })).to.have.length(0);
    });

    it('lists executions newest first with paging and a status filter', async () => {
      const f = await makeBackupFlow(hub);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const e = await hub.admin.post(`${P}/${f.id}/execute`);
        ids.push(e.body.id);
        // finish it so the next run is allowed
        await hub.db.db('protection_flow_executions').where({ id: e.body.id }).update({ status: i === 1 ? 'error' : 'success', started_at: new Date(Date.now() + i * 1000) });
      }
      const list = await hub.admin.get(`${P}/${f.id}/executions?limit=2`);
      expect(list.body.total).to.equal(3);
      expect(list.body.executions.map((e: { id: string }) => e.id)).to.deep.equal([ids[2], ids[1]]);
      const errors = await hub.admin.get(`${P}/${f.id}/executions?status=error`);
      expect(errors.body.executions.map((e: { id: string }) => e.id)).to.deep.equal([ids[1]]);
      expect((await hub.admin.get(`${P}/${f.id}/executions/${ids[0]}`)).status).to.equal(200);
      const other = await makeBackupFlow(hub);
      expect((await hub.admin.get(`${P}/${other.id}/executions/${ids[0]}`)).status).to.equal(404);
    });
  });

  describe('test (dry run)', () => {
    it('reports a healthy group flow as valid with its next five fires', async () => {
      const group = await makeGroup(hub, [await makeVm(hub), await makeVm(hub)]);
      const repo = await makeRepository(hub);
      const policy = await makePolicy(hub);
      const schedule = await makeSchedule(hub, '*/15 * * * *');
      const f = (await hub.admin.post(P, { name: unique('test ok'), flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id, policy_id: policy, schedule_id: schedule })).body;
      const before = await hub.admin.get(`${P}/${f.id}`);
      const res = await hub.admin.post(`${P}/${f.id}/test`);
      expect(res.status).to.equal(200);
      expect(res.body.valid, JSON.stringify(res.body)).to.equal(true);
      expect(res.body.errors).to.deep.equal([]);
      expect(res.body.next_fire_times).to.have.length(5);
      const gaps = res.body.next_fire_times.slice(1).map((t: string, i: number) => Date.parse(t) - Date.parse(res.body.next_fire_times[i]));
      expect(gaps.every((g: number) => g === 15 * 60_000)).to.equal(true);
      expect(res.body.checks.map((c: { name: string }) => c.name)).to.include.members(['target', 'repository', 'policy', 'schedule']);
      // the fixture's policy keeps the last 7 and 4 weekly
      expect(res.body.checks.find((c: { name: string }) => c.name === 'policy').message).to.match(/^Retention policy ".+" keeps the last 7 and 4 weekly restore point\(s\) per VM after each backup \(the newest always\)$/);
      expect((await hub.admin.get(`${P}/${f.id}`)).body).to.deep.equal(before.body);
    });

    it('reports a group without enabled members and a disabled repository as errors', async () => {
      const vm = await makeVm(hub);
      const group = await makeGroup(hub, [vm]);
      await hub.admin.patch(`/api/v1/machine-groups/${group}/members/${vm}`, { enabled: false });
      const repo = await makeRepository(hub);
      const f = (await hub.admin.post(P, { name: unique('test bad'), flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id })).body;
      await hub.admin.put(`/api/v1/repositories/${repo.id}`, { enabled: false });
      const res = await hub.admin.post(`${P}/${f.id}/test`);
      expect(res.body.valid).to.equal(false);
      expect(res.body.errors.join('\n')).to.match(/no enabled members/).and.match(/is disabled/);
      expect(res.body.warnings.join('\n')).to.match(/No schedule/).and.match(/No retention policy/);
    });
  });

  describe('summary', () => {
    it('is not swallowed by /{id} and counts flows and today\'s executions', async () => {
      const before = (await hub.admin.get(`${P}/summary`)).body;
      const f = await makeBackupFlow(hub);
      await makeBackupFlow(hub, { enabled: false });
      const e = (await hub.admin.post(`${P}/${f.id}/execute`)).body;
      await hub.db.db('protection_flow_executions').where({ id: e.id }).update({ status: 'error' });
      const after = await hub.admin.get(`${P}/summary`);
      expect(after.status).to.equal(200);
      expect(after.body.total_flows - before.total_flows).to.equal(2);
      expect(after.body.enabled_flows - before.enabled_flows).to.equal(1);
      expect(after.body.disabled_flows - before.disabled_flows).to.equal(1);
      expect(after.body.backup_flows - before.backup_flows).to.equal(2);
      expect(after.body.total_executions_today - before.total_executions_today).to.equal(1);
      expect(after.body.failed_executions_today - before.failed_executions_today).to.equal(1);
      const berlin = await hub.admin.get(`${P}/summary?timezone=Europe/Berlin`);
      expect(berlin.status).to.equal(200);
      expect(new Date(berlin.body.day_start).toLocaleTimeString('en-GB', { timeZone: 'Europe/Berlin' })).to.equal('00:00:00');
      const bad = await hub.admin.get(`${P}/summary?timezone=Mars/Base`);
      expect(bad.status).to.equal(400);
      expect(bad.body.error.details[0].field).to.equal('query.timezone');
    });
  });
});
