import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { PolicyResponse } from '@vaultflow/schemas';
import { startHub, unique, type TestHub } from '../support/hub.js';
import { makeBackupFlow, makePolicy, makeRepository } from '../support/fixtures.js';
import { PATHS, auditOf, countRows, expectAuditedActions, expectDocumentedFields, fieldsOf, ids } from '../support/api-helpers.js';

const POL = PATHS.policies;
const R = PATHS.repositories;
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
  describe('roles and audit', () => {
    it('a viewer reads but cannot change policies (403)', async () => {
      const viewer = await hub.userClient('viewer');
      expect((await viewer.get(POL)).status, POL).to.equal(200);
      const before = await count('audit_log');
      expect((await viewer.post(POL, { name: unique('v'), retention: { keep_last: 1 } })).status).to.equal(403);
      expect(await count('audit_log')).to.equal(before);
    });

    it('answers carry exactly the documented fields', async () => {
      const policy = await makePolicy(hub);
      expectDocumentedFields((await hub.admin.get(`${POL}/${policy}`)).body, PolicyResponse, 'policy');
    });

    it('every kind of change above left an audit_log row with the actor and request id', async () => {
      await expectAuditedActions(hub, ['policy'], ['policy.create', 'policy.update', 'policy.delete']);
    });
  });
});
