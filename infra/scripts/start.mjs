// `npm start`: sets up and runs a whole Vaultflow hub in the foreground.
// Installs pnpm and dependencies when missing, checks MariaDB and Redis, builds, creates and
// migrates the database, starts the vCenter simulator (unless VCSIM=off) and every service, and on
// a new hub sets up a flow that protects the simulated VMs (first-run.mjs). Ctrl-C (SIGINT) or
// SIGTERM stops them all.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { bootstrap, run, ROOT } from './bootstrap.mjs';
import { firstRun, reportExecution } from './first-run.mjs';
import { seedGuestDisks, startGuestActivity } from './lab-guests.mjs';
import { ensureSimulatorBuilt, startSimulator } from './vcsim-lab.mjs';

const log = (msg) => process.stderr.write(`[vaultflow] ${msg}\n`);
const fatal = (msg) => {
  log(msg);
  process.exit(2);
};

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
env.VCSIM ||= 'on';
env.VCSIM_PORT ||= String(Number(env.PORT) + 10);
if (!['on', 'off'].includes(env.VCSIM)) fatal(`VCSIM must be "on" (the default: run the vCenter simulator) or "off", got "${env.VCSIM}"`);
const vcsimPort = Number(env.VCSIM_PORT);
if (!Number.isInteger(vcsimPort) || vcsimPort < 1 || vcsimPort > 65535) fatal(`VCSIM_PORT must be a port number (1-65535), got "${env.VCSIM_PORT}"`);
const withSimulator = env.VCSIM === 'on';
if (!path.isAbsolute(env.DATA_DIR)) env.DATA_DIR = path.resolve(env.DATA_DIR);
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
try {
  // quiet when it works; pnpm and tsc report errors on stdout, so a failed build shows what it printed
  run('pnpm run build', { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
} catch (err) {
  process.stderr.write(String(err.stdout ?? ''));
  fatal(`the build failed (pnpm run build: ${err.signal ?? (typeof err.status === 'number' ? `exit status ${err.status}` : err.message)}; its output is above). Fix the errors, then npm start again`);
}
run('node --import tsx --conditions=source infra/scripts/migrate.ts', { env });

// The first-run setup talks to the API as an admin: with a one-off bootstrap token that only this
// process and flows-api know (never printed), unless AUTH_BOOTSTRAP_TOKEN is set.
const setupToken = env.AUTH_BOOTSTRAP_TOKEN || (withSimulator ? randomBytes(32).toString('hex') : undefined);
const apiHost = ['0.0.0.0', '::', ''].includes(env.HOST ?? '') ? '127.0.0.1' : env.HOST;
const apiUrl = `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${env.PORT}`;

const services = [
  { name: 'flows-api', entry: 'services/flows-api/dist/main.js', env: setupToken ? { AUTH_BOOTSTRAP_TOKEN: setupToken } : {} },
  { name: 'flow-orchestrator', entry: 'services/flow-orchestrator/dist/main.js' },
  { name: 'backup-worker', entry: 'services/backup-worker/dist/main.js' },
];
const children = new Map();
let stopping = false;
let guests;

/** Stops the services, then the simulator (so a worker can still remove its snapshots), then exits. */
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  log('stopping the hub');
  guests?.stop();
  for (const [name, child] of children) if (name !== 'vcsim') child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 15_000);
  const check = setInterval(() => {
    const sim = children.get('vcsim');
    if (sim && children.size === 1 && sim.signalCode === null && !sim.killed) sim.kill('SIGTERM');
    if (children.size === 0) {
      clearInterval(check);
      clearTimeout(force);
      log('stopped');
      process.exit(code);
    }
  }, 100);
}

/** Keeps `child` in the hub: when it ends on its own, the others are stopped too. */
function track(name, child) {
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping the others`);
      stopAll(typeof code === 'number' && code !== 0 ? code : 1);
    }
  });
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

let lab;
if (!withSimulator) log('VCSIM=off: no vCenter simulator and no first-run setup; register your vCenter through the API (see README)');
if (withSimulator) {
  try {
    ensureSimulatorBuilt(log);
  } catch {
    fatal('could not install or build the vCenter simulator (see above). Run bash infra/scripts/ensure-system-deps.sh as root, or set VCSIM=off to run the hub without it');
  }
  const sim = startSimulator({ port: vcsimPort, stateDir: path.join(env.DATA_DIR, 'vcsim'), log });
  track('vcsim', sim.child);
  try {
    lab = await sim.ready;
    const seeded = await seedGuestDisks(lab.url);
    log(`simulated vCenter at ${lab.sdk} (user "${lab.user}", password "${lab.password}"): ${seeded.vms} VMs, ${(seeded.bytes / 1048576).toFixed(0)} MiB of guest data written into their disks`);
  } catch (err) {
    if (!stopping) {
      log(err.message);
      stopAll(1);
    }
  }
}

for (const s of services) {
  if (stopping) break;
  track(s.name, spawn(process.execPath, [path.join(ROOT, s.entry)], { cwd: ROOT, env: { ...env, ...s.env }, stdio: 'inherit' }));
}
if (!stopping) log(`Vaultflow hub starting on http://localhost:${env.PORT} (web console, API /api/v1, OpenAPI /api/v1/openapi.json); Ctrl-C stops it`);

/** Waits until flows-api answers /readyz (database and Redis reachable). */
async function apiReady(timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs;
  while (!stopping && Date.now() < end) {
    const ok = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

if (lab && !stopping) {
  if (!(await apiReady())) {
    if (!stopping) log(`flows-api did not become ready at ${apiUrl}: first-run setup skipped`);
  } else {
    const database = new URL(env.DATABASE_URL).pathname.replace(/^\//, '');
    guests = startGuestActivity(lab.url, log);
    try {
      const done = await firstRun({ apiUrl, token: setupToken, dataDir: env.DATA_DIR, database, vcsim: { port: vcsimPort, user: lab.user, password: lab.password }, log });
      // once the first backup is taken, the guests change something at once, so the next run carries changes
      if (done) void reportExecution({ apiUrl, token: setupToken, ...done, log }).then(() => guests.tick());
    } catch (err) {
      log(`first-run setup failed: ${err.message}. The hub keeps running; the next npm start resumes the setup`);
    }
    if (!stopping) {
      log(`the simulated guests change a few 64 KiB blocks every minute, so every backup has changes to carry`);
      log(`ready: http://localhost:${env.PORT} (log in as admin), simulated vCenter ${lab.sdk}`);
    }
  }
}
