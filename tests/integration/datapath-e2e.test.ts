import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Repository } from '@vaultflow/backup-repository';
import { startOrchestrator, type Orchestrator } from '@vaultflow/flow-orchestrator';
import { createLogger } from '@vaultflow/logging';
import { TEST_REDIS_URL, startVcsim, type Vcsim, type VcsimVm } from '@vaultflow/testing';
import { makeGroup, makeRepository } from '../support/fixtures.js';
import { startHub, unique, type TestHub } from '../support/hub.js';
import {
  finishedExecution, guestData, labNbdkitPlugin, liveDiskContents, nbdkitProcesses, startExecution, startWorkerProcess, vcsimEndpoint,
  type DiskContent, type WorkerProcess,
} from '../support/vcenter-lab.js';
import { restoredSha256 } from '../../packages/backup-repository/src/testing/restored-sha.js';

// The data path proof of the VMware issue, end to end through the API: a simulated vCenter registered
// and discovered, three VMs with two disks each (one partly zero) in a group under a flow, executed by
// the real orchestrator and a real backup-worker process: a full, an incremental after scattered guest
// writes, a CBT reset on one disk, the nbd transport (nbdkit per disk), and a SIGKILL of the worker
// mid-transfer. Every restore point of every disk is then restored and compared with the disk at its
// snapshot time, and nothing is left behind on the simulator.

const KiB = 1024;
const MiB = 1024 * KiB;
const B = 64 * KiB; // the simulator's change-tracking block
const DISK_MB = 8;
const CAPACITY = DISK_MB * MiB;
const FLOWS = '/api/v1/protection-flows';

const noise = guestData;

/** A seeded generator, so the write pattern is the same on every run. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

interface Changes {
  bytes: number;
  writes: number;
  blocks: Map<string, Set<number>>;
}

describe('data path end to end: vCenter to restore points through the API, both transports, a killed worker', function () {
  this.timeout(240_000);
  let hub: TestHub;
  let vc: Vcsim;
  let orchestrator: Orchestrator;
  let worker: WorkerProcess | undefined;
  let vms: VcsimVm[];
  let flowId: string;
  let repoPath: string;
  let datastoreDir: string;
  let scratch: string;
  const contextOf = new Map<string, string>(); // moref -> context id
  const contentAt = new Map<string, Map<string, DiskContent>>(); // execution id -> `${moref}/${key}` -> content at snapshot time
  const rnd = seeded(20261127);

  const backupsOf = (executionId: string) => hub.db.db('backup_jobs').where({ flow_execution_id: executionId }).orderBy('vm_context_id').select();
  const disksOf = (backupId: string) => hub.db.db('backup_disks').where({ backup_job_id: backupId }).orderBy('disk_key').select();
  const vmOf = (contextId: string) => vms.find((v) => contextOf.get(v.ref) === contextId)!;
  const successPoints = async () => (await hub.db.db('backup_jobs').where({ status: 'success' }).select('manifest_ref')).map((r) => r.manifest_ref as string).sort();

  async function runWorker(env: Record<string, string>): Promise<void> {
    await worker?.stop();
    worker = await startWorkerProcess(hub, env);
  }

  /** Starts an execution; its content map is the live disks now (nothing writes until the snapshots). */
  async function start(): Promise<string> {
    const content = await liveDiskContents(vc);
    const id = await startExecution(hub, flowId);
    contentAt.set(id, content);
    return id;
  }
  const finish = (executionId: string) => finishedExecution(hub, flowId, executionId, 90_000, () => worker?.logs().slice(-3000) ?? '');
  const execute = async () => finish(await start());

  /** Guest writes of `size` bytes into `blocks` distinct 64 KiB blocks of every disk, at seeded places. */
  async function scatter(blocksPerDisk: number, size: () => number): Promise<Changes> {
    const c: Changes = { bytes: 0, writes: 0, blocks: new Map() };
    for (const v of vms) {
      for (const d of v.disks) {
        const touched = new Set<number>();
        const free = Array.from({ length: CAPACITY / B }, (_, i) => i);
        for (let n = 0; n < blocksPerDisk; n++) {
          const block = free.splice(Math.floor(rnd() * free.length), 1)[0]!;
          const len = size();
          const offset = block * B + Math.floor(rnd() * (B - len));
          await vc.write(v.ref, d.key, offset, noise(len));
          touched.add(block);
          c.bytes += len;
          c.writes++;
        }
        c.blocks.set(`${v.ref}/${d.key}`, touched);
      }
    }
    return c;
  }

  async function expectNoSnapshots(): Promise<void> {
    for (const v of (await vc.info()).vms) expect(v.snapshots, `${v.ref} keeps a snapshot`).to.deep.equal([]);
  }

  before(async () => {
    hub = await startHub();
    scratch = await mkdtemp(path.join(tmpdir(), 'vaultflow-datapath-'));
    vc = await startVcsim({ vms: 3, disks: 2, diskMb: DISK_MB, pageBytes: MiB });
    vms = (await vc.info()).vms;
    datastoreDir = path.dirname(path.dirname(vms[0]!.disks[0]!.flatPath));
    // the first disk of each VM mostly data, the second partly zero: two runs in 8 MiB of zeros
    for (const [i, v] of vms.entries()) {
      const [a, b] = v.disks.map((d) => d.key) as [number, number];
      await vc.write(v.ref, a, 0, noise(3 * MiB + i * B));
      await vc.write(v.ref, a, 6 * MiB, noise(512 * KiB));
      await vc.write(v.ref, b, MiB + 1000, noise(256 * KiB));
      await vc.write(v.ref, b, 5 * MiB - 50, noise(100)); // across a block boundary
    }
    const logger = createLogger('datapath-e2e', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');
    orchestrator = await startOrchestrator({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, logger, reconcileSeconds: 3600, sweepSeconds: 3600 });
  });
  after(async () => {
    await worker?.stop();
    await orchestrator?.close();
    await vc?.stop();
    await hub?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('registers the simulated vCenter, discovers 3 VMs with 2 disks each, and puts them in a group under a flow', async () => {
    const reg = await hub.admin.post('/api/v1/vcenters', { name: unique('vcsim'), ...vcsimEndpoint(vc) });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    const discovered = await hub.admin.post(`/api/v1/vcenters/${reg.body.id}/discover`);
    expect(discovered.status, JSON.stringify(discovered.body)).to.equal(200);
    const list = await hub.admin.get(`/api/v1/vms?vcenter_id=${reg.body.id}&sort=vm_name`);
    expect(list.body.vms.map((v: { vm_name: string }) => v.vm_name)).to.deep.equal(vms.map((v) => v.name));
    for (const row of list.body.vms as Array<{ context_id: string; moref: string }>) {
      contextOf.set(row.moref, row.context_id);
      const one = await hub.admin.get(`/api/v1/vms/${row.context_id}`);
      expect(one.body.disks.map((d: { disk_key: number; capacity_bytes: number }) => [d.disk_key, d.capacity_bytes])).to.deep.equal(
        vms.find((v) => v.ref === row.moref)!.disks.map((d) => [d.key, CAPACITY]),
      );
    }
    const group = await makeGroup(hub, [...contextOf.values()]);
    const repo = await makeRepository(hub);
    repoPath = repo.path;
    const flow = await hub.admin.post(FLOWS, { name: unique('datapath'), flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id });
    expect(flow.status, JSON.stringify(flow.body)).to.equal(201);
    flowId = flow.body.id;
  });

  it('execution 1 (https): a full of every disk that reads only its non-zero blocks', async () => {
    await runWorker({ WORKER_TRANSPORT: 'https' });
    const done = await execute();
    expect(done.status, JSON.stringify(done)).to.equal('success');
    const backups = await backupsOf(done.id);
    expect(backups.map((b) => [b.status, b.backup_type])).to.deep.equal([['success', 'full'], ['success', 'full'], ['success', 'full']]);
    for (const b of backups) {
      const v = vmOf(b.vm_context_id);
      const disks = await disksOf(b.id);
      expect(disks.map((d) => [d.disk_key, d.backup_mode])).to.deep.equal(v.disks.map((d) => [d.key, 'full']));
      for (const d of disks) expect(Number(d.bytes_transferred), `${v.ref}/${d.disk_key}`).to.equal(contentAt.get(done.id)!.get(`${v.ref}/${d.disk_key}`)!.nonZeroBlocks * B);
    }
    await expectNoSnapshots();
  });

  it('execution 2 (https): after scattered guest writes, an incremental whose bytes read are close to the bytes changed', async () => {
    const changes = await scatter(12, () => 8 * KiB + Math.floor(rnd() * 56 * KiB)); // guest writes of 8-64 KiB
    const done = await execute();
    expect(done.status, JSON.stringify(done)).to.equal('success');
    let read = 0;
    for (const b of await backupsOf(done.id)) {
      expect(b.backup_type).to.equal('incremental');
      const v = vmOf(b.vm_context_id);
      for (const d of await disksOf(b.id)) {
        expect(d.backup_mode).to.equal('incremental');
        // exactly the 64 KiB blocks the writes touched (each write stays inside one block)
        expect(Number(d.bytes_transferred), `${v.ref}/${d.disk_key}`).to.equal(changes.blocks.get(`${v.ref}/${d.disk_key}`)!.size * B);
        read += Number(d.bytes_transferred);
      }
    }
    expect(Number(done.bytes_transferred)).to.equal(read);
    console.log(`      incremental: ${read} bytes read for ${changes.bytes} bytes changed in ${changes.writes} scattered writes (${(read / changes.bytes).toFixed(2)}x; disks hold ${6 * CAPACITY} bytes)`);
    // the tight bound: every changed byte, plus less than one 64 KiB CBT block of rounding per write
    expect(read).to.be.at.least(changes.bytes).and.below(changes.bytes + changes.writes * B);
    expect(read).to.be.below(0.1 * 6 * CAPACITY);
    await expectNoSnapshots();
  });

  it('execution 3 (nbd): nbdkit per disk with block status; a CBT reset makes that one disk full, with a warning in the job log', async () => {
    const nbdLog = path.join(scratch, 'nbdkit.log');
    await runWorker({ WORKER_TRANSPORT: 'nbd', WORKER_NBDKIT_PLUGIN: labNbdkitPlugin(['log'], [`logfile=${nbdLog}`, 'logappend=true']) });
    const [reset] = vms[0]!.disks;
    await vc.resetCbt(vms[0]!.ref, reset!.key);
    const changes = await scatter(3, () => 4 * KiB);
    const done = await execute();
    expect(done.status, JSON.stringify(done)).to.equal('success');
    for (const b of await backupsOf(done.id)) {
      const v = vmOf(b.vm_context_id);
      for (const d of await disksOf(b.id)) {
        const id = `${v.ref}/${d.disk_key}`;
        if (v === vms[0] && d.disk_key === reset!.key) {
          expect(d.backup_mode, id).to.equal('full');
          expect(Number(d.bytes_transferred), id).to.equal(contentAt.get(done.id)!.get(id)!.nonZeroBlocks * B);
        } else {
          expect(d.backup_mode, id).to.equal('incremental');
          expect(Number(d.bytes_transferred), id).to.equal(changes.blocks.get(id)!.size * B);
        }
      }
    }
    const logs = (await hub.admin.get(`${FLOWS}/${flowId}/executions/${done.id}/logs`)).body.logs as Array<{ level: string; step: string; message: string }>;
    const warnings = logs.filter((l) => l.step === 'disk-plan');
    expect(warnings.map((l) => [l.level, l.message])).to.deep.equal([['warn', `disk ${reset!.key}: change tracking was reset (the change ID UUID changed): backing it up in full`]]);
    // the bytes came through nbdkit: block status asked, reads served
    const served = await readFile(nbdLog, 'utf8');
    expect(served).to.match(/ Extents id=/);
    expect(served).to.match(/ Read id=/);
    expect(nbdkitProcesses(datastoreDir)).to.deep.equal([]);
    await expectNoSnapshots();
  });

  it('execution 4 (nbd, slowed): the worker is SIGKILLed mid-transfer; the retry completes and no half point is ever visible', async () => {
    await runWorker({ WORKER_TRANSPORT: 'nbd', WORKER_NBDKIT_PLUGIN: labNbdkitPlugin(['delay'], ['rdelay=400ms']) });
    await scatter(40, () => 4 * KiB); // 40 separate blocks per disk: 10 rounds of 4 delayed reads
    const executionId = await start();
    const deadline = Date.now() + 60_000;
    while (nbdkitProcesses(datastoreDir).length === 0) {
      if (Date.now() > deadline) throw new Error(`no transfer started:\n${worker!.logs().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const running = await hub.db.db('protection_flow_vm_runs').where({ execution_id: executionId, status: 'running' }).select('id');
    expect(running.length, 'VMs transferring at the kill').to.be.at.least(1);
    await worker!.stop('SIGKILL');
    worker = undefined;

    // nbdkit died with its parent; nothing committed for the interrupted VMs; every point on disk is a recorded one
    const end = Date.now() + 5000;
    while (nbdkitProcesses(datastoreDir).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(nbdkitProcesses(datastoreDir), 'nbdkit outlived the killed worker').to.deep.equal([]);
    const repo = await Repository.open(repoPath);
    expect((await repo.listPoints()).map((p) => p.id).sort()).to.deep.equal(await successPoints());
    expect((await repo.verify()).ok).to.equal(true);
    expect((await backupsOf(executionId)).filter((b) => b.status === 'success')).to.have.length.below(3);
    expect((await vc.info()).vms.filter((v) => v.snapshots.length > 0).length, 'the killed attempts left their snapshots').to.be.at.least(1);

    await runWorker({ WORKER_TRANSPORT: 'nbd', WORKER_NBDKIT_PLUGIN: labNbdkitPlugin() });
    const done = await finish(executionId);
    expect(done.status, JSON.stringify(done)).to.equal('success');
    const runs = await hub.db.db('protection_flow_vm_runs').where({ execution_id: executionId }).select('id', 'status', 'attempts');
    for (const r of running) expect(runs.find((x) => x.id === r.id)).to.include({ status: 'success', attempts: 2 });
    const backups = await backupsOf(executionId);
    expect(backups.filter((b) => b.status === 'success').map((b) => b.vm_context_id).sort()).to.deep.equal([...contextOf.values()].sort());
    expect(backups.filter((b) => b.status === 'running'), 'a backup row of the killed attempt still claims to run').to.deep.equal([]);
    const interrupted = backups.filter((b) => b.status !== 'success');
    expect(interrupted.length).to.be.within(1, running.length);
    for (const b of interrupted) expect(b).to.include({ status: 'failed', manifest_ref: null }).and.have.property('error_message').that.matches(/^interrupted: /);

    // the retries removed the killed attempts' snapshots, and said so
    const logs = (await hub.admin.get(`${FLOWS}/${flowId}/executions/${executionId}/logs`)).body.logs as Array<{ level: string; step: string }>;
    expect(logs.filter((l) => l.step === 'orphan-snapshots' && l.level === 'warn').length).to.be.within(interrupted.length, running.length);
    expect(logs.filter((l) => l.step === 'interrupted' && l.level === 'warn').length).to.equal(interrupted.length);

    const report = await repo.verify(); // the repository check: every chunk every point references, re-read and re-hashed
    expect(report, JSON.stringify(report)).to.deep.include({ ok: true, damaged_points: [], damaged_chunks: [] });
    expect(report.points_checked).to.equal(12);
    expect((await repo.listPoints()).map((p) => p.id).sort()).to.deep.equal(await successPoints());
    const leftovers = (await readdir(path.join(repoPath, 'points'))).filter((f) => !f.endsWith('.point'));
    expect(leftovers, 'half-written manifests').to.deep.equal([]);
    await expectNoSnapshots();
  });

  it('every restore point of every disk restores to the disk as it was at its snapshot', async () => {
    const repo = await Repository.open(repoPath);
    const backups = await hub.db.db('backup_jobs').where({ status: 'success' }).orderBy('completed_at').select();
    expect(backups).to.have.length(12); // 4 executions x 3 VMs
    let restored = 0;
    for (const b of backups) {
      const v = vmOf(b.vm_context_id);
      const content = contentAt.get(b.flow_execution_id)!;
      for (const d of v.disks) {
        const sha = await restoredSha256(repo, b.manifest_ref, String(d.key), CAPACITY);
        expect(sha, `${b.id} ${v.ref}/${d.key}`).to.equal(content.get(`${v.ref}/${d.key}`)!.sha256);
        restored++;
      }
    }
    expect(restored).to.equal(24);
  });

  it('leaves no snapshot on the simulator and no nbdkit running', async () => {
    await expectNoSnapshots();
    const info = await vc.info();
    expect(info.vms.flatMap((v) => v.snapshots)).to.deep.equal([]);
    expect(nbdkitProcesses(datastoreDir)).to.deep.equal([]);
  });
});
