import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Repository } from '@vaultflow/backup-repository';
import { startBackupWorker, type BackupWorker } from '@vaultflow/backup-worker';
import { createLogger } from '@vaultflow/logging';
import { SecretBox } from '@vaultflow/security';
import { TEST_REDIS_URL, startVcsim, type Vcsim, type VcsimVm } from '@vaultflow/testing';
import { flipChunkByte, follow, liveImages, noise, nonZeroBlocks, sha256 } from '../support/backup-lab.js';
import { makeRepository } from '../support/fixtures.js';
import { startHub, unique, type Client, type TestHub } from '../support/hub.js';
import { vcsimEndpoint } from '../support/vcenter-lab.js';
import { restoredSha256 } from '../../packages/backup-repository/src/testing/restored-sha.js';

// What a repository does to restore points made through POST /backups: immutability refuses their
// deletion (409 with the lock date), verify finds a chunk damaged on purpose and names the point and
// disk, and a backup that would not fit fails before writing anything (a real small file system).

const run = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;
const CAPACITY = 4 * MiB;
const API = '/api/v1';
const DAY = 86_400_000;

describe('backups API: immutability, verify and capacity', function () {
  this.timeout(180_000);
  let hub: TestHub;
  let vc: Vcsim;
  let worker: BackupWorker;
  let vm: VcsimVm;
  let vmId: string;
  let operator: Client;
  let work: string;

  /** Backs the VM up into `repositoryId` through the API and follows it to its end. */
  async function backup(repositoryId: number, type = 'full'): Promise<any> {
    const res = await operator.post(`${API}/backups`, { vm_context_id: vmId, repository_id: repositoryId, backup_type: type });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return (await follow(hub.admin, `${API}/backups/${res.body.id}`)).pop();
  }
  const pointOf = async (id: string) => ((await hub.db.db('backup_jobs').where({ id }).first()).manifest_ref as string);

  before(async () => {
    hub = await startHub();
    operator = await hub.userClient('operator');
    work = await mkdtemp(path.join(tmpdir(), 'vf-repo-test-'));
    vc = await startVcsim({ vms: 1, disks: 2, diskMb: 4, pageBytes: MiB });
    vm = (await vc.info()).vms[0]!;
    await vc.write(vm.ref, vm.disks[0]!.key, 0, noise(700 * KiB, 0.11));
    await vc.write(vm.ref, vm.disks[1]!.key, MiB, noise(900 * KiB, 0.12));
    const reg = await hub.admin.post(`${API}/vcenters`, { name: unique('vcsim'), ...vcsimEndpoint(vc) });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    vmId = (await hub.db.db('vm_contexts').where({ vcenter_id: reg.body.id, moref: vm.ref }).first()).context_id;
    const logger = createLogger('backups-repository-test', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');
    worker = await startBackupWorker({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, secrets: new SecretBox(hub.secretKey), logger, checkEveryMs: 100 });
  });
  after(async () => {
    await worker?.close();
    await vc?.stop();
    await hub?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('an immutable repository locks each point for its period: delete is refused with 409 and the lock date until then', async () => {
    const repo = await makeRepository(hub, { immutable: { enabled: true, retention_days: 7 } });
    const b = await backup(repo.id);
    expect(b.status, JSON.stringify(b)).to.equal('success');
    expect(Date.parse(b.locked_until)).to.equal(Date.parse(b.completed_at) + 7 * DAY);
    const res = await operator.del(`${API}/backups/${b.id}`);
    expect([res.status, res.body.error.code]).to.deep.equal([409, 'BACKUP_IMMUTABLE']);
    expect(res.body.error.details).to.deep.equal([{ field: 'locked_until', message: b.locked_until }]);
    expect(res.body.error.message).to.contain(b.locked_until).and.contain(repo.name);
    expect((await operator.get(`${API}/backups/${b.id}`)).status).to.equal(200);
    const repository = await Repository.open(repo.path);
    expect((await repository.listPoints()).map((p) => p.id)).to.include(await pointOf(b.id));
    // once the lock date has passed, the point may go
    await hub.db.db('backup_jobs').where({ id: b.id }).update({ locked_until: new Date(Date.now() - 1000) });
    expect((await operator.del(`${API}/backups/${b.id}`)).status).to.equal(204);
    expect((await repository.listPoints()).map((p) => p.id)).to.not.include(await pointOf(b.id).catch(() => 'gone'));
  });

  it('a point made before its repository became immutable is locked from its commit time for the period set now', async () => {
    const repo = await makeRepository(hub);
    const b = await backup(repo.id);
    expect(b).to.include({ status: 'success', locked_until: null });
    const up = await hub.admin.put(`${API}/repositories/${repo.id}`, { immutable: { enabled: true, retention_days: 2 } });
    expect(up.status, JSON.stringify(up.body)).to.equal(200);
    const until = new Date(Date.parse(b.completed_at) + 2 * DAY).toISOString();
    expect((await operator.get(`${API}/backups/${b.id}`)).body.locked_until).to.equal(until);
    const res = await operator.del(`${API}/backups/${b.id}`);
    expect([res.status, res.body.error.code, res.body.error.details]).to.deep.equal([409, 'BACKUP_IMMUTABLE', [{ field: 'locked_until', message: until }]]);
  });

  it('verify re-hashes every chunk; a byte flipped in a pack is reported with the backup, the disk and the chunk', async () => {
    const repo = await makeRepository(hub);
    const empty = await operator.post(`${API}/repositories/${repo.id}/verify`);
    expect(empty.body).to.deep.equal({ repository_id: repo.id, ok: true, points_checked: 0, chunks_checked: 0, bytes_checked: 0, damaged: [], damaged_chunks: [] });
    const images = await liveImages(vc);
    const first = await backup(repo.id);
    const second = await backup(repo.id, 'full');
    const clean = await operator.post(`${API}/repositories/${repo.id}/verify`);
    expect(clean.status, JSON.stringify(clean.body)).to.equal(200);
    expect(clean.body).to.include({ ok: true, points_checked: 2 });
    expect(clean.body.chunks_checked).to.be.greaterThan(0);
    // each chunk once (the two fulls share them): the data blocks of both disks
    const dataBytes = vm.disks.reduce((n, d) => n + nonZeroBlocks(images.get(`${vm.ref}/${d.key}`)!) * 64 * KiB, 0);
    expect(clean.body.bytes_checked).to.equal(dataBytes);
    expect(clean.body.damaged).to.deep.equal([]);

    const key = vm.disks[1]!.key;
    const repository = await Repository.open(repo.path);
    const point = await repository.readPoint(await pointOf(second.id));
    const chunk = [...point.disks.find((d) => d.key === String(key))!.extents.chunkIds()][0]!;
    await flipChunkByte(repo.path, chunk);
    const res = await operator.post(`${API}/repositories/${repo.id}/verify`);
    expect(res.body.ok).to.equal(false);
    expect(res.body.damaged_chunks.map((c: any) => [c.chunk, c.reason])).to.deep.equal([[chunk, 'corrupt']]);
    const byBackup = (id: string) => res.body.damaged.filter((d: any) => d.backup_id === id);
    for (const b of [first, second]) {
      expect(byBackup(b.id), JSON.stringify(res.body.damaged)).to.deep.equal([
        { backup_id: b.id, point_id: await pointOf(b.id), vm_context_id: vmId, reason: 'chunks', disk_key: key, chunks: [chunk], message: `disk ${key} needs 1 damaged chunk(s)` },
      ]);
    }
    // the damaged disk never restores wrong bytes; the other disk still restores
    const out = path.join(work, 'verify');
    await mkdir(out);
    const r = await operator.post(`${API}/backups/${second.id}/restore`, { target: 'file', path: out });
    const failed = (await follow(hub.admin, `${API}/backups/${second.id}/restores/${r.body.id}`)).pop();
    expect(failed.status).to.equal('failed');
    expect(failed.error_message).to.contain(chunk);
    expect((await readdir(out)).filter((f) => f.includes(`disk-${key}`))).to.deep.equal([]);
    const other = vm.disks[0]!.key;
    expect(await restoredSha256(repository, await pointOf(second.id), String(other), CAPACITY)).to.equal(sha256(images.get(`${vm.ref}/${other}`)!));
    const stream = await fetch(`${hub.url}${API}/backups/${second.id}/disks/${key}/image`, { headers: { authorization: `Bearer ${hub.admin.token}` } });
    expect(stream.status).to.equal(200);
    let cut = false;
    try {
      await stream.arrayBuffer();
    } catch {
      cut = true;
    }
    expect(cut, 'a stream over a damaged chunk is cut short').to.equal(true);
    expect((await (await hub.userClient('viewer')).post(`${API}/repositories/${repo.id}/verify`)).status).to.equal(403);
    expect((await operator.post(`${API}/repositories/2147480000/verify`)).status).to.equal(404);
  });

  it('a backup that would not fit fails early, naming the repository and the figures, and writes nothing', async function () {
    if (process.getuid?.() !== 0) this.skip(); // a small file system of its own needs root (tmpfs)
    const mnt = path.join(work, 'small');
    await mkdir(mnt);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    try {
      await writeFile(path.join(mnt, 'filler'), Buffer.alloc(512 * KiB, 1));
      const repo = { ...(await makeRepository(hub, { config: { path: path.join(mnt, 'repo') } })), path: path.join(mnt, 'repo') };
      const b = await backup(repo.id);
      expect(b.status, JSON.stringify(b)).to.equal('failed');
      expect(b.attempts).to.equal(1); // permanent: not retried
      expect(b.error_message).to.match(new RegExp(`^Repository "${repo.name}" \\(${repo.path}\\) has [\\d.]+ [KM]iB free; this backup needs up to [\\d.]+ MiB \\(1\\.6 MiB to read from 2 disk\\(s\\)\\)`));
      expect(await readdir(repo.path)).to.deep.equal([]); // not even initialised
      for (const v of (await vc.info()).vms) expect(v.snapshots).to.deep.equal([]);
      const next = await operator.post(`${API}/backups`, { vm_context_id: vmId, repository_id: repo.id });
      expect(next.status, 'the VM is free again').to.equal(202);
      expect((await follow(hub.admin, `${API}/backups/${next.body.id}`)).pop().status).to.equal('failed');
    } finally {
      await run('umount', [mnt]);
    }
  });
});
