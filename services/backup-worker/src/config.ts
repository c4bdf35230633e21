import { loadConfig, parse, type VarSpec } from '@vaultflow/config';
import { parseNbdkitTemplate, type NbdkitTemplate } from '@vaultflow/nbd';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const TRANSPORTS = ['https', 'nbd'] as const;

/**
 * Placeholders of WORKER_NBDKIT_PLUGIN, filled per disk: the vCenter (`host`, `port`, `username`,
 * `password_fd`: the number of an inherited descriptor nbdkit reads the password from, for
 * `password=-FD`, so it is never on a command line or on disk; `thumbprint` as stored,
 * empty when none), the VM and snapshot morefs (`vm`, `snapshot`), the snapshot disk (`disk_path`:
 * `[ds] dir/disk.vmdk`; `datastore`; `file`: `dir/disk.vmdk`; `flat_file`: `dir/disk-flat.vmdk`) and
 * `datastore_url`, the datastore's `info.url` (a local directory on the vCenter simulator).
 */
export const NBDKIT_PLACEHOLDERS = [
  'host', 'port', 'username', 'password_fd', 'thumbprint', 'vm', 'snapshot', 'disk_path', 'datastore', 'file', 'flat_file', 'datastore_url',
] as const;
export type NbdkitPlaceholder = (typeof NBDKIT_PLACEHOLDERS)[number];

/** Production: VMware's VDDK plugin reads the snapshot disk from the host (nbdkit-vddk-plugin(1)). */
export const DEFAULT_NBDKIT_PLUGIN =
  'vddk server={host} port={port} user={username} password=-{password_fd} thumbprint={thumbprint} vm=moref={vm} snapshot={snapshot} transports=nbdssl:nbd file={disk_path}';

/** Every environment variable backup-worker reads, validated at start. */
export const WORKER_CONFIG = {
  databaseUrl: { name: 'DATABASE_URL', description: 'MariaDB connection URL', default: 'mysql://root@127.0.0.1:3306/vaultflow', parse: parse.url(['mysql:', 'mariadb:']) } satisfies VarSpec<URL>,
  redisUrl: { name: 'REDIS_URL', description: 'Redis connection URL', default: 'redis://127.0.0.1:6379', parse: parse.url(['redis:', 'rediss:']) } satisfies VarSpec<URL>,
  redisPrefix: { name: 'REDIS_PREFIX', description: 'key prefix of every queue of this hub', default: 'vaultflow', parse: parse.pattern(/^[A-Za-z0-9_:.-]{1,64}$/, '1-64 letters, digits, _ : . or -') } satisfies VarSpec<string>,
  secretKey: { name: 'VAULTFLOW_SECRET_KEY', description: 'key that decrypts stored vCenter credentials (at least 32 characters)', parse: parse.minLength(32, 'a secret') } satisfies VarSpec<string>,
  logLevel: { name: 'LOG_LEVEL', description: 'pino log level', default: 'info', parse: parse.oneOf(LOG_LEVELS) } satisfies VarSpec<(typeof LOG_LEVELS)[number]>,
  concurrency: { name: 'WORKER_CONCURRENCY', description: 'VMs backed up at once by this replica', default: '4', parse: parse.positiveInt } satisfies VarSpec<number>,
  transport: { name: 'WORKER_TRANSPORT', description: 'how disks are read: https (datastore /folder range reads) or nbd (nbdkit per disk)', default: 'https', parse: parse.oneOf(TRANSPORTS) } satisfies VarSpec<(typeof TRANSPORTS)[number]>,
  nbdkitPlugin: { name: 'WORKER_NBDKIT_PLUGIN', description: 'nbd transport: nbdkit filters, plugin and parameters with {placeholders}', default: DEFAULT_NBDKIT_PLUGIN, parse: (raw: string) => parseNbdkitTemplate(raw, NBDKIT_PLACEHOLDERS) } satisfies VarSpec<NbdkitTemplate>,
  nbdkitCommand: { name: 'WORKER_NBDKIT_COMMAND', description: 'nbd transport: the nbdkit binary', default: 'nbdkit', parse: parse.text } satisfies VarSpec<string>,
  metricsPort: { name: 'WORKER_METRICS_PORT', description: 'port of /metrics and /healthz (0: none)', default: '9465', parse: (raw: string) => (raw === '0' ? 0 : parse.port(raw)) } satisfies VarSpec<number>,
};

export interface WorkerConfig {
  databaseUrl: URL;
  redisUrl: URL;
  redisPrefix: string;
  secretKey: string;
  logLevel: (typeof LOG_LEVELS)[number];
  concurrency: number;
  transport: (typeof TRANSPORTS)[number];
  nbdkitPlugin: NbdkitTemplate;
  nbdkitCommand: string;
  metricsPort: number;
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadConfig(WORKER_CONFIG, env) as WorkerConfig;
}
