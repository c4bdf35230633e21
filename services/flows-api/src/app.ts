import express, { Router, type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import { createStores, type Db } from '@vaultflow/db';
import type { Logger } from '@vaultflow/logging';
import { BackupJobQueue, FlowRunProducer, FlowSchedulers, QUEUES, VmBackupQueue, openQueue, redisReachable } from '@vaultflow/queue';
import { createEngine } from '@vaultflow/engine';
import { allEndpoints, buildOpenApi } from '@vaultflow/schemas';
import { SecretBox } from '@vaultflow/security';
import { QUEUE_BOARD_PATH, createQueueBoard } from './http/bull-board.js';
import { DEFAULT_GUI_DIR } from './config.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { createGuiStatic } from './http/gui-static.js';
import { createMetrics } from './http/metrics.js';
import { Registrar } from './http/registrar.js';
import { genRequestId } from './http/request-id.js';
import { backupsRoutes } from './routes/backups.routes.js';
import { flowsRoutes } from './routes/flows.routes.js';
import { groupsRoutes } from './routes/groups.routes.js';
import { identityRoutes } from './routes/identity.routes.js';
import { inventoryRoutes } from './routes/inventory.routes.js';
import { overviewRoutes } from './routes/overview.routes.js';
import { policiesRoutes } from './routes/policies.routes.js';
import { repositoriesRoutes } from './routes/repositories.routes.js';
import { schedulesRoutes } from './routes/schedules.routes.js';
import { AuthService } from './services/auth.service.js';
import { BackupRepositories } from './services/backup-repositories.service.js';
import { BackupVerifyService } from './services/backup-verify.service.js';
import { RepositoryPruneService } from './services/repository-prune.service.js';
import { BackupService } from './services/backup.service.js';
import { RedisLocks } from './services/discovery-lock.js';
import { DiscoveryService } from './services/discovery.service.js';
import { ExecutionHistoryService } from './services/execution-history.service.js';
import { FlowCheckService } from './services/flow-check.service.js';
import { FlowRunService } from './services/flow-run.service.js';
import { SchedulerSync } from './services/flow-schedule-sync.js';
import { FlowService } from './services/flow.service.js';
import { GroupService } from './services/group.service.js';
import { InventoryService } from './services/inventory.service.js';
import { LoginRateLimiter } from './services/login-rate-limiter.js';
import { PolicyService } from './services/policy.service.js';
import { ReferenceChecker } from './services/references.js';
import { RepositoryService } from './services/repository.service.js';
import { RepositoryStorage } from './services/repository-storage.js';
import { RestoreImageService } from './services/restore-image.service.js';
import { RestoreService } from './services/restore.service.js';
import { ScheduleService } from './services/schedule.service.js';
import { UnprotectedVmsService } from './services/unprotected-vms.service.js';
import { UserService } from './services/user.service.js';
import { VcenterService } from './services/vcenter.service.js';
import { VsphereConnector, type VcenterConnector } from './services/vcenter-connector.js';

export interface ApiDeps {
  db: Db;
  redis: Redis;
  redisPrefix: string;
  secretKey: string;
  logger: Logger;
  sessionTtlHours?: number;
  bootstrapToken?: string;
  /** Validate every answer against its schema (on in tests). */
  validateResponses?: boolean;
  now?: () => Date;
  version?: string;
  /** How vCenters are logged in to; default our vim25 client (10 s login timeout). */
  vcenterConnector?: VcenterConnector;
  /** Folder of the built web console served at /; default services/gui/dist (GUI_DIR). */
  guiDir?: string;
}

/** Builds flows-api: every service wired to its stores and queue, and the Express app on top. */
export function buildApi(deps: ApiDeps) {
  const now = deps.now ?? (() => new Date());
  const sessionTtlHours = deps.sessionTtlHours ?? 12;
  const stores = createStores(deps.db);
  const flowRunsQueue = openQueue(QUEUES.flowRuns, deps.redis, deps.redisPrefix);
  const vmBackupsQueue = openQueue(QUEUES.vmBackups, deps.redis, deps.redisPrefix);
  const engine = createEngine({ db: deps.db, stores, vmJobs: new VmBackupQueue(vmBackupsQueue), logger: deps.logger, now });
  const storage = new RepositoryStorage();
  const sync = new SchedulerSync(stores.flows, new FlowSchedulers(flowRunsQueue), deps.logger, now);
  const refs = new ReferenceChecker(stores);
  const secrets = new SecretBox(deps.secretKey);
  const connector = deps.vcenterConnector ?? new VsphereConnector();
  const discovery = new DiscoveryService(deps.db, stores, connector, secrets, new RedisLocks(deps.redis, deps.redisPrefix), deps.logger, now);
  const services = {
    flows: new FlowService(deps.db, stores, refs, sync, now),
    runs: new FlowRunService(deps.db, stores, new FlowRunProducer(flowRunsQueue), engine.canceller),
    checks: new FlowCheckService(stores, storage, now),
    schedules: new ScheduleService(deps.db, stores, sync, now),
    repositories: new RepositoryService(deps.db, stores, storage, now),
    policies: new PolicyService(deps.db, stores),
    groups: new GroupService(deps.db, stores),
    inventory: new InventoryService(stores),
    vcenters: new VcenterService(deps.db, stores, secrets, connector, discovery),
    discovery,
    auth: new AuthService(stores, new LoginRateLimiter(deps.redis, deps.redisPrefix), { sessionTtlHours, bootstrapToken: deps.bootstrapToken }, now),
    users: new UserService(deps.db, stores, now),
    executionHistory: new ExecutionHistoryService(stores),
    unprotectedVms: new UnprotectedVmsService(stores, now),
  };
  const backupRepos = new BackupRepositories();
  const backupJobs = new BackupJobQueue(vmBackupsQueue);
  const backups = new BackupService(deps.db, stores, backupJobs, backupRepos, now);
  const backupServices = {
    backups,
    restores: new RestoreService(deps.db, stores, backups, backupJobs),
    images: new RestoreImageService(stores, backups, backupRepos),
    verify: new BackupVerifyService(stores, backupRepos),
    prune: new RepositoryPruneService(stores, backupRepos),
  };
  const metrics = createMetrics(stores.flows);
  const openapi = buildOpenApi(allEndpoints, {
    title: 'Vaultflow API',
    version: deps.version ?? '0.1.0',
    description: 'Protection flows, schedules, repositories, policies and the VMware inventory of a Vaultflow hub.',
  });

  const app: Express = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(pinoHttp({ logger: deps.logger, genReqId: genRequestId, customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info') }));
  app.use(metrics.middleware);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [database, redis] = await Promise.all([
      deps.db.raw('SELECT 1').then(() => true, () => false),
      redisReachable(deps.redis),
    ]);
    res.status(database && redis ? 200 : 503).json({ status: database && redis ? 'ready' : 'not ready', database, redis });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  const api = Router();
  api.use(express.json({ limit: '1mb', strict: true }));
  api.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  const r = new Registrar(api, services.auth, { validateResponses: deps.validateResponses });
  identityRoutes(r, services.auth, services.users, { sessionTtlSeconds: sessionTtlHours * 3600 });
  flowsRoutes(r, services.flows, services.runs, services.checks);
  schedulesRoutes(r, services.schedules);
  groupsRoutes(r, services.groups);
  repositoriesRoutes(r, services.repositories);
  policiesRoutes(r, services.policies);
  overviewRoutes(r, services.executionHistory, services.unprotectedVms);
  inventoryRoutes(r, services.inventory, services.vcenters, services.discovery);
  backupsRoutes(r, backupServices);
  app.use('/api/v1', api);
  app.use(QUEUE_BOARD_PATH, createQueueBoard(services.auth, [flowRunsQueue, vmBackupsQueue]));
  app.use(createGuiStatic(deps.guiDir ?? DEFAULT_GUI_DIR, deps.logger));
  app.get('/', (_req, res) => {
    res.json({ name: 'Vaultflow', api: '/api/v1', openapi: '/api/v1/openapi.json', health: '/healthz' });
  });
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));

  return {
    app,
    services,
    stores,
    openapi,
    queues: { flowRuns: flowRunsQueue, vmBackups: vmBackupsQueue } as { flowRuns: Queue; vmBackups: Queue },
    async close() {
      await engine.log.flush();
      await flowRunsQueue.close();
      await vmBackupsQueue.close();
    },
  };
}
export type Api = ReturnType<typeof buildApi>;
