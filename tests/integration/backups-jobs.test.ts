import { expect } from 'chai';
import { UnrecoverableError, Worker } from 'bullmq';
import { Repository } from '@vaultflow/backup-repository';
import { startBackupWorker, type BackupWorker } from '@vaultflow/backup-worker';
import { startOrchestrator, type Orchestrator } from '@vaultflow/flow-orchestrator';
import { createLogger } from '@vaultflow/logging';
import { QUEUES, adhocBackupJobId, createRedis } from '@vaultflow/queue';
import { SecretBox } from '@vaultflow/security';
import { TEST_REDIS_URL, startVcsim, type Vcsim, type VcsimVm } from '@vaultflow/testing';
import { follow, liveImages, noise, sha256, startSlowFront, waitFor, type SlowFront } from '../support/backup-lab.js';
import { makeRepository } from '../support/fixtures.js';
import { startHub, unique, type TestHub } from '../support/hub.js';
import { startWorkerProcess } from '../support/vcenter-lab.js';
import { restoredSha256 } from '../../packages/backup-repository/src/testing/restored-sha.js';

// Backups started through the API as jobs: a VM is never backed up twice at once (against flow
// executions, both ways, and against another API backup), a worker killed mid-transfer has its
// backup taken again by another, and a backup whose job was lost or given up never stays open.

const KiB = 1024;
const MiB = 1024 * KiB;
const API = '/api/v1';

describe('backups API: jobs, the one-backup-per-VM rule, crashed workers and lost jobs', function () {
  this.timeout(180_000);
  let hub: TestHub;
  let vc: Vcsim;
  let front: SlowFront;
  let orchestrator: Orchestrator;
  let worker: BackupWorker | undefined;
  let vms: VcsimVm[];
  const ctx = new Map<string, string>(); // moref -> context id
  let repo: { id: number; name: string; path: string };
  const logger = createLogger('backups-jobs-test', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');

  const startWorker = async () => {
    worker = await startBackupWorker({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, secrets: new SecretBox(hub.secretKey), logger, checkEveryMs: 100, sweepEveryMs: 200, sweepGraceMs: 60_000 });
  };
  const stopWorker = async () => {
    await worker?.close();
    worker = undefined;
  };
  const row = (id: string) => hub.db.db('backup_jobs').where({ id }).first();
  const post = (vm: VcsimVm) => hub.admin.post(`${API}/backups`, { vm_context_id: ctx.get(vm.ref), repository_id: repo.id });

  before(async () => {
    hub = await startHub();
    vc = await startVcsim({ vms: 2, disks: 2, diskMb: 4, pageBytes: MiB });
    vms = (await vc.info()).vms;
    for (const [i, v] of vms.entries()) for (const d of v.disks) await vc.write(v.ref, d.key, 0, noise(600 * KiB, 0.2 + i / 10 + d.key / 1e5));
    front = await startSlowFront(vc.url);
    const reg = await hub.admin.post(`${API}/vcenters`, { name: unique('vcsim'), host: front.host, port: front.port, protocol: 'http', username: vc.username, password: vc.password, insecure: true });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    for (const r of await hub.db.db('vm_contexts').where({ vcenter_id: reg.body.id }).select('context_id', 'moref')) ctx.set(r.moref, r.context_id);
    repo = await makeRepository(hub);
    orchestrator = await startOrchestrator({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, logger, reconcileSeconds: 3600, sweepSeconds: 3600 });
  });
  after(async () => {
    await stopWorker();
    await orchestrator?.close();
    await front?.stop();
    await vc?.stop();
    await hub?.stop();
  });

  it('never backs a VM up twice at once: 409 VM_BUSY while a flow runs it or another backup is open, and flow runs wait for an API backup', async () => {
    const vm = vms[0]!;
    const flow = await hub.admin.post(`${API}/protection-flows`, { name: unique('flow'), flow_type: 'backup', target_type: 'vm', target_id: ctx.get(vm.ref), repository_id: repo.id });
    expect(flow.status, JSON.stringify(flow.body)).to.equal(201);
    const execute = async () => {
      const e = await hub.admin.post(`${API}/protection-flows/${flow.body.id}/execute`);
      expect(e.status, JSON.stringify(e.body)).to.equal(202);
      return e.body.id as string;
    };
    const vmRun = (execution: string) => hub.db.db('protection_flow_vm_runs').where({ execution_id: execution }).first();
    const finished = (execution: string) => follow(hub.admin, `${API}/protection-flows/${flow.body.id}/executions/${execution}`, ['success', 'warning', 'error', 'cancelled']);

    // a flow holds the VM (no worker yet: its VM job waits in the queue)
    const first = await execute();
    await waitFor(async () => ((await vmRun(first))?.status === 'queued' ? true : undefined), 'the flow to queue the VM');
    const busy = await post(vm);
    expect([busy.status, busy.body.error.code]).to.deep.equal([409, 'VM_BUSY']);
    expect(busy.body.error.details).to.have.length(1);
    expect(busy.body.error.details[0]).to.include({ field: 'body.vm_context_id' });
    expect(busy.body.error.details[0].message).to.contain(first);
    expect(await hub.db.db('backup_jobs').whereNull('flow_execution_id').count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    await startWorker();
    expect((await finished(first)).pop().status).to.equal('success');
    await stopWorker();

    // an API backup holds the VM: a second one and a flow run wait for it
    const held = await post(vm);
    expect(held.status, JSON.stringify(held.body)).to.equal(202);
    const again = await post(vm);
    expect([again.status, again.body.error.code]).to.deep.equal([409, 'VM_BUSY']);
    expect(again.body.error.details[0].message).to.contain(held.body.id);
    const running = await hub.admin.del(`${API}/backups/${held.body.id}`);
    expect([running.status, running.body.error.code]).to.deep.equal([409, 'BACKUP_RUNNING']);
    const second = await execute();
    await waitFor(async () => ((await vmRun(second))?.status === 'waiting' ? true : undefined), 'the flow VM row');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await vmRun(second)).status, 'the flow must not queue a VM an API backup holds').to.equal('waiting');
    await startWorker();
    const done = (await follow(hub.admin, `${API}/backups/${held.body.id}`)).pop();
    expect(done.status, JSON.stringify(done)).to.equal('success');
    expect((await finished(second)).pop().status).to.equal('success');
    const flowRun = await vmRun(second);
    expect(new Date(flowRun.started_at).getTime()).to.be.at.least(new Date(done.completed_at).getTime());
  });

  it('a backup whose job was lost (Redis lost, or the API died before queueing) is queued again and runs', async () => {
    await stopWorker();
    const res = await post(vms[0]!);
    expect(res.status).to.equal(202);
    await (await hub.api.queues.vmBackups.getJob(adhocBackupJobId(res.body.id)))!.remove();
    await hub.db.db('backup_jobs').where({ id: res.body.id }).update({ created_at: new Date(Date.now() - 5 * 60_000) });
    await startWorker();
    const done = (await follow(hub.admin, `${API}/backups/${res.body.id}`)).pop();
    expect(done, JSON.stringify(done)).to.include({ status: 'success', attempts: 1 });
  });

  it('a backup whose job the queue gave up on (e.g. stalled too often) is failed with the reason, and the VM is free again', async () => {
    await stopWorker();
    const res = await post(vms[0]!);
    expect(res.status).to.equal(202);
    // what BullMQ does to a job that stalls more often than allowed: it fails it for good
    const giveUp = new Worker(QUEUES.vmBackups, async () => {
      throw new UnrecoverableError('job stalled more than allowable limit');
    }, { connection: createRedis(TEST_REDIS_URL), prefix: hub.prefix });
    await waitFor(async () => ((await hub.api.queues.vmBackups.getJob(adhocBackupJobId(res.body.id)))?.failedReason ? true : undefined), 'the job to fail');
    await giveUp.close();
    await hub.db.db('backup_jobs').where({ id: res.body.id }).update({ created_at: new Date(Date.now() - 5 * 60_000) });
    expect((await row(res.body.id)).status).to.equal('pending');
    await startWorker();
    const done = (await follow(hub.admin, `${API}/backups/${res.body.id}`)).pop();
    expect(done.status).to.equal('failed');
    expect(done.error_message).to.equal('the backup job failed for good: job stalled more than allowable limit');
    expect((await post(vms[0]!)).status, 'the VM is free again').to.equal(202);
    await waitFor(async () => ((await hub.db.db('backup_jobs').whereIn('status', ['pending', 'running']).count({ n: '*' }).first())!.n === 0 ? true : undefined), 'open backups to end');
  });

  it('a worker killed mid-transfer: its backup is taken again by another worker and completes bit for bit, with one restore point', async () => {
    await stopWorker();
    const vm = vms[1]!;
    const images = await liveImages(vc);
    const proc = await startWorkerProcess(hub);
    front.setRate(128 * KiB);
    let killedAt: any;
    try {
      const res = await post(vm);
      expect(res.status).to.equal(202);
      const before = front.bytesRead();
      // disk bytes flowing through the slow front: the worker is reading the snapshot's disks
      killedAt = await waitFor(async () => {
        const r = await row(res.body.id);
        return r.status === 'running' && front.bytesRead() - before > 128 * KiB ? r : undefined;
      }, 'the backup to be mid-transfer');
      await proc.stop('SIGKILL');
      expect(killedAt.attempts).to.equal(1);
    } finally {
      front.setRate(0);
      await proc.stop('SIGKILL');
    }
    expect((await row(killedAt.id)).status, 'a killed worker records nothing').to.equal('running');
    await startWorker();
    const done = (await follow(hub.admin, `${API}/backups/${killedAt.id}`)).pop();
    expect(done, JSON.stringify(done)).to.include({ status: 'success', attempts: 2, error_message: null });
    const repository = await Repository.open(repo.path);
    const points = (await repository.listPoints()).filter((p) => p.meta.backup_id === killedAt.id);
    expect(points.map((p) => p.id)).to.deep.equal([(await row(killedAt.id)).manifest_ref]);
    for (const d of vm.disks) expect(await restoredSha256(repository, points[0]!.id, String(d.key), 4 * MiB)).to.equal(sha256(images.get(`${vm.ref}/${d.key}`)!));
    for (const v of (await vc.info()).vms) expect(v.snapshots, `${v.ref}: the killed attempt's snapshot is removed by the retry`).to.deep.equal([]);
  });
});
