import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readdir, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RepositoryResponse } from '@vaultflow/schemas';
import { startHub, unique, type TestHub } from '../support/hub.js';
import { makeBackupFlow, makeRepository, makeVm } from '../support/fixtures.js';
import { PATHS, auditOf, countRows, exists, expectAuditedActions, expectDocumentedFields, fieldsOf, fsFigures, ids } from '../support/api-helpers.js';

const R = PATHS.repositories;
const POL = PATHS.policies;

describe('flows-api: supporting resources', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => hub?.stop());

  const audit = (entityType: string, entityId: string | number) => auditOf(hub, entityType, entityId);
  const count = (table: string) => countRows(hub, table);

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

    it('refuses a path inside another repository, or containing one (409 REPOSITORY_PATH_TAKEN), also through symbolic links', async () => {
      const repo = await makeRepository(hub);
      const before = await count('backup_repositories');
      const parent = path.dirname(repo.path);
      const link = path.join(hub.dataDir, `link-${randomUUID()}`);
      await symlink(repo.path, link);
      const outerLink = path.join(hub.dataDir, `outer-${randomUUID()}`);
      await symlink(hub.dataDir, outerLink);
      const refused = [
        path.join(repo.path, 'inner'), // inside
        path.join(repo.path, 'a', 'b', 'c'),
        parent, // contains
        path.join(link, 'via-link'), // inside, through a link to the repository
        link, // the same folder, through a link
        outerLink, // contains, through a link to its parent
      ];
      for (const p of refused) {
        const res = await hub.admin.post(R, { name: unique('nested'), repository_type: 'local', config: { path: p } });
        expect(res.status, p).to.equal(409);
        expect(res.body.error.code, p).to.equal('REPOSITORY_PATH_TAKEN');
        expect(fieldsOf(res), p).to.deep.equal(['body.config.path']);
      }
      expect(await exists(path.join(repo.path, 'inner'))).to.equal(false);
      expect(await count('backup_repositories')).to.equal(before);
      // a sibling whose name merely starts with the same letters is another folder
      const sibling = await hub.admin.post(R, { name: unique('sibling'), repository_type: 'local', config: { path: `${repo.path}-2` } });
      expect(sibling.status).to.equal(201);
      // a move is checked the same way, in both directions
      const other = await makeRepository(hub);
      for (const p of [path.join(repo.path, 'moved'), parent]) {
        const move = await hub.admin.put(`${R}/${other.id}`, { config: { path: p } });
        expect(move.status, p).to.equal(409);
        expect(move.body.error.code).to.equal('REPOSITORY_PATH_TAKEN');
        expect(fieldsOf(move)).to.deep.equal(['body.config.path']);
      }
      expect((await hub.admin.get(`${R}/${other.id}`)).body.config.path).to.equal(other.path);
      // a repository may move within its own folder's tree
      const own = await hub.admin.put(`${R}/${other.id}`, { config: { path: path.join(other.path, 'deeper') } });
      expect(own.status).to.equal(200);
    });

    describe('created at the same time (a hub without repositories)', () => {
      let fresh: TestHub;
      before(async () => {
        fresh = await startHub();
      });
      after(async () => fresh?.stop());

      it('distinct paths all succeed (no 500), and of nested paths exactly one wins', async () => {
        const made = await Promise.all(Array.from({ length: 6 }, (_, i) => fresh.admin.post(R, { name: `parallel ${i}`, repository_type: 'local', config: { path: path.join(fresh.dataDir, randomUUID()) } })));
        expect(made.map((r) => r.status)).to.deep.equal([201, 201, 201, 201, 201, 201]);
        const base = path.join(fresh.dataDir, randomUUID());
        const chain = [base, path.join(base, 'a'), path.join(base, 'a', 'b')];
        const raced = await Promise.all(chain.map((p, i) => fresh.admin.post(R, { name: `nested ${i}`, repository_type: 'local', config: { path: p } })));
        expect(raced.filter((r) => r.status === 201), JSON.stringify(raced.map((r) => r.body))).to.have.length(1);
        for (const r of raced.filter((x) => x.status !== 201)) expect([r.status, r.body.error.code]).to.deep.equal([409, 'REPOSITORY_PATH_TAKEN']);
        expect(await fresh.db.db('backup_repositories').count({ n: '*' }).first()).to.deep.equal({ n: 7 });
      });
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
      expect(off.status).to.equal(409);
      expect(off.body.error.code).to.equal('REPOSITORY_IMMUTABLE');
      expect((await hub.admin.get(`${R}/${ok.body.id}`)).body.immutable).to.deep.equal({ enabled: true, retention_days: 30 });
      // a repository that is not immutable may say so (and stays without a retention)
      const plain = await makeRepository(hub);
      const stillOff = await hub.admin.put(`${R}/${plain.id}`, { immutable: { enabled: false, retention_days: 9 } });
      expect(stillOff.status).to.equal(200);
      expect(stillOff.body.immutable).to.deep.equal({ enabled: false, retention_days: null });
    });

    it('never makes an immutable repository mutable: switching off or lowering retention is 409 REPOSITORY_IMMUTABLE, raising is fine', async () => {
      const plain = await makeRepository(hub);
      const on = await hub.admin.put(`${R}/${plain.id}`, { immutable: { enabled: true, retention_days: 14 } });
      expect(on.status).to.equal(200);
      expect(on.body.immutable).to.deep.equal({ enabled: true, retention_days: 14 });
      const before = await count('audit_log');
      for (const [immutable, field] of [[{ enabled: false }, 'body.immutable.enabled'], [{ enabled: false, retention_days: 30 }, 'body.immutable.enabled'], [{ enabled: true, retention_days: 13 }, 'body.immutable.retention_days']] as const) {
        const res = await hub.admin.put(`${R}/${plain.id}`, { immutable, description: 'sneaked in' });
        expect(res.status, JSON.stringify(immutable)).to.equal(409);
        expect(res.body.error.code).to.equal('REPOSITORY_IMMUTABLE');
        expect(fieldsOf(res)).to.deep.equal([field]);
      }
      const row = await hub.db.db('backup_repositories').where({ id: plain.id }).first();
      expect([Boolean(row.immutable_enabled), row.immutable_retention_days, row.description]).to.deep.equal([true, 14, null]);
      expect(await count('audit_log')).to.equal(before);
      const same = await hub.admin.put(`${R}/${plain.id}`, { immutable: { enabled: true, retention_days: 14 } });
      expect(same.status).to.equal(200);
      const raised = await hub.admin.put(`${R}/${plain.id}`, { immutable: { enabled: true, retention_days: 90 } });
      expect(raised.status).to.equal(200);
      expect(raised.body.immutable).to.deep.equal({ enabled: true, retention_days: 90 });
      const lowered = await hub.admin.put(`${R}/${plain.id}`, { immutable: { enabled: true, retention_days: 14 } });
      expect(lowered.status).to.equal(409);
      // other changes leave immutability as it is
      const renamed = await hub.admin.put(`${R}/${plain.id}`, { description: 'locked' });
      expect(renamed.status).to.equal(200);
      expect(renamed.body.immutable).to.deep.equal({ enabled: true, retention_days: 90 });
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
  describe('roles and audit', () => {
    it('a viewer reads but cannot change repositories (403)', async () => {
      const viewer = await hub.userClient('viewer');
      expect((await viewer.get(R)).status, R).to.equal(200);
      const before = await count('audit_log');
      expect((await viewer.post(R, { name: unique('v'), repository_type: 'local', config: { path: path.join(hub.dataDir, randomUUID()) } })).status).to.equal(403);
      expect(await count('audit_log')).to.equal(before);
    });

    it('answers carry exactly the documented fields', async () => {
      const repo = await makeRepository(hub);
      expectDocumentedFields((await hub.admin.get(`${R}/${repo.id}`)).body, RepositoryResponse, 'repository');
    });

    it('every kind of change above left an audit_log row with the actor and request id', async () => {
      await expectAuditedActions(hub, ['repository'], ['repository.create', 'repository.update', 'repository.delete']);
    });
  });
});
