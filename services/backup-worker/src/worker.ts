import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import { createStores, type Db } from '@vaultflow/db';
import { createEngine } from '@vaultflow/engine';
import { startMetricsServer, type Logger } from '@vaultflow/logging';
import { BackupJobQueue, JOBS, QUEUES, VmBackupQueue, assertHandlers, createRedis, openQueue, type BackupVmPayload } from '@vaultflow/queue';
import { apiJobs } from './handlers/api-jobs.js';
import { BackupVmHandler } from './handlers/backup-vm.handler.js';
import { CapacityGuard, type StatFs } from './services/capacity-check.js';
import { RestoreService } from './services/restore.service.js';
import { DatastoreUploader } from './services/restore-upload.js';
import { createWorkerMetrics } from './metrics.js';
import { CopyService } from './services/copy.service.js';
import { PolicySteps } from './services/policy-steps.js';
import { RetentionService } from './services/retention.service.js';
import { ScheduledCopies } from './services/scheduled-copies.js';
import { VmBackupService, type PasswordOpener, type VsphereConnect } from './services/vm-backup.service.js';
import { DiskReaderFactory, type DiskReaderSettings } from './services/disk-reader-factory.js';

export interface BackupWorkerDeps {
  db: Db;
  redisUrl: URL | string;
  redisPrefix: string;
  /** Opens the stored vCenter passwords (a SecretBox over VAULTFLOW_SECRET_KEY). */
  secrets: PasswordOpener;
  logger: Logger;
  /** VMs at once; default 4. */
  concurrency?: number;
  /** How often `scheduled` copy rules run (default hourly, the first pass a minute after start); 0: never. */
  scheduledCopyEveryMs?: number;
  /** Serve /metrics and /healthz on this port (0 or undefined: none). */
  metricsPort?: number;
  metricsHost?: string;
  workerId?: string;
  /** How often progress is saved and cancellation checked; default 2000 ms. */
  checkEveryMs?: number;
  connect?: VsphereConnect;
  /** How disks are read (WORKER_TRANSPORT, WORKER_NBDKIT_*); default the https transport. */
  readers?: DiskReaderSettings;
  /** Free space of a repository's file system (tests inject one); default statfs. */
  statfs?: StatFs;
  /** How often API backups and restores are checked against their jobs (default 30 s), and their grace (default 60 s). */
  sweepEveryMs?: number;
  sweepGraceMs?: number;
}

/** One backup-worker replica: consumes `vm-backups` and backs up one VM per job. Any number may run at once. */
export async function startBackupWorker(deps: BackupWorkerDeps) {
  const stores = createStores(deps.db);
  const connection = createRedis(deps.redisUrl);
  const vmBackups = openQueue(QUEUES.vmBackups, connection, deps.redisPrefix);
  const engine = createEngine({ db: deps.db, stores, vmJobs: new VmBackupQueue(vmBackups), logger: deps.logger });
  const metrics = createWorkerMetrics();
  const service = new VmBackupService({ stores, secrets: deps.secrets, log: engine.log, logger: deps.logger, metrics, ...(deps.connect ? { connect: deps.connect } : {}), readers: new DiskReaderFactory(deps.readers), capacity: new CapacityGuard(deps.statfs) });
  const workerId = deps.workerId ?? `backup-worker-${randomUUID().slice(0, 8)}`;
  const retention = new RetentionService(deps.db, stores, engine.log, (root) => service.repository(root));
  const copies = new CopyService(stores, engine.log, (root) => service.repository(root));
  const policySteps = new PolicySteps(stores, copies, retention);
  const scheduledCopies = new ScheduledCopies(stores, policySteps, connection, deps.redisPrefix, deps.logger);
  const handler = new BackupVmHandler(engine.runner, service, metrics, workerId, deps.checkEveryMs, policySteps);
  const spec = JOBS['backup.vm'];
  const api = apiJobs({
    stores, backups: service, restores: new RestoreService(stores, new DatastoreUploader(stores, deps.secrets, deps.connect)), releaser: engine.releaser,
    jobs: new BackupJobQueue(vmBackups), logger: deps.logger, workerId, checkEveryMs: deps.checkEveryMs, sweepEveryMs: deps.sweepEveryMs, sweepGraceMs: deps.sweepGraceMs,
  });
  const handlers = {
    ...api.handlers,
    'backup.vm': async (job: { data: BackupVmPayload; attemptsMade: number; stalledCounter: number; opts: { attempts?: number }; updateProgress(p: object): Promise<void> }) => {
      const out = await handler.handle({ data: job.data, attemptsMade: job.attemptsMade, stalledCounter: job.stalledCounter, maxAttempts: job.opts.attempts ?? spec.attempts, reportProgress: (p) => void job.updateProgress(p).catch(() => undefined) });
      if (out.state === 'retry') throw out.error;
      if (out.state === 'recorded' && out.status === 'failed') throw new UnrecoverableError(out.error ?? 'failed');
      return out;
    },
  };
  assertHandlers(QUEUES.vmBackups, handlers);

  const worker = new Worker(
    QUEUES.vmBackups,
    async (job) => {
      const fn = handlers[job.name as keyof typeof handlers];
      if (!fn) throw new UnrecoverableError(`no handler for ${job.name}`);
      return fn(job);
    },
    { connection: createRedis(deps.redisUrl), prefix: deps.redisPrefix, concurrency: deps.concurrency ?? 4, lockDuration: spec.lockMs, stalledInterval: spec.stalledCheckMs, maxStalledCount: 2 },
  );
  worker.on('failed', (job, err) => deps.logger.warn({ jobId: job?.id, err: err.message, attempts: job?.attemptsMade }, `${job?.name ?? 'job'} failed`));
  const stopSweeps = api.startSweeps();
  if (deps.scheduledCopyEveryMs !== 0) scheduledCopies.start(deps.scheduledCopyEveryMs ?? 60 * 60_000);
  worker.on('error', (err) => deps.logger.warn({ err: err.message }, 'vm-backups worker error'));

  const server = deps.metricsPort ? await startMetricsServer({ registry: metrics.registry, port: deps.metricsPort, host: deps.metricsHost, healthy: () => worker.isRunning() }) : undefined;

  return {
    worker,
    workerId,
    metrics,
    /** The port /metrics listens on (useful when metricsPort asked for any free one). */
    metricsPort: (() => { const a = server?.address(); return a && typeof a === 'object' ? a.port : undefined; })(),
    /** The periodic pass of `scheduled` copy rules (runOnce runs one now). */
    scheduledCopies,
    /** The job log this worker writes (in batches; flush() writes what is pending). */
    jobLog: engine.log,
    /** Stops taking jobs, waits for running ones, and frees every connection. */
    async close() {
      stopSweeps();
      await scheduledCopies.stop();
      await worker.close();
      await engine.log.flush();
      await vmBackups.close();
      connection.disconnect();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}
export type BackupWorker = Awaited<ReturnType<typeof startBackupWorker>>;
