import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parse, type VarSpec } from '@vaultflow/config';

/** The built web console of this checkout: services/gui/dist (from src/ or dist/ of flows-api alike). */
export const DEFAULT_GUI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../gui/dist');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every environment variable flows-api reads, validated at start (the only place env is read). */
export const CONFIG_SPEC = {
  databaseUrl: { name: 'DATABASE_URL', description: 'MariaDB connection URL', default: 'mysql://root@127.0.0.1:3306/vaultflow', parse: (raw: string) => {
    const u = parse.url(['mysql:', 'mariadb:'])(raw);
    if (!u.pathname.replace(/^\//, '')) throw new Error('must name a database, e.g. mysql://root@127.0.0.1:3306/vaultflow');
    return u;
  } } satisfies VarSpec<URL>,
  redisUrl: { name: 'REDIS_URL', description: 'Redis connection URL', default: 'redis://127.0.0.1:6379', parse: parse.url(['redis:', 'rediss:']) } satisfies VarSpec<URL>,
  redisPrefix: { name: 'REDIS_PREFIX', description: 'key prefix of every queue and Redis key of this hub', default: 'vaultflow', parse: parse.pattern(/^[A-Za-z0-9_:.-]{1,64}$/, '1-64 letters, digits, _ : . or -') } satisfies VarSpec<string>,
  port: { name: 'PORT', description: 'HTTP port of flows-api', default: '8082', parse: parse.port } satisfies VarSpec<number>,
  host: { name: 'HOST', description: 'address flows-api listens on', default: '0.0.0.0', parse: parse.pattern(/^[A-Za-z0-9.:-]{1,255}$/, 'a host name or IP address') } satisfies VarSpec<string>,
  secretKey: { name: 'VAULTFLOW_SECRET_KEY', description: 'key that encrypts credentials at rest (at least 32 characters)', parse: parse.minLength(32, 'a secret') } satisfies VarSpec<string>,
  adminPassword: { name: 'ADMIN_PASSWORD', description: 'password of the first admin user (used once, on first start)', optional: true, parse: parse.minLength(12, 'a password') } satisfies VarSpec<string>,
  bootstrapToken: { name: 'AUTH_BOOTSTRAP_TOKEN', description: 'an admin API token accepted as is, for automation', optional: true, parse: parse.minLength(32, 'a token') } satisfies VarSpec<string>,
  dataDir: { name: 'DATA_DIR', description: 'folder for local repositories and hub state', default: '/var/lib/vaultflow', parse: (raw: string) => {
    if (!path.isAbsolute(raw)) throw new Error(`must be an absolute path, got "${raw}"`);
    return path.normalize(raw);
  } } satisfies VarSpec<string>,
  logLevel: { name: 'LOG_LEVEL', description: 'pino log level', default: 'info', parse: parse.oneOf(LOG_LEVELS) } satisfies VarSpec<(typeof LOG_LEVELS)[number]>,
  sessionTtlHours: { name: 'SESSION_TTL_HOURS', description: 'lifetime of a login session', default: '12', parse: parse.positiveInt } satisfies VarSpec<number>,
  guiDir: { name: 'GUI_DIR', description: 'folder of the built web console served at / (index.html and assets)', default: DEFAULT_GUI_DIR, parse: (raw: string) => {
    if (!path.isAbsolute(raw)) throw new Error(`must be an absolute path, got "${raw}"`);
    return path.normalize(raw);
  } } satisfies VarSpec<string>,
};

export type ApiConfig = {
  databaseUrl: URL;
  redisUrl: URL;
  redisPrefix: string;
  port: number;
  host: string;
  secretKey: string;
  adminPassword: string | undefined;
  bootstrapToken: string | undefined;
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  sessionTtlHours: number;
  guiDir: string;
};

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return loadConfig(CONFIG_SPEC, env) as ApiConfig;
}
