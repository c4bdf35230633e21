import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { GroupMember, GroupResponse } from '@vaultflow/schemas';
import { startHub, unique, type TestHub } from '../support/hub.js';
import { makeGroup, makeRepository, makeVm } from '../support/fixtures.js';
import { PATHS, auditOf, countRows, expectAuditedActions, expectDocumentedFields, fieldsOf, ids } from '../support/api-helpers.js';

const G = PATHS.groups;
const VMS = PATHS.vms;
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
  describe('roles and audit', () => {
    it('a viewer reads but cannot change machine groups (403)', async () => {
      const viewer = await hub.userClient('viewer');
      expect((await viewer.get(G)).status, G).to.equal(200);
      const before = await count('audit_log');
      expect((await viewer.post(G, { name: unique('v') })).status).to.equal(403);
      expect(await count('audit_log')).to.equal(before);
    });

    it('answers carry exactly the documented fields', async () => {
      const vm = await makeVm(hub);
      const group = await makeGroup(hub, [vm]);
      expectDocumentedFields((await hub.admin.get(`${G}/${group}`)).body, GroupResponse, 'group');
      expectDocumentedFields((await hub.admin.get(`${G}/${group}/members`)).body.members[0], GroupMember, 'member');
    });

    it('every kind of change above left an audit_log row with the actor and request id', async () => {
      await expectAuditedActions(hub, ['machine_group'], ['group.create', 'group.update', 'group.delete', 'group.members.add', 'group.member.disable', 'group.member.enable', 'group.members.remove']);
    });
  });
});
