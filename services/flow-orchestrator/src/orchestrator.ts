import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createStores, type Db } from '@vaultflow/db';
import { FireSweep, createEngine } from '@vaultflow/engine';
import { startMetricsServer, type Logger } from '@vaultflow/logging';
import { FlowSchedulers, JOBS, QUEUES, VmBackupQueue, assertHandlers, createRedis, openQueue, type FlowRunPayload } from '@vaultflow/queue';
import { FlowRunHandler } from './handlers/flow-run.handler.js';
import { createOrchestratorMetrics } from './metrics.js';
import { Reconciler } from './scheduler/reconciler.js';

export interface OrchestratorDeps {
  db: Db;
  redisUrl: URL | string;
  redisPrefix: string;
  logger: Logger;
  concurrency?: number;
  reconcileSeconds?: number;
  sweepSeconds?: number;
  /** Serve /metrics and /healthz on this port (0 or undefined: none). */
  metricsPort?: number;
  metricsHost?: string;
  /** Names this replica in Redis claims (diagnostics only). */
  instanceId?: string;
  now?: () => Date;
}

/**
 * One orchestrator replica: consumes `flow-runs`, reconciles job schedulers with MariaDB at start
 * and periodically, and sweeps stuck VMs and executions. Any number may run at once.
 */
export async function startOrchestrator(deps: OrchestratorDeps) {
  const now = deps.now ?? (() => new Date());
  const stores = createStores(deps.db);
  const connection: Redis = createRedis(deps.redisUrl);
  const flowRuns = openQueue(QUEUES.flowRuns, connection, deps.redisPrefix);
  const vmBackups = openQueue(QUEUES.vmBackups, connection, deps.redisPrefix);
  const vmJobs = new VmBackupQueue(vmBackups);
  const engine = createEngine({ db: deps.db, stores, vmJobs, logger: deps.logger, now });
  const metrics = createOrchestratorMetrics(stores.executions, [flowRuns, vmBackups]);
  const fireSweep = new FireSweep(
    stores,
    engine.fires,
    engine.starter,
    { claim: async (key, ttlMs) => (await connection.set(`${deps.redisPrefix}:${key}`, deps.instanceId ?? '1', 'PX', ttlMs, 'NX')) === 'OK' },
    {
      now,
      onCreated: (at) => metrics.lag.observe((now().getTime() - at.getTime()) / 1000),
      onSwept: (r) => deps.logger.info({ at: r.at.toISOString(), flows: r.flows, created: r.created, startedLateMs: r.startedLateMs, ms: r.ms }, 'fired every flow due at the same moment'),
      onError: (err) => deps.logger.warn({ err: err.message }, 'fire sweep failed in part; those flows fire through their own jobs'),
    },
  );
  const handler = new FlowRunHandler(engine, metrics, now, fireSweep);
  const handlers = { 'flow.run': (job: { id?: string; data: FlowRunPayload; attemptsMade: number }) => handler.handle({ id: job.id, data: job.data, attemptsMade: job.attemptsMade }) };
  assertHandlers(QUEUES.flowRuns, handlers);

  const reconciler = new Reconciler(
    stores,
    new FlowSchedulers(flowRuns),
    {
      async enqueueFire(p) {
        const spec = JOBS['flow.run'];
        await flowRuns.add('flow.run', p, { jobId: `fire-${p.flow_id}-${Date.parse(p.scheduled_for)}`, attempts: spec.attempts, backoff: { type: 'exponential', delay: spec.backoffMs }, removeOnComplete: { age: 86400 }, removeOnFail: { age: 30 * 86400 } });
      },
    },
    deps.logger,
    now,
  );

  const worker = new Worker(
    QUEUES.flowRuns,
    async (job) => {
      const fn = handlers[job.name as keyof typeof handlers];
      if (!fn) throw new Error(`no handler for ${job.name}`);
      return fn(job);
    },
    { connection: createRedis(deps.redisUrl), prefix: deps.redisPrefix, concurrency: deps.concurrency ?? 200, lockDuration: 30_000, stalledInterval: 15_000, maxStalledCount: 3 },
  );
  worker.on('failed', (job, err) => deps.logger.warn({ jobId: job?.id, err: err.message, attempts: job?.attemptsMade }, 'flow.run failed'));
  worker.on('error', (err) => deps.logger.warn({ err: err.message }, 'flow-runs worker error'));

  let stopped = false;
  const runSafely = (name: string, fn: () => Promise<unknown>) => async () => {
    if (stopped) return;
    try {
      await fn();
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, `${name} failed`);
    }
  };
  const reconcileEvery = (deps.reconcileSeconds ?? 60) * 1000;
  const reconcile = runSafely('reconciler', async () => {
    const r = await reconciler.reconcile();
    await fireSweep.armUpcoming(reconcileEvery + 15_000);
    metrics.repaired('scheduler_added', r.added);
    metrics.repaired('scheduler_updated', r.updated);
    metrics.repaired('scheduler_rearmed', r.rearmed);
    metrics.repaired('scheduler_removed', r.removed);
    metrics.repaired('misfire_run', r.misfiresRun);
    metrics.repaired('misfire_missed', r.misfiresMissed);
  });
  const sweep = runSafely('sweeper', async () => {
    const r = await engine.sweeper.sweep();
    metrics.repaired('vm_stale_skipped', r.skippedStale);
    metrics.repaired('vm_released', r.released);
    metrics.repaired('vm_requeued', r.requeued);
    metrics.repaired('execution_finalized', r.finalized);
    metrics.repaired('execution_started', r.started);
  });
  await reconcile();
  const timers = [setInterval(reconcile, reconcileEvery), setInterval(sweep, (deps.sweepSeconds ?? 30) * 1000)];

  const server = deps.metricsPort ? await startMetricsServer({ registry: metrics.registry, port: deps.metricsPort, host: deps.metricsHost, healthy: () => worker.isRunning() }) : undefined;

  return {
    engine,
    reconciler,
    fireSweep,
    worker,
    reconcile,
    sweep,
    metrics,
    async close() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      fireSweep.close();
      await worker.close();
      await engine.log.flush();
      await flowRuns.close();
      await vmBackups.close();
      connection.disconnect();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}
export type Orchestrator = Awaited<ReturnType<typeof startOrchestrator>>;
