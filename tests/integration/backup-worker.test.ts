import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { Repository } from '@vaultflow/backup-repository';
import { startBackupWorker, type BackupWorker } from '@vaultflow/backup-worker';
import { startOrchestrator, type Orchestrator } from '@vaultflow/flow-orchestrator';
import { createLogger } from '@vaultflow/logging';
import { SecretBox } from '@vaultflow/security';
import { TEST_REDIS_URL, startVcsim, type Vcsim, type VcsimVm } from '@vaultflow/testing';
import { makeGroup, makeRepository } from '../support/fixtures.js';
import { startHub, unique, type TestHub } from '../support/hub.js';
import { finishedExecution, guestData, startExecution, vcsimEndpoint } from '../support/vcenter-lab.js';
import { restoredSha256 } from '../../packages/backup-repository/src/testing/restored-sha.js';

// The data path end to end: a flow over a group of two simulated VMs, executed through the API, with the
// real orchestrator and the real backup worker in-process. Restores are compared with the disks' content
// at snapshot time (read from the live disk files just before the run, while nothing writes to them).

const KiB = 1024;
const MiB = 1024 * KiB;
const B = 64 * KiB; // the harness's change-tracking block
const DISK_MB = 4;
const CAPACITY = DISK_MB * MiB;
const FLOWS = '/api/v1/protection-flows';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const noise = guestData;

function nonZeroBlocks(image: Buffer): number {
  let n = 0;
  for (let b = 0; b * B < image.length; b++) if (image.subarray(b * B, (b + 1) * B).some((x) => x !== 0)) n++;
  return n;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const restoredSha = (repo: Repository, pointId: string, key: string) => restoredSha256(repo, pointId, key, CAPACITY);

describe('backup worker: flow executions back up simulated VMs, full then incremental', function () {
  this.timeout(120_000);
  let hub: TestHub;
  let vc: Vcsim;
  let orchestrator: Orchestrator;
  let worker: BackupWorker;
  let metricsPort: number;
  let repoPath: string;
  let flowId: string;
  let vms: VcsimVm[];
  const contextOf = new Map<string, string>(); // moref -> context id
  const images: Array<Map<string, Buffer>> = []; // per run: `${moref}/${key}` -> content at snapshot time
  const pointsOf: Array<Map<string, string>> = []; // per run: context id -> point id

  /** The live disks now; call when nothing writes until the snapshot is taken. */
  async function capture(): Promise<Map<string, Buffer>> {
    const m = new Map<string, Buffer>();
    for (const v of (await vc.info()).vms) for (const d of v.disks) m.set(`${v.ref}/${d.key}`, await readFile(d.flatPath));
    return m;
  }

  const execute = async (): Promise<any> => finishedExecution(hub, flowId, await startExecution(hub, flowId));

  const backupsOf = (executionId: string) => hub.db.db('backup_jobs').where({ flow_execution_id: executionId }).orderBy('vm_context_id').select();
  const disksOf = (backupId: string) => hub.db.db('backup_disks').where({ backup_job_id: backupId }).orderBy('disk_key').select();

  before(async () => {
    hub = await startHub();
    vc = await startVcsim({ vms: 2, disks: 2, diskMb: DISK_MB, pageBytes: MiB });
    vms = (await vc.info()).vms;
    // some data, lots of zeros: disk 1 holds noise and a run across a block boundary, disk 2 a run in the middle
    for (const [i, v] of vms.entries()) {
      const [a, b] = v.disks.map((d) => d.key) as [number, number];
      await vc.write(v.ref, a, 0, noise(512 * KiB + i * B));
      await vc.write(v.ref, a, 2 * MiB - 100, noise(200));
      await vc.write(v.ref, b, MiB, noise(300 * KiB));
    }
    const reg = await hub.admin.post('/api/v1/vcenters', { name: unique('vcsim'), ...vcsimEndpoint(vc) });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    const rows = await hub.db.db('vm_contexts').where({ vcenter_id: reg.body.id }).select('context_id', 'moref');
    for (const r of rows) contextOf.set(r.moref, r.context_id);
    expect([...contextOf.keys()].sort()).to.deep.equal(vms.map((v) => v.ref).sort());
    const group = await makeGroup(hub, [...contextOf.values()]);
    const repo = await makeRepository(hub);
    repoPath = repo.path;
    const flow = await hub.admin.post(FLOWS, { name: unique('backup'), flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id });
    expect(flow.status, JSON.stringify(flow.body)).to.equal(201);
    flowId = flow.body.id;

    const logger = createLogger('backup-worker-test', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');
    orchestrator = await startOrchestrator({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, logger, reconcileSeconds: 3600, sweepSeconds: 3600 });
    metricsPort = await freePort();
    worker = await startBackupWorker({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, secrets: new SecretBox(hub.secretKey), logger, metricsPort, metricsHost: '127.0.0.1', checkEveryMs: 500 });
  });
  after(async () => {
    await worker?.close();
    await orchestrator?.close();
    await vc?.stop();
    await hub?.stop();
  });

  it('the first execution takes a full of every disk, reading only allocated blocks, and restores bit for bit', async () => {
    images.push(await capture());
    const done = await execute();
    expect(done.status, JSON.stringify(done)).to.equal('success');
    expect(done.vms.map((v: { status: string }) => v.status)).to.deep.equal(['success', 'success']);
    const backups = await backupsOf(done.id);
    expect(backups).to.have.length(2);
    const repo = await Repository.open(repoPath);
    const points = new Map<string, string>();
    let total = 0;
    for (const b of backups) {
      const v = vms.find((x) => contextOf.get(x.ref) === b.vm_context_id)!;
      expect(b).to.include({ status: 'success', backup_type: 'full', error_message: null });
      expect(b.id).to.match(new RegExp(`^backup-${b.vm_context_id.slice(0, 8)}-\\d{13}$`));
      const disks = await disksOf(b.id);
      expect(disks.map((d) => [d.disk_key, d.backup_mode, d.status])).to.deep.equal(v.disks.map((d) => [d.key, 'full', 'success']));
      let expected = 0;
      for (const d of disks) {
        const image = images[0]!.get(`${v.ref}/${d.disk_key}`)!;
        expect(d.change_id).to.match(/\/\d+$/);
        expect(Number(d.disk_uuid?.length)).to.be.above(0);
        expect(Number(d.capacity_bytes)).to.equal(CAPACITY);
        // zeros are never read: exactly the non-zero 64 KiB blocks
        expect(Number(d.bytes_transferred), `${v.ref}/${d.disk_key}`).to.equal(nonZeroBlocks(image) * B);
        expected += Number(d.bytes_transferred);
        expect(await restoredSha(repo, b.manifest_ref, String(d.disk_key))).to.equal(sha256(image));
      }
      expect(Number(b.bytes_transferred)).to.equal(expected);
      total += expected;
      points.set(b.vm_context_id, b.manifest_ref);
      const vm = await hub.db.db('vm_contexts').where({ context_id: b.vm_context_id }).first();
      expect(vm.last_backup_id).to.equal(b.id);
      expect(vm.last_backup_at).to.not.equal(null);
    }
    expect(Number(done.bytes_transferred)).to.equal(total);
    pointsOf.push(points);
  });

  it('after scattered guest writes, the next execution is incremental and reads only the changed 64 KiB blocks', async () => {
    const changed = new Map<string, { bytes: number; blocks: Set<number> }>();
    const write = async (vm: string, key: number, offset: number, data: Buffer) => {
      await vc.write(vm, key, offset, data);
      const c = changed.get(`${vm}/${key}`) ?? { bytes: 0, blocks: new Set<number>() };
      c.bytes += data.length;
      for (let b = Math.floor(offset / B); b <= Math.floor((offset + data.length - 1) / B); b++) c.blocks.add(b);
      changed.set(`${vm}/${key}`, c);
    };
    for (const v of vms) {
      const [a, b] = v.disks.map((d) => d.key) as [number, number];
      await write(v.ref, a, 10 * KiB, noise(4 * KiB)); // inside data
      await write(v.ref, a, 3 * MiB + 5, noise(100)); // into zeros
      await write(v.ref, a, 3 * B - 1000, noise(2000)); // across a block boundary
      await write(v.ref, b, 7 * B, noise(B)); // one whole block
    }
    images.push(await capture());
    const done = await execute();
    expect(done.status, JSON.stringify(done)).to.equal('success');
    const backups = await backupsOf(done.id);
    expect(backups).to.have.length(2);
    const repo = await Repository.open(repoPath);
    let totalChanged = 0;
    let total = 0;
    for (const b of backups) {
      const v = vms.find((x) => contextOf.get(x.ref) === b.vm_context_id)!;
      expect(b).to.include({ status: 'success', backup_type: 'incremental' });
      const disks = await disksOf(b.id);
      for (const d of disks) {
        const c = changed.get(`${v.ref}/${d.disk_key}`)!;
        expect(d.backup_mode).to.equal('incremental');
        // close to the changed bytes: every changed byte, rounded up to the 64 KiB blocks it touched
        expect(Number(d.bytes_transferred), `${v.ref}/${d.disk_key}`).to.equal(c.blocks.size * B).and.be.at.least(c.bytes);
        totalChanged += c.bytes;
        total += Number(d.bytes_transferred);
        expect(await restoredSha(repo, b.manifest_ref, String(d.disk_key))).to.equal(sha256(images[1]!.get(`${v.ref}/${d.disk_key}`)!));
        // the first point still restores on its own to the first content
        expect(await restoredSha(repo, pointsOf[0]!.get(b.vm_context_id)!, String(d.disk_key))).to.equal(sha256(images[0]!.get(`${v.ref}/${d.disk_key}`)!));
      }
    }
    expect(Number(done.bytes_transferred)).to.equal(total);
    expect(total).to.equal(2 * 5 * B); // per VM: disk 1 blocks 0, 2, 3 and 48; disk 2 block 7
    expect(totalChanged).to.equal(2 * (4 * KiB + 100 + 2000 + B));
  });

  it('leaves no snapshot on the simulator and exposes vaultflow_backup_bytes_total', async () => {
    for (const v of (await vc.info()).vms) expect(v.snapshots, v.ref).to.deep.equal([]);
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    const text = await res.text();
    const m = /^vaultflow_backup_bytes_total (\d+)/m.exec(text);
    expect(m, text.slice(0, 500)).to.not.equal(null);
    const all = await hub.db.db('backup_jobs').sum({ n: 'bytes_transferred' }).first();
    expect(Number(m![1])).to.be.above(0).and.equal(Number(all!.n));
    expect(text).to.match(/vaultflow_vm_job_duration_seconds_count\{status="success"\} 4/);
  });
});
