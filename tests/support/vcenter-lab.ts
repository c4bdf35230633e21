import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_REDIS_URL, type Vcsim } from '@vaultflow/testing';
import type { TestHub } from './hub.js';

// Real peers for vCenter registration tests: the simulator speaks plain HTTP, so TLS (pinned and
// insecure) is exercised through an https front with a self-signed certificate made by openssl,
// whose fingerprints openssl also states (not the code under test).

/** The registration fields that reach the simulator over plain http (labs only). */
export function vcsimEndpoint(vc: Vcsim) {
  const u = new URL(vc.url);
  return { host: u.hostname, port: Number(u.port), protocol: 'http' as const, username: vc.username, password: vc.password, insecure: true };
}

/** An https server in front of a plain-http upstream. */
export interface TlsFront {
  host: string;
  port: number;
  /** Fingerprints of its certificate, colon-separated upper-case hex, as openssl prints them. */
  sha1: string;
  sha256: string;
  stop(): Promise<void>;
}

function fingerprint(cert: string, algo: 'sha1' | 'sha256'): string {
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', `-${algo}`, '-in', cert], { encoding: 'utf8' });
  return /=([0-9A-F:]+)\s*$/.exec(out)![1]!;
}

/** Starts an https front of `upstreamUrl` (e.g. the simulator) on a free loopback port, with a fresh self-signed certificate. */
export async function startTlsFront(upstreamUrl: string): Promise<TlsFront> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vf-front-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const upstream = new URL(upstreamUrl);
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const fwd = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const front = {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    sha1: fingerprint(cert, 'sha1'),
    sha256: fingerprint(cert, 'sha256'),
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  rmSync(dir, { recursive: true, force: true });
  return front;
}

/** A loopback port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A TCP server that accepts connections and never answers: a vCenter that hangs. */
export async function startSilentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    async stop() {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => s.close(r));
    },
  };
}

// ---- the data path lab: disk contents, the lab's nbdkit template, a worker in a process of its own ----

/**
 * The `WORKER_NBDKIT_PLUGIN` of the lab: nbdkit's file plugin on the frozen snapshot disk, which the
 * simulator keeps as `<datastore dir>/<vm dir>/<disk>-snapshot-N-flat.vmdk` (its datastore's `info.url`
 * is that local directory). Production uses VMware's VDDK plugin instead (see backup-worker config.ts).
 * `filters` and `params` add nbdkit filters and their parameters, e.g. a delay or injected errors.
 */
export function labNbdkitPlugin(filters: string[] = [], params: string[] = []): string {
  return [...filters.map((f) => `--filter=${f}`), 'file', 'file={datastore_url}/{flat_file}', ...params].join(' ');
}

/** What a disk held at one moment: its sha256 and its 64 KiB blocks that are not all zero. */
export interface DiskContent {
  sha256: string;
  nonZeroBlocks: number;
}

/** The content of every live disk of the simulator now, by `${vm moref}/${key}` (call while nothing writes). */
export async function liveDiskContents(vc: Vcsim, block = 64 * 1024): Promise<Map<string, DiskContent>> {
  const out = new Map<string, DiskContent>();
  for (const v of (await vc.info()).vms) {
    for (const d of v.disks) {
      const image = readFileSync(d.flatPath);
      let nonZeroBlocks = 0;
      for (let at = 0; at < image.length; at += block) if (image.subarray(at, at + block).some((x) => x !== 0)) nonZeroBlocks++;
      out.set(`${v.ref}/${d.key}`, { sha256: createHash('sha256').update(image).digest('hex'), nonZeroBlocks });
    }
  }
  return out;
}

/** nbdkit processes on this machine whose command line mentions `text` (e.g. the lab's datastore directory). */
export function nbdkitProcesses(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (path.basename(args[0] ?? '') === 'nbdkit' && args.some((a) => a.includes(text)) && !/^\d+ \(.*\) Z/s.test(state)) pids.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** A backup-worker running services/backup-worker/src/main.ts in a process of its own. */
export interface WorkerProcess {
  pid: number;
  /** The worker's last log lines (JSON, as pino writes them). */
  logs(): string;
  /** Sends `signal` (default SIGTERM: a clean stop) and waits for the process to exit. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const WORKER_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../services/backup-worker/src/main.ts');

/**
 * Starts a backup-worker process on the hub's database and Redis prefix, configured through its
 * environment exactly as in production (`env` adds or overrides variables, e.g. WORKER_TRANSPORT), and
 * resolves once it consumes jobs.
 */
export async function startWorkerProcess(hub: TestHub, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', WORKER_MAIN], {
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR,
      DATABASE_URL: hub.db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: hub.prefix, VAULTFLOW_SECRET_KEY: hub.secretKey,
      LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', ...env,
    } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  const keep = (s: string) => { logs = (logs + s).slice(-64 * 1024); };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backup-worker did not start within 30 s:\n${logs}`)), 30_000);
    const check = () => {
      if (!logs.includes('backup-worker running')) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`backup-worker exited (${code}) before it ran:\n${logs}`)); });
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    logs: () => logs,
    stop(signal = 'SIGTERM') {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      })();
      return stopping;
    },
  };
}

/** `n` random bytes without a zero byte: guest data whose every 64 KiB block counts as non-zero. */
export function guestData(n: number): Buffer {
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) if (b[i] === 0) b[i] = 1;
  return b;
}

/** Starts an execution of a flow through the API (POST .../execute); resolves with its id. */
export async function startExecution(hub: TestHub, flowId: string): Promise<string> {
  const exec = await hub.admin.post(`/api/v1/protection-flows/${flowId}/execute`);
  if (![200, 201, 202].includes(exec.status)) throw new Error(`execute answered ${exec.status}: ${JSON.stringify(exec.body)}`);
  return exec.body.id;
}

/** Polls an execution through the API until it is final; resolves with its detail (`diagnostics` adds to a timeout's message). */
export async function finishedExecution(hub: TestHub, flowId: string, executionId: string, timeoutMs = 90_000, diagnostics = () => ''): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await hub.admin.get(`/api/v1/protection-flows/${flowId}/executions/${executionId}`);
    if (['success', 'warning', 'error', 'cancelled'].includes(r.body?.status)) return r.body;
    if (Date.now() > end) throw new Error(`execution still ${r.body?.status} after ${timeoutMs} ms: ${JSON.stringify(r.body)}\n${diagnostics()}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
