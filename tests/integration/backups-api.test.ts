import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Repository } from '@vaultflow/backup-repository';
import { startBackupWorker, type BackupWorker } from '@vaultflow/backup-worker';
import { createLogger } from '@vaultflow/logging';
import { SecretBox } from '@vaultflow/security';
import { TEST_REDIS_URL, startVcsim, type Vcsim, type VcsimVm } from '@vaultflow/testing';
import { follow, liveImages, noise, nonZeroBlocks, sha256, startSlowFront, type SlowFront } from '../support/backup-lab.js';
import { makeRepository, makeVm } from '../support/fixtures.js';
import { startHub, unique, type Client, type TestHub } from '../support/hub.js';
import { restoredSha256 } from '../../packages/backup-repository/src/testing/restored-sha.js';

// POST /backups through the API and a real backup worker against the vCenter simulator (behind a
// front that can slow its datastore traffic down, so progress can be watched): a full, an
// incremental and a forced full; restores to files and to a datastore, bit for bit; the raw image
// stream with ranges, read by qemu-img through nbdkit's curl plugin; deleting points.

const run = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;
const B = 64 * KiB;
const CAPACITY = 4 * MiB;
const API = '/api/v1';

describe('backups API: backups on demand, restores and disk images', function () {
  this.timeout(180_000);
  let hub: TestHub;
  let vc: Vcsim;
  let front: SlowFront;
  let worker: BackupWorker;
  let vm: VcsimVm;
  let vmId: string;
  let vcId: string;
  let repo: { id: number; name: string; path: string };
  let work: string;
  let operator: Client;
  let viewer: Client;
  const images: Map<string, Buffer>[] = []; // per backup: `${key}` -> content at snapshot time
  const ids: string[] = []; // backup ids, in order
  const keys = () => vm.disks.map((d) => d.key);

  const row = (id: string) => hub.db.db('backup_jobs').where({ id }).first();
  const pointOf = async (id: string) => (await row(id)).manifest_ref as string;

  /** The VM's disks now, by key (nothing writes to them until the snapshot). */
  async function capture(): Promise<Map<string, Buffer>> {
    const all = await liveImages(vc);
    return new Map(keys().map((k) => [String(k), all.get(`${vm.ref}/${k}`)!]));
  }

  /** POSTs a backup and follows it to its end; returns every answer GET gave on the way. */
  async function backup(body: Record<string, unknown>, client = operator): Promise<any[]> {
    const res = await client.post(`${API}/backups`, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.include({ status: 'pending', requested_type: body.backup_type ?? 'auto', vm_context_id: vmId, flow_execution_id: null });
    ids.push(res.body.id);
    return follow(hub.admin, `${API}/backups/${res.body.id}`);
  }

  before(async () => {
    hub = await startHub();
    operator = await hub.userClient('operator');
    viewer = await hub.userClient('viewer');
    work = await mkdtemp(path.join(tmpdir(), 'vf-restores-'));
    vc = await startVcsim({ vms: 1, disks: 2, diskMb: 4, pageBytes: MiB });
    vm = (await vc.info()).vms[0]!;
    const [a, b] = keys() as [number, number];
    await vc.write(vm.ref, a, 0, noise(512 * KiB, 0.1));
    await vc.write(vm.ref, a, 2 * MiB - 100, noise(200, 0.2));
    await vc.write(vm.ref, b, MiB, noise(300 * KiB, 0.3));
    front = await startSlowFront(vc.url);
    const reg = await hub.admin.post(`${API}/vcenters`, { name: unique('vcsim'), host: front.host, port: front.port, protocol: 'http', username: vc.username, password: vc.password, insecure: true });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    vcId = reg.body.id;
    vmId = (await hub.db.db('vm_contexts').where({ vcenter_id: vcId, moref: vm.ref }).first()).context_id;
    repo = await makeRepository(hub);
    const logger = createLogger('backups-api-test', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');
    worker = await startBackupWorker({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, secrets: new SecretBox(hub.secretKey), logger, checkEveryMs: 100 });
  });
  after(async () => {
    await worker?.close();
    await front?.stop();
    await vc?.stop();
    await hub?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses bad requests with a 4xx naming the field, and writes nothing', async () => {
    const count = async () => Number((await hub.db.db('backup_jobs').count({ n: '*' }).first())!.n);
    const before = await count();
    const noVc = await makeVm(hub, { vcenter_id: null });
    const gone = await makeVm(hub, { vcenter_id: vcId, inventory_status: 'missing' });
    const disabled = await makeRepository(hub, { enabled: false });
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ vm_context_id: 'no-such-vm', repository_id: repo.id }, 422, 'REFERENCE_NOT_FOUND', 'body.vm_context_id'],
      [{ vm_context_id: vmId, repository_id: 2147480000 }, 422, 'REFERENCE_NOT_FOUND', 'body.repository_id'],
      [{ vm_context_id: gone, repository_id: repo.id }, 422, 'REFERENCE_UNUSABLE', 'body.vm_context_id'],
      [{ vm_context_id: noVc, repository_id: repo.id }, 422, 'REFERENCE_UNUSABLE', 'body.vm_context_id'],
      [{ vm_context_id: vmId, repository_id: disabled.id }, 422, 'REFERENCE_UNUSABLE', 'body.repository_id'],
      [{ vm_context_id: vmId, repository_id: repo.id, backup_type: 'incremental' }, 422, 'NO_PREVIOUS_POINT', 'body.backup_type'],
      [{ vm_context_id: vmId, repository_id: repo.id, backup_type: 'differential' }, 400, 'VALIDATION_FAILED', 'body.backup_type'],
      [{ vm_context_id: vmId }, 400, 'VALIDATION_FAILED', 'body.repository_id'],
      [{ vm_context_id: vmId, repository_id: '1' }, 400, 'VALIDATION_FAILED', 'body.repository_id'],
    ];
    for (const [body, status, code, field] of cases) {
      const res = await operator.post(`${API}/backups`, body);
      expect([res.status, res.body.error?.code], JSON.stringify(res.body)).to.deep.equal([status, code]);
      expect(res.body.error.details.map((d: { field: string }) => d.field), JSON.stringify(res.body)).to.include(field);
    }
    const both = await operator.post(`${API}/backups`, { vm_context_id: 'no-such-vm', repository_id: 2147480000 });
    expect(both.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(['body.vm_context_id', 'body.repository_id']);
    const denied = await viewer.post(`${API}/backups`, { vm_context_id: vmId, repository_id: repo.id });
    expect([denied.status, denied.body.error.code]).to.deep.equal([403, 'FORBIDDEN']);
    expect(await count()).to.equal(before);
  });

  it('a full backup through the API: queued, then running with live progress, then per-disk results; it restores bit for bit', async () => {
    images.push(await capture());
    front.setRate(256 * KiB); // ~1 MiB of data: a few seconds of transfer to watch
    const seen = await backup({ vm_context_id: vmId, repository_id: repo.id, backup_type: 'full' });
    front.setRate(0);
    const done = seen[seen.length - 1];
    expect(done, JSON.stringify(done)).to.include({ status: 'success', backup_type: 'full', requested_type: 'full', error_message: null, attempts: 1, created_by: (await operatorName()) });
    const live = seen.filter((s) => s.status === 'running' && s.progress.phase === 'transfer' && s.progress.bytes_total > 0 && s.progress.bytes_done < s.progress.bytes_total);
    expect(live.length, JSON.stringify(seen.map((s) => [s.status, s.progress]))).to.be.greaterThan(2);
    expect(keys()).to.include(live[0].progress.disk);
    const dones = live.map((s) => s.progress.bytes_done);
    expect(dones).to.deep.equal([...dones].sort((x, y) => x - y)); // never goes back
    expect(done.disks.map((d: any) => [d.disk_key, d.backup_mode, d.status])).to.deep.equal(keys().map((k) => [k, 'full', 'success']));
    let total = 0;
    const repository = await Repository.open(repo.path);
    for (const d of done.disks) {
      const image = images[0]!.get(String(d.disk_key))!;
      expect(d.bytes_transferred, `disk ${d.disk_key}`).to.equal(nonZeroBlocks(image) * B);
      total += d.bytes_transferred;
      expect(await restoredSha256(repository, await pointOf(done.id), String(d.disk_key), CAPACITY)).to.equal(sha256(image));
    }
    expect(done.bytes_transferred).to.equal(total);
    expect(done.progress).to.deep.equal({ phase: 'done', disk: null, bytes_done: total, bytes_total: total });
    expect((await hub.db.db('vm_contexts').where({ context_id: vmId }).first()).last_backup_id).to.equal(done.id);
    const listed = await viewer.get(`${API}/backups?vm_context_id=${vmId}`);
    expect(listed.body.backups.map((b: any) => [b.id, b.status])).to.deep.equal([[done.id, 'success']]);
    // its job log, as the console shows it: the worker writes it in small batches, oldest first
    let logs: any[] = [];
    for (let i = 0; i < 50 && !logs.some((l) => l.level === 'info'); i++) {
      const res = await viewer.get(`${API}/backups/${done.id}/logs`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      logs = res.body.logs;
      if (!logs.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(logs.length).to.be.greaterThan(0);
    expect(new Set(logs.map((l) => l.job_id))).to.deep.equal(new Set([`adhoc-${done.id}`]));
    expect(logs.map((l) => l.id)).to.deep.equal([...logs.map((l) => l.id)].sort((x, y) => x - y));
    const after = await viewer.get(`${API}/backups/${done.id}/logs?after_id=${logs[0].id}&limit=1`);
    expect(after.body.logs.map((l: any) => l.id)).to.deep.equal(logs.slice(1, 2).map((l) => l.id));
    expect((await viewer.get(`${API}/backups/nope/logs`)).status).to.equal(404);
    const bad = await viewer.get(`${API}/backups/${done.id}/logs?limit=0`);
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.match(/limit/);
  });

  async function operatorName(): Promise<string> {
    return (await operator.get(`${API}/auth/me`)).body.username;
  }

  it('an incremental after guest writes reads only the changed blocks; the full still restores on its own', async () => {
    const [a, b] = keys() as [number, number];
    await vc.write(vm.ref, a, 10 * KiB, noise(4 * KiB, 0.4)); // block 0
    await vc.write(vm.ref, a, 3 * MiB + 5, noise(100, 0.5)); // block 48, into zeros
    await vc.write(vm.ref, b, 7 * B, noise(B, 0.6)); // block 7
    images.push(await capture());
    const seen = await backup({ vm_context_id: vmId, repository_id: repo.id, backup_type: 'incremental' });
    const done = seen[seen.length - 1];
    expect(done, JSON.stringify(done)).to.include({ status: 'success', backup_type: 'incremental', requested_type: 'incremental' });
    expect(done.disks.map((d: any) => [d.disk_key, d.backup_mode, d.bytes_transferred])).to.deep.equal([[a, 'incremental', 2 * B], [b, 'incremental', B]]);
    const repository = await Repository.open(repo.path);
    for (const k of keys()) {
      expect(await restoredSha256(repository, await pointOf(done.id), String(k), CAPACITY)).to.equal(sha256(images[1]!.get(String(k))!));
      expect(await restoredSha256(repository, await pointOf(ids[0]!), String(k), CAPACITY)).to.equal(sha256(images[0]!.get(String(k))!));
    }
  });

  it('backup_type full forces a full of every disk even when an incremental is possible', async () => {
    await vc.write(vm.ref, keys()[1]!, 2 * MiB, noise(B, 0.7));
    images.push(await capture());
    const seen = await backup({ vm_context_id: vmId, repository_id: repo.id, backup_type: 'full' });
    const done = seen[seen.length - 1];
    expect(done, JSON.stringify(done)).to.include({ status: 'success', backup_type: 'full' });
    expect(done.disks.map((d: any) => [d.backup_mode, d.bytes_transferred])).to.deep.equal(keys().map((k) => ['full', nonZeroBlocks(images[2]!.get(String(k))!) * B]));
    const auto = await backup({ vm_context_id: vmId, repository_id: repo.id });
    expect(auto[auto.length - 1]).to.include({ status: 'success', backup_type: 'incremental', requested_type: 'auto', bytes_transferred: 0 });
    images.push(images[2]!);
  });

  it('restores a point to image files on the hub, bit for bit, never over an existing file unless asked', async () => {
    const target = path.join(work, 'files');
    await mkdir(target);
    const url = `${API}/backups/${ids[1]}/restore`;
    const res = await operator.post(url, { target: 'file', path: target });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.include({ backup_id: ids[1], status: 'pending', overwrite: false });
    expect(res.body.disk_keys).to.deep.equal(keys());
    const seen = await follow(hub.admin, `${API}/backups/${ids[1]}/restores/${res.body.id}`);
    const done = seen[seen.length - 1];
    expect(done, JSON.stringify(done)).to.include({ status: 'success', error_message: null });
    expect(done.progress).to.deep.equal({ phase: 'done', disk: null, bytes_done: 2 * CAPACITY, bytes_total: 2 * CAPACITY });
    for (const k of keys()) {
      const file = path.join(target, `${ids[1]}-disk-${k}.img`);
      expect(done.disks).to.deep.include({ disk_key: k, location: file, bytes: CAPACITY });
      expect(sha256(await readFile(file)), file).to.equal(sha256(images[1]!.get(String(k))!));
    }
    expect((await readdir(target)).sort()).to.deep.equal(keys().map((k) => `${ids[1]}-disk-${k}.img`).sort()); // no temporary file left

    const again = await operator.post(url, { target: 'file', path: target, disk_keys: [keys()[0]] });
    expect([again.status, again.body.error.code]).to.deep.equal([409, 'RESTORE_TARGET_EXISTS']);
    expect(again.body.error.details[0]).to.include({ field: 'body.path' });
    // an older point over the same file, now asked for: the file becomes that point's image
    await writeFile(path.join(target, `${ids[1]}-disk-${keys()[0]}.img`), 'not an image');
    const forced = await operator.post(url, { target: 'file', path: target, disk_keys: [keys()[0]], overwrite: true });
    expect(forced.status, JSON.stringify(forced.body)).to.equal(202);
    const end = (await follow(hub.admin, `${API}/backups/${ids[1]}/restores/${forced.body.id}`)).pop();
    expect(end.status, JSON.stringify(end)).to.equal('success');
    expect(sha256(await readFile(path.join(target, `${ids[1]}-disk-${keys()[0]}.img`)))).to.equal(sha256(images[1]!.get(String(keys()[0]))!));
    const list = await viewer.get(`${API}/backups/${ids[1]}/restores`);
    expect(list.body.restores.map((r: any) => r.id)).to.deep.equal([forced.body.id, res.body.id]);
  });

  it('refuses restore requests it cannot honour, naming the field, and queues nothing', async () => {
    const before = Number((await hub.db.db('backup_restores').count({ n: '*' }).first())!.n);
    const url = `${API}/backups/${ids[0]}/restore`;
    const file = path.join(work, 'a-file');
    await writeFile(file, 'x');
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ target: 'file', path: path.join(work, 'missing') }, 422, 'RESTORE_PATH_NOT_FOUND', 'body.path'],
      [{ target: 'file', path: file }, 422, 'RESTORE_PATH_NOT_FOUND', 'body.path'],
      [{ target: 'file', path: '/etc' }, 422, 'RESTORE_PATH_NOT_ALLOWED', 'body.path'],
      [{ target: 'file', path: repo.path }, 422, 'RESTORE_PATH_NOT_ALLOWED', 'body.path'],
      [{ target: 'file', path: 'relative/dir' }, 400, 'VALIDATION_FAILED', 'body.path'],
      [{ target: 'file', path: '/tmp/../etc' }, 400, 'VALIDATION_FAILED', 'body.path'],
      [{ target: 'file' }, 400, 'VALIDATION_FAILED', 'body.path'],
      [{ target: 'file', path: work, datastore: 'LocalDS_0' }, 400, 'VALIDATION_FAILED', 'body.datastore'],
      [{ target: 'file', path: work, disk_keys: [9999] }, 422, 'DISK_NOT_FOUND', 'body.disk_keys.0'],
      [{ target: 'file', path: work, disk_keys: [keys()[0], keys()[0]] }, 400, 'VALIDATION_FAILED', 'body.disk_keys'],
      [{ target: 'datastore', vcenter_id: vcId, datastore: 'LocalDS_0' }, 400, 'VALIDATION_FAILED', 'body.folder'],
      [{ target: 'datastore', vcenter_id: 'no-such-vc', datastore: 'LocalDS_0', folder: 'x' }, 422, 'REFERENCE_NOT_FOUND', 'body.vcenter_id'],
      [{ target: 'datastore', vcenter_id: vcId, datastore: 'LocalDS_0', folder: '../up' }, 400, 'VALIDATION_FAILED', 'body.folder'],
      [{ target: 'datastore', vcenter_id: vcId, datastore: '[ds] x', folder: 'x' }, 400, 'VALIDATION_FAILED', 'body.datastore'],
      [{ target: 'tape' }, 400, 'VALIDATION_FAILED', 'body.target'],
    ];
    for (const [body, status, code, field] of cases) {
      const res = await operator.post(url, body);
      expect([res.status, res.body.error?.code], `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).to.deep.equal([status, code]);
      expect(res.body.error.details.map((d: { field: string }) => d.field), JSON.stringify(res.body)).to.include(field);
    }
    expect((await operator.post(`${API}/backups/no-such-backup/restore`, { target: 'file', path: work })).status).to.equal(404);
    expect((await viewer.post(url, { target: 'file', path: work })).status).to.equal(403);
    expect(Number((await hub.db.db('backup_restores').count({ n: '*' }).first())!.n)).to.equal(before);
  });

  it('restores a point to a vCenter datastore through /folder PUT, bit for bit, and never over an existing file unless asked', async () => {
    const dsRoot = path.dirname(path.dirname(vm.disks[0]!.flatPath));
    const body = { target: 'datastore', vcenter_id: vcId, datastore: 'LocalDS_0', folder: 'restored/web' };
    const res = await operator.post(`${API}/backups/${ids[0]}/restore`, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.target).to.deep.equal({ type: 'datastore', vcenter_id: vcId, datacenter: vc.datacenter, datastore: 'LocalDS_0', folder: 'restored/web' });
    const done = (await follow(hub.admin, `${API}/backups/${ids[0]}/restores/${res.body.id}`)).pop();
    expect(done.status, JSON.stringify(done)).to.equal('success');
    for (const k of keys()) {
      const name = `${ids[0]}-disk-${k}.img`;
      expect(done.disks).to.deep.include({ disk_key: k, location: `[LocalDS_0] restored/web/${name}`, bytes: CAPACITY });
      expect(sha256(await readFile(path.join(dsRoot, 'restored/web', name)))).to.equal(sha256(images[0]!.get(String(k))!));
    }
    const again = await operator.post(`${API}/backups/${ids[0]}/restore`, { ...body, disk_keys: [keys()[1]] });
    expect(again.status).to.equal(202);
    const refused = (await follow(hub.admin, `${API}/backups/${ids[0]}/restores/${again.body.id}`)).pop();
    expect(refused.status).to.equal('failed');
    expect(refused.error_message).to.contain('exists already').and.contain('overwrite');
    expect(refused.attempts).to.equal(1); // permanent: not retried
  });

  it('streams a disk image with ranges: pieces concatenate to the whole, HEAD, suffix and open ranges, 416, If-Range', async () => {
    const key = keys()[0]!;
    const url = `${API}/backups/${ids[1]}/disks/${key}/image`;
    const image = images[1]!.get(String(key))!;
    const get = async (range?: string, extra: Record<string, string> = {}) => {
      const res = await fetch(`${hub.url}${url}`, { headers: { authorization: `Bearer ${hub.admin.token}`, ...(range ? { range } : {}), ...extra } });
      return { res, body: Buffer.from(await res.arrayBuffer()) };
    };
    const whole = await get();
    expect(whole.res.status).to.equal(200);
    expect(whole.res.headers.get('content-type')).to.equal('application/octet-stream');
    expect(whole.res.headers.get('content-length')).to.equal(String(CAPACITY));
    expect(whole.res.headers.get('accept-ranges')).to.equal('bytes');
    expect(sha256(whole.body)).to.equal(sha256(image));
    const etag = whole.res.headers.get('etag')!;

    const head = await fetch(`${hub.url}${url}`, { method: 'HEAD', headers: { authorization: `Bearer ${hub.admin.token}` } });
    expect([head.status, head.headers.get('content-length'), head.headers.get('accept-ranges')]).to.deep.equal([200, String(CAPACITY), 'bytes']);

    const cut1 = 100_000;
    const cut2 = 2 * MiB + 12_345;
    const parts = [await get(`bytes=0-${cut1 - 1}`), await get(`bytes=${cut1}-${cut2 - 1}`), await get(`bytes=${cut2}-`)];
    expect(parts.map((p) => p.res.status)).to.deep.equal([206, 206, 206]);
    expect(parts.map((p) => p.res.headers.get('content-range'))).to.deep.equal([`bytes 0-${cut1 - 1}/${CAPACITY}`, `bytes ${cut1}-${cut2 - 1}/${CAPACITY}`, `bytes ${cut2}-${CAPACITY - 1}/${CAPACITY}`]);
    expect(Buffer.concat(parts.map((p) => p.body)).equals(image)).to.equal(true);
    const tail = await get('bytes=-1000');
    expect([tail.res.status, tail.res.headers.get('content-length')]).to.deep.equal([206, '1000']);
    expect(tail.body.equals(image.subarray(CAPACITY - 1000))).to.equal(true);

    const outside = await get(`bytes=${CAPACITY}-`);
    expect([outside.res.status, outside.res.headers.get('content-range')]).to.deep.equal([416, `bytes */${CAPACITY}`]);
    expect(JSON.parse(outside.body.toString()).error.code).to.equal('RANGE_NOT_SATISFIABLE');
    expect((await get('bytes=0-9', { 'if-range': etag })).res.status).to.equal(206);
    const stale = await get('bytes=0-9', { 'if-range': '"another-version"' });
    expect([stale.res.status, stale.body.length]).to.deep.equal([200, CAPACITY]);

    // The image is the VM's data: a viewer may see the point but not take its disks away.
    const refused = await viewer.get(url);
    expect([refused.status, refused.body.error.code]).to.deep.equal([403, 'FORBIDDEN']);
    expect((await hub.admin.get(`${API}/backups/${ids[1]}/disks/9999/image`)).status).to.equal(404);
    expect((await hub.admin.get(`${API}/backups/no-such-backup/disks/${key}/image`)).status).to.equal(404);
  });

  it('qemu-img reads the streamed image through nbdkit\'s curl plugin (ranged requests) and converts it', async () => {
    const key = keys()[1]!;
    const dir = await mkdtemp(path.join(work, 'qemu-'));
    const url = `${hub.url}${API}/backups/${ids[1]}/disks/${key}/image`;
    const qcow2 = path.join(dir, 'disk.qcow2');
    const { stdout } = await run('nbdkit', ['-U', '-', 'curl', `url=${url}`, `header=Authorization: Bearer ${hub.admin.token}`, '--run', `qemu-img info --output=json "$nbd" && qemu-img convert -f raw -O qcow2 "$nbd" ${qcow2}`]);
    const info = JSON.parse(stdout);
    expect(info).to.include({ 'virtual-size': CAPACITY, format: 'raw' });
    await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow2, path.join(dir, 'back.raw')]);
    expect(sha256(await readFile(path.join(dir, 'back.raw')))).to.equal(sha256(images[1]!.get(String(key))!));
    expect((await stat(qcow2)).size).to.be.lessThan(CAPACITY); // zeros stay holes in the qcow2
  });

  it('deletes a restore point: its record and manifest go, every other point still restores', async () => {
    const gone = ids[1]!;
    const point = await pointOf(gone);
    expect((await viewer.del(`${API}/backups/${gone}`)).status).to.equal(403);
    const res = await operator.del(`${API}/backups/${gone}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(204);
    expect((await operator.get(`${API}/backups/${gone}`)).status).to.equal(404);
    expect((await operator.del(`${API}/backups/${gone}`)).status).to.equal(404);
    const repository = await Repository.open(repo.path);
    expect((await repository.listPoints()).map((p) => p.id)).to.not.include(point);
    for (const [i, id] of ids.entries()) {
      if (id === gone) continue;
      for (const k of keys()) expect(await restoredSha256(repository, await pointOf(id), String(k), CAPACITY), `${id}/${k}`).to.equal(sha256(images[i]!.get(String(k))!));
    }
    const audit = await hub.db.db('audit_log').where({ action: 'backup.delete', entity_id: gone }).first();
    expect(audit.actor).to.equal(await operatorName());
    expect((await operator.get(`${API}/backups/${ids[0]}/restores`)).status).to.equal(200);
  });

  it('prunes the repository on request: what the deleted point alone used is freed, every other point still restores', async () => {
    const repository = await Repository.open(repo.path);
    expect(await repository.pruneWanted(), 'the deletion asked for a prune').to.equal(true);
    const points = (await repository.listPoints()).length;
    expect((await viewer.post(`${API}/repositories/${repo.id}/prune`)).status).to.equal(403);
    expect((await operator.post(`${API}/repositories/987654/prune`)).status).to.equal(404);
    // a reader of the repository (another process's image stream, say) holds it: the prune is refused with
    // the reason, and runs once the reader is gone
    const live = ids.find((id) => id !== ids[1])!;
    const reading = await repository.readRange(await pointOf(live), String(keys()[0]), 0, 4096);
    const busy = await operator.post(`${API}/repositories/${repo.id}/prune`);
    expect(busy.status, JSON.stringify(busy.body)).to.equal(409);
    expect(busy.body.error).to.include({ code: 'REPOSITORY_BUSY' });
    expect(busy.body.error.message).to.contain('is in use by a backup, restore, verify or prune');
    reading.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const res = await operator.post(`${API}/repositories/${repo.id}/prune`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ repository_id: repo.id, points });
    expect(res.body.bytes_freed).to.be.a('number').and.at.least(0);
    expect(await repository.pruneWanted()).to.equal(false);
    for (const [i, id] of ids.entries()) {
      if (!(await row(id))) continue; // deleted above
      for (const k of keys()) expect(await restoredSha256(repository, await pointOf(id), String(k), CAPACITY), `${id}/${k}`).to.equal(sha256(images[i]!.get(String(k))!));
    }
    const audit = await hub.db.db('audit_log').where({ action: 'repository.prune', entity_id: String(repo.id) }).first();
    expect(audit.actor).to.equal(await operatorName());
    expect((await hub.admin.post(`${API}/repositories/${repo.id}/prune`)).body).to.include({ chunks_removed: 0, packs_deleted: 0, bytes_freed: 0 });
  });

  it('leaves no snapshot on the simulator', async () => {
    for (const v of (await vc.info()).vms) expect(v.snapshots, v.ref).to.deep.equal([]);
  });
});
