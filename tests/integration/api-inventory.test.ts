import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { BackupResponse, BackupSummary, VcenterResponse, VmResponse, VmSummary } from '@vaultflow/schemas';
import { startHub, unique, type HttpResult, type TestHub } from '../support/hub.js';
import { startVcsim, type Vcsim } from '@vaultflow/testing';
import { makeGroup, makeRepository, makeVcenter, makeVm } from '../support/fixtures.js';
import { startTlsFront, vcsimEndpoint, type TlsFront } from '../support/vcenter-lab.js';
import { PATHS, auditOf, countRows, expectAuditedActions, expectDocumentedFields, fieldsOf, ids } from '../support/api-helpers.js';

const VMS = PATHS.vms;
const VC = PATHS.vcenters;
const B = PATHS.backups;
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
    // Registration logs in for real: the simulator (plain http) and https fronts of it (TLS) are the vCenters here.
    let vc: Vcsim;
    let fronts: TlsFront[];
    before(async () => {
      vc = await startVcsim({ vms: 1, disks: 1 });
      fronts = [await startTlsFront(vc.url), await startTlsFront(vc.url)];
    });
    after(async () => {
      for (const f of fronts ?? []) await f.stop();
      await vc?.stop();
    });
    /** Every string value of an answer, nested ones included. */
    const values = (x: unknown): string[] => (typeof x === 'string' ? [x] : x && typeof x === 'object' ? Object.values(x).flatMap(values) : []);

    it('needs tls_thumbprint or insecure: true, not both (400); pins the thumbprint it is given', async () => {
      const front = fronts[0]!;
      const base = { name: unique('vc'), host: front.host, port: front.port, username: vc.username, password: vc.password };
      const none = await hub.admin.post(VC, base);
      expect(none.status).to.equal(400);
      expect(fieldsOf(none)).to.deep.equal(['body.tls_thumbprint']);
      const insecureFalse = await hub.admin.post(VC, { ...base, insecure: false });
      expect(insecureFalse.status).to.equal(400);
      const both = await hub.admin.post(VC, { ...base, tls_thumbprint: front.sha1, insecure: true });
      expect(both.status).to.equal(400);
      expect(fieldsOf(both)).to.deep.equal(['body.insecure']);
      const badThumb = await hub.admin.post(VC, { ...base, tls_thumbprint: 'AA:BB' });
      expect(fieldsOf(badThumb)).to.deep.equal(['body.tls_thumbprint']);
      expect(await hub.db.db('vcenters').where({ name: base.name }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
      const ok = await hub.admin.post(VC, { ...base, tls_thumbprint: front.sha1.toLowerCase() });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
      expect(ok.body).to.include({ tls_thumbprint: front.sha1, insecure: false, port: front.port, protocol: 'https', has_password: true, vm_count: 1, enabled: true });
      const switched = await hub.admin.put(`${VC}/${ok.body.id}`, { insecure: true });
      expect(switched.status).to.equal(400);
      const cleared = await hub.admin.put(`${VC}/${ok.body.id}`, { tls_thumbprint: null, insecure: true });
      expect(cleared.status).to.equal(200);
      expect(cleared.body).to.include({ tls_thumbprint: null, insecure: true });
    });

    it('never returns the password and stores it encrypted; a new password is checked, then re-encrypted', async () => {
      const password = vc.password;
      const created = await hub.admin.post(VC, { name: unique('vc'), ...vcsimEndpoint(vc) });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const id = created.body.id;
      const row1 = await hub.db.db('vcenters').where({ id }).first();
      expect(row1.password_encrypted).to.match(/^v1:/);
      expect(row1.password_encrypted).to.not.include(password);
      expect(secretBox().decrypt(row1.password_encrypted)).to.equal(password);

      const renamed = await hub.admin.put(`${VC}/${id}`, { name: unique('vc renamed') });
      expect((await hub.db.db('vcenters').where({ id }).first()).password_encrypted).to.equal(row1.password_encrypted);

      const wrong = `N3w-${randomBytes(8).toString('hex')}`;
      const refused = await hub.admin.put(`${VC}/${id}`, { password: wrong });
      expect(refused.status).to.equal(422);
      expect(refused.body.error.code).to.equal('VCENTER_LOGIN_FAILED');
      expect(fieldsOf(refused)).to.deep.equal(['body.password']);
      expect((await hub.db.db('vcenters').where({ id }).first()).password_encrypted).to.equal(row1.password_encrypted);

      const changed = await hub.admin.put(`${VC}/${id}`, { password });
      expect(changed.status).to.equal(200);
      const row2 = await hub.db.db('vcenters').where({ id }).first();
      expect(row2.password_encrypted).to.match(/^v1:/).and.not.equal(row1.password_encrypted);
      expect(secretBox().decrypt(row2.password_encrypted)).to.equal(password);

      const got = await hub.admin.get(`${VC}/${id}`);
      const list = await hub.admin.get(`${VC}?search=${encodeURIComponent(renamed.body.name)}`);
      expect(list.body.total).to.equal(1);
      for (const r of [created, renamed, refused, changed, got, list]) {
        const text = JSON.stringify(r.body);
        expect(values(r.body).filter((v) => v === password || v.includes(wrong))).to.deep.equal([]);
        expect(text).to.not.include('password_encrypted');
        expect(text).to.not.include(row2.password_encrypted);
        expect(text).to.not.match(/"password"/);
      }
      expect(got.body.has_password).to.equal(true);
      const trail = await audit('vcenter', id);
      expect(trail.map((a) => a.action)).to.deep.equal(['vcenter.create', 'vcenter.update', 'vcenter.update']);
      expect(values(trail).filter((v) => v === password || v.includes(wrong))).to.deep.equal([]);
    });

    it('refuses a second vCenter on the same host:port (409) and allows another port', async () => {
      const front = fronts[1]!;
      const creds = { username: vc.username, password: vc.password, insecure: true };
      const a = await hub.admin.post(VC, { name: unique('vc'), host: front.host, port: front.port, ...creds });
      expect(a.status, JSON.stringify(a.body)).to.equal(201);
      const dup = await hub.admin.post(VC, { name: unique('vc'), host: front.host, port: front.port, ...creds });
      expect(dup.status).to.equal(409);
      expect(dup.body.error.code).to.equal('VCENTER_DUPLICATE');
      const b = await hub.admin.post(VC, { name: unique('vc'), ...vcsimEndpoint(vc), host: 'localhost' }); // 127.0.0.1:<port> is taken above
      expect(b.status, JSON.stringify(b.body)).to.equal(201);
      const move = await hub.admin.put(`${VC}/${b.body.id}`, { host: front.host, port: front.port });
      expect(move.status).to.equal(409);
      expect(move.body.error.code).to.equal('VCENTER_DUPLICATE');
      const sameName = await hub.admin.post(VC, { name: a.body.name, host: 'localhost', port: front.port, ...creds });
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
      expect((await audit('vcenter', vc)).map((a) => a.action)).to.deep.equal(['vcenter.delete']); // made through the data layer
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
      for (const p of [VMS, VC, B]) expect((await viewer.get(p)).status, p).to.equal(200);
      const before = await count('audit_log');
      expect((await viewer.post(VC, { name: unique('v'), host: 'vc-viewer.lab.local', username: 'u', password: 'p', insecure: true })).status).to.equal(403);
      expect(await count('audit_log')).to.equal(before);
    });

    it('answers carry exactly the documented fields (no internal columns such as password_encrypted or manifest_ref)', async () => {
      const vc = await makeVcenter(hub);
      const vm = await makeVm(hub, { vcenter_id: vc });
      const repo = await makeRepository(hub);
      const backupId = `backup-${randomUUID()}`;
      await hub.db.db('backup_jobs').insert({ id: backupId, vm_context_id: vm, repository_id: repo.id, backup_type: 'full', status: 'success', manifest_ref: 'manifests/internal.json' });
      expectDocumentedFields((await hub.admin.get(`${VMS}?vcenter_id=${vc}`)).body.vms[0], VmSummary, 'vm summary');
      expectDocumentedFields((await hub.admin.get(`${VMS}/${vm}`)).body, VmResponse, 'vm');
      expectDocumentedFields((await hub.admin.get(`${VC}/${vc}`)).body, VcenterResponse, 'vcenter');
      expectDocumentedFields((await hub.admin.get(`${B}?vm_context_id=${vm}`)).body.backups[0], BackupSummary, 'backup summary');
      const backup = await hub.admin.get(`${B}/${backupId}`);
      expectDocumentedFields(backup.body, BackupResponse, 'backup');
      expect(JSON.stringify(backup.body)).to.not.include('manifests/internal.json');
    });

    it('every kind of change above left an audit_log row with the actor and request id', async () => {
      await expectAuditedActions(hub, ['vcenter'], ['vcenter.create', 'vcenter.update', 'vcenter.delete']);
    });
  });
});
