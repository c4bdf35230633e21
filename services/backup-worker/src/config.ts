import { loadConfig, parse, type VarSpec } from '@vaultflow/config';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every environment variable backup-worker reads, validated at start. */
export const WORKER_CONFIG = {
  databaseUrl: { name: 'DATABASE_URL', description: 'MariaDB connection URL', default: 'mysql://root@127.0.0.1:3306/vaultflow', parse: parse.url(['mysql:', 'mariadb:']) } satisfies VarSpec<URL>,
  redisUrl: { name: 'REDIS_URL', description: 'Redis connection URL', default: 'redis://127.0.0.1:6379', parse: parse.url(['redis:', 'rediss:']) } satisfies VarSpec<URL>,
  redisPrefix: { name: 'REDIS_PREFIX', description: 'key prefix of every queue of this hub', default: 'vaultflow', parse: parse.pattern(/^[A-Za-z0-9_:.-]{1,64}$/, '1-64 letters, digits, _ : . or -') } satisfies VarSpec<string>,
  secretKey: { name: 'VAULTFLOW_SECRET_KEY', description: 'key that decrypts stored vCenter credentials (at least 32 characters)', parse: parse.minLength(32, 'a secret') } satisfies VarSpec<string>,
  logLevel: { name: 'LOG_LEVEL', description: 'pino log level', default: 'info', parse: parse.oneOf(LOG_LEVELS) } satisfies VarSpec<(typeof LOG_LEVELS)[number]>,
  concurrency: { name: 'WORKER_CONCURRENCY', description: 'VMs backed up at once by this replica', default: '4', parse: parse.positiveInt } satisfies VarSpec<number>,
  metricsPort: { name: 'WORKER_METRICS_PORT', description: 'port of /metrics and /healthz (0: none)', default: '9465', parse: (raw: string) => (raw === '0' ? 0 : parse.port(raw)) } satisfies VarSpec<number>,
};

export interface WorkerConfig {
  databaseUrl: URL;
  redisUrl: URL;
  redisPrefix: string;
  secretKey: string;
  logLevel: (typeof LOG_LEVELS)[number];
  concurrency: number;
  metricsPort: number;
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadConfig(WORKER_CONFIG, env) as WorkerConfig;
}
