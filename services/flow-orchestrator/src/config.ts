import { loadConfig, parse, type VarSpec } from '@vaultflow/config';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every environment variable flow-orchestrator reads, validated at start. */
export const ORCHESTRATOR_CONFIG = {
  databaseUrl: { name: 'DATABASE_URL', description: 'MariaDB connection URL', default: 'mysql://root@127.0.0.1:3306/vaultflow', parse: parse.url(['mysql:', 'mariadb:']) } satisfies VarSpec<URL>,
  redisUrl: { name: 'REDIS_URL', description: 'Redis connection URL', default: 'redis://127.0.0.1:6379', parse: parse.url(['redis:', 'rediss:']) } satisfies VarSpec<URL>,
  redisPrefix: { name: 'REDIS_PREFIX', description: 'key prefix of every queue of this hub', default: 'vaultflow', parse: parse.pattern(/^[A-Za-z0-9_:.-]{1,64}$/, '1-64 letters, digits, _ : . or -') } satisfies VarSpec<string>,
  logLevel: { name: 'LOG_LEVEL', description: 'pino log level', default: 'info', parse: parse.oneOf(LOG_LEVELS) } satisfies VarSpec<(typeof LOG_LEVELS)[number]>,
  metricsPort: { name: 'ORCHESTRATOR_METRICS_PORT', description: 'port of /metrics and /healthz (0: none)', default: '9464', parse: (raw: string) => (raw === '0' ? 0 : parse.port(raw)) } satisfies VarSpec<number>,
  concurrency: { name: 'ORCHESTRATOR_CONCURRENCY', description: 'flow runs handled at once by this replica', default: '200', parse: parse.positiveInt } satisfies VarSpec<number>,
  reconcileSeconds: { name: 'RECONCILE_INTERVAL_SECONDS', description: 'how often Redis is reconciled with MariaDB', default: '60', parse: parse.positiveInt } satisfies VarSpec<number>,
  sweepSeconds: { name: 'SWEEP_INTERVAL_SECONDS', description: 'how often stuck VMs and executions are repaired', default: '30', parse: parse.positiveInt } satisfies VarSpec<number>,
};

export interface OrchestratorConfig {
  databaseUrl: URL;
  redisUrl: URL;
  redisPrefix: string;
  logLevel: (typeof LOG_LEVELS)[number];
  metricsPort: number;
  concurrency: number;
  reconcileSeconds: number;
  sweepSeconds: number;
}

export function loadOrchestratorConfig(env: NodeJS.ProcessEnv = process.env): OrchestratorConfig {
  return loadConfig(ORCHESTRATOR_CONFIG, env) as OrchestratorConfig;
}
