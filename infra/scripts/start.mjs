// `npm start`: sets up and runs a whole Vaultflow hub in the foreground.
// Installs pnpm and dependencies when missing, checks MariaDB and Redis, builds, creates and
// migrates the database, then starts every service. Ctrl-C (SIGINT) or SIGTERM stops them all.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { bootstrap, run, ROOT } from './bootstrap.mjs';

const log = (msg) => process.stderr.write(`[vaultflow] ${msg}\n`);

function reachable(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function ensureService(name, url, defaultPort, startCmd) {
  const u = new URL(url);
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || defaultPort);
  if (await reachable(host, port)) return;
  const local = ['127.0.0.1', 'localhost', '::1'].includes(host);
  if (local && startCmd && existsSync(startCmd.bin)) {
    log(`${name} is not answering on ${host}:${port}: starting it`);
    spawnSync('sh', ['-c', startCmd.cmd], { stdio: 'inherit' });
    for (let i = 0; i < 30; i++) {
      if (await reachable(host, port)) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  log(`${name} is not reachable at ${host}:${port}. Start it, or point ${name === 'MariaDB' ? 'DATABASE_URL' : 'REDIS_URL'} at one that runs.`);
  process.exit(1);
}

const env = { ...process.env };
env.DATABASE_URL ||= 'mysql://root@127.0.0.1:3306/vaultflow';
env.REDIS_URL ||= 'redis://127.0.0.1:6379';
env.REDIS_PREFIX ||= 'vaultflow';
env.PORT ||= '8082';
env.DATA_DIR ||= path.join(ROOT, '.data');
env.LOG_LEVEL ||= 'info';
env.ORCHESTRATOR_METRICS_PORT ||= String(Number(env.PORT) + 1);
env.WORKER_METRICS_PORT ||= String(Number(env.PORT) + 2);
mkdirSync(env.DATA_DIR, { recursive: true, mode: 0o750 });

// The secret key encrypts credentials at rest. Without one, make one and keep it with the data.
if (!env.VAULTFLOW_SECRET_KEY) {
  const keyFile = path.join(env.DATA_DIR, 'secret.key');
  if (!existsSync(keyFile)) {
    writeFileSync(keyFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    log(`generated VAULTFLOW_SECRET_KEY in ${keyFile}: keep it (and back it up) or stored credentials cannot be read`);
  }
  env.VAULTFLOW_SECRET_KEY = readFileSync(keyFile, 'utf8').trim();
}

bootstrap();
await ensureService('MariaDB', env.DATABASE_URL, 3306, { bin: '/usr/sbin/mariadbd', cmd: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd' });
await ensureService('Redis', env.REDIS_URL, 6379, { bin: '/usr/bin/redis-server', cmd: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no' });
log('building');
run('pnpm run build', { stdio: ['ignore', 'ignore', 'inherit'] });
run('node --import tsx --conditions=source infra/scripts/migrate.ts', { env });

const services = [
  { name: 'flows-api', entry: 'services/flows-api/dist/main.js' },
  { name: 'flow-orchestrator', entry: 'services/flow-orchestrator/dist/main.js' },
  { name: 'backup-worker', entry: 'services/backup-worker/dist/main.js' },
];
const children = new Map();
let stopping = false;

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  log('stopping the hub');
  for (const child of children.values()) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 15_000);
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      clearTimeout(force);
      log('stopped');
      process.exit(code);
    }
  }, 100);
}

for (const s of services) {
  const child = spawn(process.execPath, [path.join(ROOT, s.entry)], { cwd: ROOT, env, stdio: 'inherit' });
  children.set(s.name, child);
  child.on('exit', (code, signal) => {
    children.delete(s.name);
    if (!stopping) {
      log(`${s.name} exited (${signal ?? code}); stopping the others`);
      stopAll(typeof code === 'number' && code !== 0 ? code : 1);
    }
  });
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
log(`Vaultflow hub starting on http://localhost:${env.PORT} (API /api/v1, OpenAPI /api/v1/openapi.json); Ctrl-C stops it`);
