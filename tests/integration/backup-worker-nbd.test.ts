import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Repository } from '@vaultflow/backup-repository';
import { DEFAULT_NBDKIT_PLUGIN, loadWorkerConfig, startBackupWorker, type BackupWorker } from '@vaultflow/backup-worker';
import { startOrchestrator, type Orchestrator } from '@vaultflow/flow-orchestrator';
import { createLogger } from '@vaultflow/logging';
import { SecretBox } from '@vaultflow/security';
import { TEST_REDIS_URL, startVcsim, type Vcsim, type VcsimVm } from '@vaultflow/testing';
import { makeRepository } from '../support/fixtures.js';
import { startHub, unique, type TestHub } from '../support/hub.js';
import {
  finishedExecution, guestData, labNbdkitPlugin, liveDiskContents, nbdkitProcesses, startExecution, vcsimEndpoint,
} from '../support/vcenter-lab.js';
import { restoredSha256 } from '../../packages/backup-repository/src/testing/restored-sha.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const B = 64 * KiB; // the harness's change-tracking block
const DISK_MB = 4;
const FLOWS = '/api/v1/protection-flows';
const noise = guestData;
const restoredSha = (repo: Repository, pointId: string, key: string) => restoredSha256(repo, pointId, key, DISK_MB * MiB);

// The nbd transport inside the worker: per disk, nbdkit (here its file plugin on the simulator's frozen
// snapshot file, through the lab's template; VDDK in production) behind the same DiskReader, with read
// faults injected by nbdkit's error filter. Each test starts a worker with its own transport settings.
describe('backup worker: the nbd transport (nbdkit per disk), read retries and permanent read errors', function () {
  this.timeout(120_000);
  let hub: TestHub;
  let vc: Vcsim;
  let orchestrator: Orchestrator;
  let repoPath: string;
  let flowId: string;
  let vm: VcsimVm;
  let worker: BackupWorker | undefined;
  const logger = createLogger('backup-worker-nbd-test', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');

  /** A worker with the nbd transport and this plugin template, read through the worker's own config loader. */
  const startWorker = async (plugin: string, readAttempts?: number) => {
    await worker?.close();
    const c = loadWorkerConfig({ VAULTFLOW_SECRET_KEY: hub.secretKey, WORKER_TRANSPORT: 'nbd', WORKER_NBDKIT_PLUGIN: plugin });
    worker = await startBackupWorker({
      db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, secrets: new SecretBox(hub.secretKey), logger, checkEveryMs: 500,
      readers: { transport: c.transport, nbdkit: { template: c.nbdkitPlugin }, ...(readAttempts ? { readAttempts } : {}) },
    });
  };
  const execute = async (): Promise<any> => finishedExecution(hub, flowId, await startExecution(hub, flowId));
  const logsOf = async (executionId: string): Promise<Array<{ level: string; step: string; message: string }>> => {
    await new Promise((r) => setTimeout(r, 300)); // job logs are written in small batches
    return (await hub.admin.get(`${FLOWS}/${flowId}/executions/${executionId}/logs?limit=500`)).body.logs;
  };
  const datastoreDir = async () => path.dirname(path.dirname((await vc.info()).vms[0]!.disks[0]!.flatPath));

  before(async () => {
    hub = await startHub();
    vc = await startVcsim({ vms: 1, disks: 2, diskMb: DISK_MB, pageBytes: MiB });
    vm = (await vc.info()).vms[0]!;
    const [a, b] = vm.disks.map((d) => d.key) as [number, number];
    await vc.write(vm.ref, a, 0, noise(MiB + 5000));
    await vc.write(vm.ref, b, 3 * MiB, noise(200 * KiB));
    const reg = await hub.admin.post('/api/v1/vcenters', { name: unique('vcsim'), ...vcsimEndpoint(vc) });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    const row = await hub.db.db('vm_contexts').where({ vcenter_id: reg.body.id }).first('context_id');
    const repo = await makeRepository(hub);
    repoPath = repo.path;
    const flow = await hub.admin.post(FLOWS, { name: unique('nbd'), flow_type: 'backup', target_type: 'vm', target_id: row.context_id, repository_id: repo.id });
    expect(flow.status, JSON.stringify(flow.body)).to.equal(201);
    flowId = flow.body.id;
    orchestrator = await startOrchestrator({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, logger, reconcileSeconds: 3600, sweepSeconds: 3600 });
  });
  after(async () => {
    await worker?.close();
    await orchestrator?.close();
    await vc?.stop();
    await hub?.stop();
  });

  it('rides out injected EIO: reads are retried with backoff (logged), the backup succeeds on its first attempt and restores bit for bit', async () => {
    // every read fails with EIO while the trigger file exists; it is removed once the job log shows a retry
    const trigger = path.join(hub.dataDir, 'inject-eio');
    await writeFile(trigger, '');
    await startWorker(labNbdkitPlugin(['error'], ['error-pread=EIO', 'error-pread-rate=100%', `error-pread-file=${trigger}`]), 12);
    const content = await liveDiskContents(vc);
    const running = execute();
    const end = Date.now() + 30_000;
    while (!(await hub.db.db('job_logs').where({ step: 'read-retry' }).first())) {
      if (Date.now() > end) throw new Error('no read-retry was logged within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await rm(trigger);
    const done = await running;
    expect(done.status, JSON.stringify(done)).to.equal('success');
    const run = await hub.db.db('protection_flow_vm_runs').where({ execution_id: done.id }).first();
    expect(run.attempts).to.equal(1);
    const retries = (await logsOf(done.id)).filter((l) => l.step === 'read-retry');
    expect(retries.length, 'no read was retried: was the error filter in the path?').to.be.above(0);
    expect(retries[0]!.level).to.equal('warn');
    expect(retries[0]!.message).to.match(/^disk \[LocalDS_0\] .*-snapshot-\d+\.vmdk: read at offset \d+ failed \(attempt \d+\), retrying in \d+ ms: .*EIO/);
    const backup = await hub.db.db('backup_jobs').where({ flow_execution_id: done.id }).first();
    const repo = await Repository.open(repoPath);
    for (const d of await hub.db.db('backup_disks').where({ backup_job_id: backup.id }).select()) {
      const was = content.get(`${vm.ref}/${d.disk_key}`)!;
      expect(Number(d.bytes_transferred)).to.equal(was.nonZeroBlocks * B);
      expect(await restoredSha(repo, backup.manifest_ref, String(d.disk_key))).to.equal(was.sha256);
    }
    expect(nbdkitProcesses(await datastoreDir())).to.deep.equal([]);
  });

  it('a permanent read error (EPERM) fails the VM at once with a message naming disk and offset; snapshot and nbdkit are gone, no point is written', async () => {
    await startWorker(labNbdkitPlugin(['error'], ['error-pread=EPERM', 'error-pread-rate=100%']));
    const pointsBefore = (await (await Repository.open(repoPath)).listPoints()).length;
    await vc.write(vm.ref, vm.disks[0]!.key, 2 * MiB, noise(1000)); // something to read
    const done = await execute();
    expect(done.status, JSON.stringify(done)).to.equal('error');
    const run = await hub.db.db('protection_flow_vm_runs').where({ execution_id: done.id }).first();
    expect(run).to.include({ status: 'failed', attempts: 1 });
    expect(run.error_message).to.match(/^disk \[LocalDS_0\] DC0_H0_VM0\/.*-snapshot-\d+\.vmdk: reading \d+ bytes at offset \d+ failed: .*EPERM/);
    const backup = await hub.db.db('backup_jobs').where({ flow_execution_id: done.id }).first();
    expect(backup).to.include({ status: 'failed', manifest_ref: null });
    expect(backup.error_message).to.equal(run.error_message);
    expect((await (await Repository.open(repoPath)).listPoints()).length).to.equal(pointsBefore);
    expect((await vc.info()).vms[0]!.snapshots).to.deep.equal([]);
    expect(nbdkitProcesses(await datastoreDir())).to.deep.equal([]);
  });

  it('fills the template with the vCenter\'s credentials: nbdkit\'s curl plugin logs in to /folder with the password from a descriptor', async () => {
    // the shape of the VDDK template (server, user, password=-FD, disk path), with a plugin this machine has
    await startWorker(`curl url=http://{host}:{port}/folder/{flat_file}?dcPath=${vc.datacenter}&dsName={datastore} user={username} password=-{password_fd}`);
    await vc.write(vm.ref, vm.disks[1]!.key, 3 * MiB + 5000, noise(3000));
    const content = await liveDiskContents(vc);
    const done = await execute();
    expect(done.status, JSON.stringify(done)).to.equal('success');
    const backup = await hub.db.db('backup_jobs').where({ flow_execution_id: done.id }).first();
    const repo = await Repository.open(repoPath);
    for (const d of vm.disks) expect(await restoredSha(repo, backup.manifest_ref, String(d.key))).to.equal(content.get(`${vm.ref}/${d.key}`)!.sha256);
  });

  it('a template nbdkit cannot start with fails the VM with nbdkit\'s own message', async () => {
    await startWorker('file file={datastore_url}/no-such-dir/{flat_file}');
    const done = await execute();
    expect(done.status, JSON.stringify(done)).to.equal('error');
    const run = await hub.db.db('protection_flow_vm_runs').where({ execution_id: done.id }).first();
    expect(run.attempts).to.equal(1);
    expect(run.error_message).to.match(/the nbd transport could not open it: nbdkit exited with code 1 before serving: .*no-such-dir/);
    expect((await vc.info()).vms[0]!.snapshots).to.deep.equal([]);
  });

  it('reads its settings from the environment in one place, naming each wrong variable', () => {
    const key = 'k'.repeat(40);
    const c = loadWorkerConfig({ VAULTFLOW_SECRET_KEY: key });
    expect(c.transport).to.equal('https');
    expect(c.nbdkitCommand).to.equal('nbdkit');
    expect(c.nbdkitPlugin).to.include({ plugin: 'vddk', source: DEFAULT_NBDKIT_PLUGIN });
    expect(c.nbdkitPlugin.placeholders).to.include.members(['host', 'password_fd', 'vm', 'snapshot', 'disk_path']);
    const lab = loadWorkerConfig({ VAULTFLOW_SECRET_KEY: key, WORKER_TRANSPORT: 'nbd', WORKER_NBDKIT_PLUGIN: labNbdkitPlugin(['delay'], ['rdelay=1ms']) });
    expect(lab.nbdkitPlugin).to.deep.include({ filters: ['delay'], plugin: 'file', placeholders: ['datastore_url', 'flat_file'] });
    let message = '';
    try {
      loadWorkerConfig({ VAULTFLOW_SECRET_KEY: key, WORKER_TRANSPORT: 'vddk', WORKER_NBDKIT_PLUGIN: 'file file={nope}' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.include('WORKER_TRANSPORT: must be one of https, nbd').and.include('WORKER_NBDKIT_PLUGIN: uses the unknown placeholder {nope}');
  });
});
