import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { DiscoveryService, RedisLocks, VsphereConnector, type DiscoveredVm, type VcenterConnector } from '@vaultflow/flows-api';
import { createLogger } from '@vaultflow/logging';
import { startVcsim, type Vcsim, type VcsimInfo } from '@vaultflow/testing';
import { PATHS, auditOf, countRows, fieldsOf } from '../support/api-helpers.js';
import { makeRepository, makeVcenterRow } from '../support/fixtures.js';
import { startHub, unique, type HttpResult, type TestHub } from '../support/hub.js';
import { closedPort, startSilentServer, startTlsFront, vcsimEndpoint, type TlsFront } from '../support/vcenter-lab.js';
import { VcsimSoap } from '../support/vcsim-soap.js';

const VC = PATHS.vcenters;
const VMS = PATHS.vms;
const MiB = 1 << 20;

/** Every string value of an answer, nested ones included. */
const details = (d: unknown) => (typeof d === 'string' ? JSON.parse(d) : d);
const values = (x: unknown): string[] => (typeof x === 'string' ? [x] : x && typeof x === 'object' ? Object.values(x).flatMap(values) : []);

describe('vCenter registration and discovery against the simulator', function () {
  this.timeout(60_000);
  let hub: TestHub;
  let vc: Vcsim;
  let info: VcsimInfo;
  let front: TlsFront;
  let vcId: string;
  const answers: HttpResult[] = []; // every answer about a vCenter, checked for the password at the end

  before(async () => {
    hub = await startHub();
    vc = await startVcsim({ vms: 3, disks: 2, diskMb: 8 });
    info = await vc.info();
    front = await startTlsFront(vc.url);
  });
  after(async () => {
    await front?.stop();
    await vc?.stop();
    await hub?.stop();
  });

  const body = (over: Record<string, unknown> = {}) => ({ name: unique('vcsim'), ...vcsimEndpoint(vc), ...over });
  const secrets = () => (hub.api.services.vcenters as unknown as { secrets: { encrypt(s: string): string; decrypt(s: string): string } }).secrets;
  const counts = async () => Promise.all(['vcenters', 'vm_contexts', 'vm_disks', 'audit_log'].map((t) => countRows(hub, t)));
  const vmsOf = (id: string) => hub.db.db('vm_contexts').where({ vcenter_id: id }).orderBy('vm_name').select();
  const disksOf = (contextId: string) => hub.db.db('vm_disks').where({ vm_context_id: contextId }).orderBy('disk_key').select();
  async function discover(id: string): Promise<HttpResult> {
    const r = await hub.admin.post(`${VC}/${id}/discover`);
    answers.push(r);
    return r;
  }

  describe('the live login check', () => {
    it('refuses a wrong password or user name: 422 VCENTER_LOGIN_FAILED naming body.password, and stores nothing', async () => {
      const before = await counts();
      for (const wrong of [{ password: 'not-the-password' }, { username: 'someone-else' }]) {
        const r = await hub.admin.post(VC, body(wrong));
        answers.push(r);
        expect(r.status, JSON.stringify(r.body)).to.equal(422);
        expect(r.body.error.code).to.equal('VCENTER_LOGIN_FAILED');
        expect(fieldsOf(r)).to.deep.equal(['body.password']);
        expect(r.body.error.message).to.contain(vc.url.replace('http://', '')).and.contain('check the user name and password');
      }
      expect(await counts()).to.deep.equal(before);
    });

    it('refuses a closed port at once and an unknown host: 422 VCENTER_UNREACHABLE naming body.host, nothing stored', async () => {
      const before = await counts();
      const t0 = Date.now();
      const closed = await hub.admin.post(VC, body({ port: await closedPort() }));
      expect(Date.now() - t0).to.be.below(3000);
      expect([closed.status, closed.body.error.code, fieldsOf(closed)]).to.deep.equal([422, 'VCENTER_UNREACHABLE', ['body.host']]);
      expect(closed.body.error.message).to.contain('ECONNREFUSED').and.contain('check the host, port and protocol');
      const t1 = Date.now();
      const unknown = await hub.admin.post(VC, body({ host: 'no-such-vcenter.invalid' }));
      expect(Date.now() - t1).to.be.below(11_000);
      expect([unknown.status, unknown.body.error.code, fieldsOf(unknown)]).to.deep.equal([422, 'VCENTER_UNREACHABLE', ['body.host']]);
      // https to the plain-http simulator: something answers, but not as a vCenter over TLS
      const wrongProtocol = await hub.admin.post(VC, body({ protocol: 'https' }));
      expect([wrongProtocol.status, wrongProtocol.body.error.code]).to.deep.equal([422, 'VCENTER_UNREACHABLE']);
      expect(await counts()).to.deep.equal(before);
    });

    it('gives up on a vCenter that accepts the connection and never answers after about 10 s', async () => {
      const silent = await startSilentServer();
      try {
        const before = await counts();
        const t0 = Date.now();
        const r = await hub.admin.post(VC, body({ port: silent.port }));
        const took = Date.now() - t0;
        expect(took).to.be.within(9_500, 11_500);
        expect([r.status, r.body.error.code, fieldsOf(r)]).to.deep.equal([422, 'VCENTER_UNREACHABLE', ['body.host']]);
        expect(r.body.error.message).to.contain('did not answer within 10 s');
        expect(await counts()).to.deep.equal(before);
      } finally {
        await silent.stop();
      }
    });

    it('pins the TLS thumbprint: a wrong one is 422 VCENTER_TLS_MISMATCH naming the one presented; the right one registers', async () => {
      const tls = { host: front.host, port: front.port, protocol: 'https', insecure: undefined };
      const before = await counts();
      const wrong = front.sha256.replace(/^../, front.sha256.startsWith('00') ? '11' : '00');
      const r = await hub.admin.post(VC, body({ ...tls, tls_thumbprint: wrong }));
      expect([r.status, r.body.error.code, fieldsOf(r)]).to.deep.equal([422, 'VCENTER_TLS_MISMATCH', ['body.tls_thumbprint']]);
      expect(r.body.error.message).to.contain(`got ${front.sha256}`);
      expect(await counts()).to.deep.equal(before);
      const ok = await hub.admin.post(VC, body({ ...tls, tls_thumbprint: front.sha256 }));
      answers.push(ok);
      expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
      expect(ok.body).to.include({ protocol: 'https', tls_thumbprint: front.sha256, insecure: false, vm_count: 3, last_error: null });
      expect((await hub.admin.del(`${VC}/${ok.body.id}`)).status).to.equal(204);
    });

    it('plain http needs insecure: true and takes no thumbprint (400, before any login)', async () => {
      const noInsecure = await hub.admin.post(VC, body({ insecure: undefined }));
      expect([noInsecure.status, fieldsOf(noInsecure)]).to.deep.equal([400, ['body.insecure']]);
      const thumb = await hub.admin.post(VC, body({ insecure: undefined, tls_thumbprint: front.sha1 }));
      expect([thumb.status, fieldsOf(thumb)]).to.deep.equal([400, ['body.tls_thumbprint']]);
      const ftp = await hub.admin.post(VC, body({ protocol: 'ftp' }));
      expect([ftp.status, fieldsOf(ftp)]).to.deep.equal([400, ['body.protocol']]);
    });
  });

  describe('registration and discovery', () => {
    it('registers the simulator (201) and discovers its 3 VMs with placement, hardware and both disks', async () => {
      const r = await hub.admin.post(VC, body());
      answers.push(r);
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      vcId = r.body.id;
      expect(r.body).to.include({ protocol: 'http', insecure: true, vm_count: 3, last_error: null, has_password: true });
      expect(Date.parse(r.body.last_discovery_at)).to.be.closeTo(Date.now(), 60_000);

      const vms = await vmsOf(vcId);
      expect(vms.map((v) => [v.vm_name, v.moref])).to.deep.equal(info.vms.map((v) => [v.name, v.ref]));
      for (const v of vms) {
        expect(v).to.include({ datacenter: 'DC0', cluster: null, esx_host: 'DC0_H0', folder: 'vm', power_state: 'poweredOn', cbt_enabled: 0, inventory_status: 'present' });
        expect(v.uuid).to.match(/^[0-9a-f-]{36}$/);
        expect(v.guest_os).to.be.a('string').and.not.equal('');
        expect(v.num_cpu).to.be.at.least(1);
        expect(v.memory_mb).to.be.at.least(1);
        expect(v.last_seen_at).to.be.instanceOf(Date);
      }
      expect(new Set(vms.map((v) => v.uuid)).size).to.equal(3);
      for (const [i, v] of vms.entries()) {
        const disks = await disksOf(v.context_id);
        expect(disks.map((d) => [d.disk_key, d.disk_uuid, d.datastore_path, Number(d.capacity_bytes), d.disk_mode])).to.deep.equal(
          info.vms[i]!.disks.map((d) => [d.key, d.uuid, d.fileName, 8 * MiB, 'persistent']),
        );
        for (const d of disks) {
          expect(d.disk_uuid).to.match(/^[0-9a-f-]{36}$/);
          expect(d.label).to.match(/\S/);
        }
      }
      expect((await auditOf(hub, 'vcenter', vcId)).map((a) => a.action)).to.deep.equal(['vcenter.create']);
    });

    it('GET /vms lists the discovered VMs with their vCenter name, and GET /vms/:id their disks', async () => {
      const list = await hub.admin.get(`${VMS}?vcenter_id=${vcId}&sort=vm_name`);
      expect(list.status).to.equal(200);
      expect(list.body.total).to.equal(3);
      const name = (await hub.admin.get(`${VC}/${vcId}`)).body.name;
      expect(list.body.vms.map((v: { vm_name: string; vcenter_name: string; inventory_status: string }) => [v.vm_name, v.vcenter_name, v.inventory_status])).to.deep.equal(
        info.vms.map((v) => [v.name, name, 'present']),
      );
      const one = await hub.admin.get(`${VMS}/${list.body.vms[1].context_id}`);
      expect(one.body.disks.map((d: { disk_key: number; disk_uuid: string; capacity_bytes: number }) => [d.disk_key, d.disk_uuid, d.capacity_bytes])).to.deep.equal(
        info.vms[1]!.disks.map((d) => [d.key, d.uuid, 8 * MiB]),
      );
    });

    it('discovering again is idempotent: nothing added, updated or missing, and no row rewritten', async () => {
      const rowsBefore = await vmsOf(vcId);
      const diskIdsBefore = await hub.db.db('vm_disks').whereIn('vm_context_id', rowsBefore.map((v) => v.context_id)).orderBy('id').pluck('id');
      const r = await discover(vcId);
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body).to.deep.include({ vms_found: 3, vms_added: 0, vms_updated: 0, vms_missing: 0, disks: 6 });
      expect(r.body.duration_ms).to.be.a('number').and.at.least(0);
      const rowsAfter = await vmsOf(vcId);
      expect(rowsAfter.map((v) => [v.context_id, v.updated_at.getTime()])).to.deep.equal(rowsBefore.map((v) => [v.context_id, v.updated_at.getTime()]));
      expect(await hub.db.db('vm_disks').whereIn('vm_context_id', rowsAfter.map((v) => v.context_id)).orderBy('id').pluck('id')).to.deep.equal(diskIdsBefore);
      const trail = await auditOf(hub, 'vcenter', vcId);
      expect(trail.map((a) => a.action)).to.deep.equal(['vcenter.create', 'vcenter.discover']);
      expect(details(trail[1]!.details)).to.deep.equal({ vms_found: 3, vms_added: 0, vms_updated: 0, vms_missing: 0, disks: 6 });
    });

    it('picks up a change made in the vCenter: CBT switched on for one VM is one update', async () => {
      const soap = new VcsimSoap(vc.url);
      await soap.login(vc.username, vc.password);
      await soap.setChangeTracking(info.vms[2]!.ref, true);
      const r = await discover(vcId);
      expect(r.body).to.deep.include({ vms_found: 3, vms_added: 0, vms_updated: 1, vms_missing: 0 });
      expect((await vmsOf(vcId)).map((v) => v.cbt_enabled)).to.deep.equal([0, 0, 1]);
    });

    it('marks a VM that disappears missing, keeping its row, disks and backups; it is present again when it comes back', async () => {
      const [gone] = await vmsOf(vcId);
      const repo = await makeRepository(hub);
      const backupId = `backup-${randomUUID()}`;
      await hub.db.db('backup_jobs').insert({ id: backupId, vm_context_id: gone.context_id, repository_id: repo.id, backup_type: 'full', status: 'success' });
      // the simulator cannot remove a VM: the stored one gets a moref and instance UUID the vCenter does not know, the real one then looks new
      await hub.db.db('vm_contexts').where({ context_id: gone.context_id }).update({ moref: 'vm-removed-1', uuid: 'removed-uuid-1' });
      const r = await discover(vcId);
      expect(r.body).to.deep.include({ vms_found: 3, vms_added: 1, vms_updated: 0, vms_missing: 1, disks: 6 });
      const old = await hub.db.db('vm_contexts').where({ context_id: gone.context_id }).first();
      expect(old).to.include({ inventory_status: 'missing', vm_name: gone.vm_name, vcenter_id: vcId });
      expect(old.last_seen_at.getTime()).to.equal(gone.last_seen_at.getTime());
      expect((await disksOf(gone.context_id)).length).to.equal(2);
      expect(await hub.db.db('backup_jobs').where({ id: backupId }).first()).to.include({ vm_context_id: gone.context_id });
      const fresh = await hub.db.db('vm_contexts').where({ vcenter_id: vcId, moref: info.vms[0]!.ref }).first();
      expect(fresh.context_id).to.not.equal(gone.context_id);
      expect(fresh.inventory_status).to.equal('present');
      expect((await disksOf(fresh.context_id)).length).to.equal(2);
      const missing = await hub.admin.get(`${VMS}?vcenter_id=${vcId}&inventory_status=missing`);
      expect(missing.body.vms.map((v: { context_id: string }) => v.context_id)).to.deep.equal([gone.context_id]);
      expect((await hub.admin.get(`${VC}/${vcId}`)).body.vm_count).to.equal(4);

      // it comes back (the stand-in row goes, the moref is the real one again)
      await hub.db.db('vm_contexts').where({ context_id: fresh.context_id }).delete();
      await hub.db.db('vm_contexts').where({ context_id: gone.context_id }).update({ moref: info.vms[0]!.ref, uuid: gone.uuid });
      const back = await discover(vcId);
      expect(back.body).to.deep.include({ vms_found: 3, vms_added: 0, vms_updated: 1, vms_missing: 0 });
      expect((await hub.db.db('vm_contexts').where({ context_id: gone.context_id }).first()).inventory_status).to.equal('present');
      expect((await vmsOf(vcId)).map((v) => v.inventory_status)).to.deep.equal(['present', 'present', 'present']);
    });

    it('keeps a VM registered again under a new moref (same instance UUID): same context, moref updated, nothing added', async () => {
      const [vm] = await vmsOf(vcId);
      // as if the VM had been unregistered and registered again: the vCenter lists it under another moref
      await hub.db.db('vm_contexts').where({ context_id: vm.context_id }).update({ moref: 'vm-before-reregister' });
      const r = await discover(vcId);
      expect(r.body).to.deep.include({ vms_found: 3, vms_added: 0, vms_updated: 1, vms_missing: 0 });
      const row = await hub.db.db('vm_contexts').where({ context_id: vm.context_id }).first();
      expect(row).to.include({ moref: info.vms[0]!.ref, inventory_status: 'present', uuid: vm.uuid });
      expect((await vmsOf(vcId)).length).to.equal(3);
    });

    it('records a failed discovery in last_error and leaves the inventory alone; a good one clears it', async () => {
      const before = await vmsOf(vcId);
      const lastDiscovery = (await hub.admin.get(`${VC}/${vcId}`)).body.last_discovery_at;
      await hub.db.db('vcenters').where({ id: vcId }).update({ password_encrypted: secrets().encrypt('changed-in-vcenter') });
      const failed = await discover(vcId);
      expect([failed.status, failed.body.error.code, failed.body.error.details]).to.deep.equal([422, 'VCENTER_LOGIN_FAILED', []]);
      const got = await hub.admin.get(`${VC}/${vcId}`);
      answers.push(got);
      expect(got.body.last_error).to.contain('refused the login');
      expect(got.body.last_discovery_at).to.equal(lastDiscovery);
      expect(await vmsOf(vcId)).to.deep.equal(before);
      const fixed = await hub.admin.put(`${VC}/${vcId}`, { password: vc.password });
      answers.push(fixed);
      expect(fixed.status, JSON.stringify(fixed.body)).to.equal(200);
      expect((await discover(vcId)).status).to.equal(200);
      expect((await hub.admin.get(`${VC}/${vcId}`)).body.last_error).to.equal(null);
      const trail = (await auditOf(hub, 'vcenter', vcId)).slice(-3);
      expect(trail.map((a) => [a.action, details(a.details).error])).to.deep.equal([['vcenter.discover', 'VCENTER_LOGIN_FAILED'], ['vcenter.update', undefined], ['vcenter.discover', undefined]]);
    });

    it('says so when the stored password cannot be decrypted (the secret key changed), and a new password mends it', async () => {
      const sealed = (await hub.db.db('vcenters').where({ id: vcId }).first()).password_encrypted;
      await hub.db.db('vcenters').where({ id: vcId }).update({ password_encrypted: 'v1:sealed-under-another-key' });
      const r = await discover(vcId);
      expect([r.status, r.body.error.code]).to.deep.equal([422, 'VCENTER_PASSWORD_UNREADABLE']);
      expect(r.body.error.message).to.contain('VAULTFLOW_SECRET_KEY');
      const put = await hub.admin.put(`${VC}/${vcId}`, { username: vc.username.toUpperCase() });
      expect([put.status, put.body.error.code, fieldsOf(put)]).to.deep.equal([422, 'VCENTER_PASSWORD_UNREADABLE', ['body.password']]);
      const mended = await hub.admin.put(`${VC}/${vcId}`, { password: vc.password });
      expect(mended.status).to.equal(200);
      expect(secrets().decrypt((await hub.db.db('vcenters').where({ id: vcId }).first()).password_encrypted)).to.equal(secrets().decrypt(sealed));
      expect((await discover(vcId)).status).to.equal(200);
    });

    it('PUT checks the login again only when a connection setting changes, and stores nothing when it fails', async () => {
      const port = await closedPort();
      const row = await makeVcenterRow(hub, { host: '127.0.0.1', port });
      expect((await hub.admin.put(`${VC}/${row}`, { name: unique('renamed') })).status).to.equal(200);
      expect((await hub.admin.put(`${VC}/${row}`, { enabled: false })).status).to.equal(200);
      const relogin = await hub.admin.put(`${VC}/${row}`, { username: 'other' });
      expect([relogin.status, relogin.body.error.code, fieldsOf(relogin)]).to.deep.equal([422, 'VCENTER_UNREACHABLE', ['body.host']]);
      expect((await hub.db.db('vcenters').where({ id: row }).first()).username).to.equal('administrator@vsphere.local');

      const stored = await hub.db.db('vcenters').where({ id: vcId }).first();
      const moved = await hub.admin.put(`${VC}/${vcId}`, { port: await closedPort() });
      expect([moved.status, moved.body.error.code]).to.deep.equal([422, 'VCENTER_UNREACHABLE']);
      const wrongUser = await hub.admin.put(`${VC}/${vcId}`, { username: 'intruder' });
      expect([wrongUser.status, wrongUser.body.error.code, fieldsOf(wrongUser)]).to.deep.equal([422, 'VCENTER_LOGIN_FAILED', ['body.password']]);
      expect(await hub.db.db('vcenters').where({ id: vcId }).first()).to.deep.equal(stored);
    });

    it('answers 409 while another discovery of the vCenter runs (any replica) or when it is disabled, 404 when unknown', async () => {
      const key = `${hub.prefix}:lock:discovery:vcenter:${vcId}`;
      await hub.redis.set(key, 'another-replica', 'PX', 60_000);
      const busy = await discover(vcId);
      expect([busy.status, busy.body.error.code]).to.deep.equal([409, 'DISCOVERY_IN_PROGRESS']);
      expect(await hub.redis.get(key)).to.equal('another-replica'); // not ours to release
      await hub.redis.del(key);
      expect((await discover(vcId)).status).to.equal(200);
      expect(await hub.redis.exists(key)).to.equal(0); // released
      const disabled = await makeVcenterRow(hub, { enabled: false });
      const off = await discover(disabled);
      expect([off.status, off.body.error.code]).to.deep.equal([409, 'VCENTER_DISABLED']);
      const unknown = await discover(randomUUID());
      expect([unknown.status, unknown.body.error.code]).to.deep.equal([404, 'VCENTER_NOT_FOUND']);
      const viewer = await hub.userClient('viewer');
      expect((await viewer.post(`${VC}/${vcId}/discover`)).status).to.equal(403);
    });
  });

  describe('periodic discovery and failures', () => {
    const logger = createLogger('discovery-test', 'silent');
    /** Another flows-api replica on the same database and Redis prefix. */
    const replica = (connector: VcenterConnector = new VsphereConnector()) =>
      new DiscoveryService(hub.db.db, hub.api.stores, connector, secrets() as never, new RedisLocks(hub.redis, hub.prefix), logger);

    it('discovers each due vCenter once when two replicas run the periodic pass at the same time, and skips the rest', async () => {
      await hub.db.db('vcenters').update({ last_discovery_at: new Date() });
      await hub.db.db('vcenters').where({ enabled: false }).update({ last_discovery_at: null }); // disabled: never due
      const hourAgo = new Date(Date.now() - 3600_000);
      await hub.db.db('vcenters').where({ id: vcId }).update({ last_discovery_at: hourAgo });
      const [a, b] = await Promise.all([replica().discoverDue(14 * 60_000), hub.api.services.discovery.discoverDue(14 * 60_000)]);
      expect(a.discovered + b.discovered).to.equal(1);
      expect(a.failed + b.failed).to.equal(0);
      expect(a.skipped + b.skipped).to.equal(1);
      expect((await hub.db.db('vcenters').where({ id: vcId }).first()).last_discovery_at.getTime()).to.be.above(hourAgo.getTime());
      const again = await replica().discoverDue(14 * 60_000);
      expect(again).to.deep.equal({ discovered: 0, failed: 0, skipped: 0 });
      // a replica that read the due list just before another one finished checks again once it holds the lock
      const stale = Object.create(hub.api.stores.vcenters) as typeof hub.api.stores.vcenters;
      stale.dueForDiscovery = async () => [{ id: vcId, name: 'stale view' }];
      const late = new DiscoveryService(hub.db.db, { ...hub.api.stores, vcenters: stale }, new VsphereConnector(), secrets() as never, new RedisLocks(hub.redis, hub.prefix), logger);
      expect(await late.discoverDue(14 * 60_000)).to.deep.equal({ discovered: 0, failed: 0, skipped: 1 });
    });

    it('a listing that fails halfway changes nothing but last_error (fake vCenter behind the connector seam)', async () => {
      const before = await vmsOf(vcId);
      let closed = 0;
      const failing: VcenterConnector = {
        connect: async () => ({
          listVms: async () => {
            throw Object.assign(new Error('socket hang up'), { code: 'NETWORK', transient: true });
          },
          close: async () => void closed++,
        }),
      };
      try {
        await replica(failing).discover(vcId);
        expect.fail('discovery succeeded');
      } catch (err) {
        expect(err).to.include({ code: 'VCENTER_UNREACHABLE' });
        expect((err as Error).message).to.contain('while reading its inventory');
      }
      expect(closed).to.equal(1);
      expect(await vmsOf(vcId)).to.deep.equal(before);
      expect((await hub.db.db('vcenters').where({ id: vcId }).first()).last_error).to.contain('socket hang up');

      // the same seam, a vCenter whose second VM was renamed and lost a disk
      const real = await new VsphereConnector().connect({ ...vcsimEndpoint(vc), tls_thumbprint: null });
      const listed = await real.listVms();
      await real.close();
      const changed: DiscoveredVm[] = listed.map((v, i) => (i === 1 ? { ...v, name: 'renamed', disks: v.disks.slice(0, 1) } : v));
      const r = await replica({ connect: async () => ({ listVms: async () => changed, close: async () => undefined }) }).discover(vcId);
      expect(r).to.deep.include({ vms_found: 3, vms_added: 0, vms_updated: 1, vms_missing: 0, disks: 5 });
      const second = (await vmsOf(vcId)).find((v) => v.moref === info.vms[1]!.ref);
      expect(second.vm_name).to.equal('renamed');
      expect((await disksOf(second.context_id)).map((d) => d.disk_key)).to.deep.equal([info.vms[1]!.disks[0]!.key]);
      expect((await hub.db.db('vcenters').where({ id: vcId }).first()).last_error).to.equal(null);
    });
  });

  describe('secrets', () => {
    it('never returned the password in any answer above', () => {
      expect(answers.length).to.be.greaterThan(10);
      for (const r of answers) {
        expect(values(r.body).filter((v) => v === vc.password)).to.deep.equal([]);
        expect(JSON.stringify(r.body)).to.not.match(/"password"|password_encrypted|v1:/);
      }
    });
  });
});
