import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The vCenter test harness binary built by `infra/vcsim/build.sh` (run by
 * `infra/scripts/ensure-system-deps.sh`, which `npm test` runs first). Override with
 * `VAULTFLOW_VCSIM_BIN`.
 */
export const VCSIM_BINARY =
  process.env.VAULTFLOW_VCSIM_BIN ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../infra/vcsim/bin/vcsimcbt');

/** Options for {@link startVcsim}. Every number must be a positive integer. */
export interface VcsimOptions {
  /** VMs on the simulated standalone host (`DC0_H0_VM0`, ...). Default 1. */
  vms?: number;
  /** Disks per VM. Default 2. */
  disks?: number;
  /** Capacity of every disk in MiB (sparse files in a temp dir). Default 8. */
  diskMb?: number;
  /** Most bytes one QueryChangedDiskAreas reply covers (`-page`). Default 4 MiB. */
  pageBytes?: number;
  /** Change-tracking granularity (`-block`). Default 64 KiB. */
  blockBytes?: number;
  /** Binary to run. Default {@link VCSIM_BINARY}. */
  binary?: string;
  /** How long to wait for the ready line. Default 15 s. */
  startTimeoutMs?: number;
}

/** A virtual disk as `/harness/info` reports it. */
export interface VcsimDisk {
  /** The device key. */
  key: number;
  /** `backing.uuid` (live disks only). */
  uuid?: string;
  /** The datastore path, e.g. `[LocalDS_0] DC0_H0_VM0/disk1.vmdk`. */
  fileName: string;
  /** The local path of the flat file holding the disk's bytes. */
  flatPath: string;
  capacityInBytes: number;
  /** The changeId a snapshot disk was given; absent when CBT was off. */
  changeId?: string;
  /** Why freezing this snapshot disk failed, if it did. */
  error?: string;
}

/** A snapshot and its frozen disks. */
export interface VcsimSnapshot {
  /** The moref value, e.g. `snapshot-44`. */
  ref: string;
  disks: VcsimDisk[];
}

/** A VM, its live disks and its snapshots (oldest first). */
export interface VcsimVm {
  /** The moref value, e.g. `vm-27`. */
  ref: string;
  name: string;
  changeTrackingEnabled: boolean;
  disks: VcsimDisk[];
  snapshots: VcsimSnapshot[];
}

/** The answer of `GET /harness/info`. VMs are sorted by name, disks by key. */
export interface VcsimInfo {
  url: string;
  sdk: string;
  /** The datacenter name, for `/folder/...?dcPath=`. */
  datacenter: string;
  blockBytes: number;
  pageBytes: number;
  vms: VcsimVm[];
}

/** A running vcsimcbt process. See infra/vcsim/README.md. */
export interface Vcsim {
  /** Base URL, e.g. `http://127.0.0.1:40123` (loopback only). */
  url: string;
  /** The SOAP endpoint, `${url}/sdk`. */
  sdkUrl: string;
  /** The only credentials Login accepts. */
  username: string;
  password: string;
  datacenter: string;
  pid: number;
  blockBytes: number;
  pageBytes: number;
  /** Inventory, disk files and snapshots. */
  info(): Promise<VcsimInfo>;
  /** A guest write: `data` goes into the live disk `key` of VM `vm` (a moref value) at `offset`. */
  write(vm: string, key: number, offset: number, data: Uint8Array): Promise<void>;
  /** Forgets the CBT state of one disk, or of every disk of the VM: earlier changeIds then fault. */
  resetCbt(vm: string, key?: number): Promise<void>;
  /** The last lines the harness wrote to stderr, for diagnostics. */
  logs(): string;
  /**
   * Sends SIGTERM and waits for the process to exit, which removes its temporary datastore
   * directories. Idempotent. Rejects if the harness does not exit within 10 s (it is then
   * killed and its directories may remain) or exited with a non-zero status.
   */
  stop(): Promise<void>;
}

interface ReadyLine {
  url: string;
  sdk: string;
  user: string;
  password: string;
  datacenter: string;
  pid: number;
  blockBytes: number;
  pageBytes: number;
}

const LOG_LIMIT = 64 * 1024;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`startVcsim: ${name} must be a positive integer, got ${v}`);
  return v;
}

async function expectOk(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`vcsim ${what}: HTTP ${res.status} ${(await res.text()).trim()}`);
}

/**
 * Starts the vCenter test harness on a free loopback port and resolves once it has printed its
 * ready line. The harness exits by itself when this process does (it watches its stdin), and it
 * does not keep the event loop alive; still, call {@link Vcsim.stop} to remove its temp dirs
 * promptly.
 */
export async function startVcsim(opts: VcsimOptions = {}): Promise<Vcsim> {
  const binary = opts.binary ?? VCSIM_BINARY;
  const args = [
    '-listen', '127.0.0.1:0',
    '-vms', String(positiveInt('vms', opts.vms, 1)),
    '-disks', String(positiveInt('disks', opts.disks, 2)),
    '-disk-mb', String(positiveInt('diskMb', opts.diskMb, 8)),
    '-page', String(positiveInt('pageBytes', opts.pageBytes, 4 << 20)),
    '-block', String(positiveInt('blockBytes', opts.blockBytes, 64 << 10)),
    '-watch-stdin',
  ];
  if (!existsSync(binary)) {
    throw new Error(`vcsimcbt is not built (${binary}): run bash infra/vcsim/build.sh (or bash infra/scripts/ensure-system-deps.sh)`);
  }
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-LOG_LIMIT);
  });
  const lines = createInterface({ input: child.stdout });
  const timeoutMs = opts.startTimeoutMs ?? 15_000;

  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`vcsimcbt printed no ready line within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`vcsimcbt exited (${signal ?? code}) before it was ready\n${stderr}`));
    child.once('error', fail);
    child.once('exit', onExit);
    lines.on('line', (line) => {
      let parsed: Partial<ReadyLine>;
      try {
        parsed = JSON.parse(line) as Partial<ReadyLine>;
      } catch {
        return; // not the ready line
      }
      if (typeof parsed.url !== 'string' || typeof parsed.sdk !== 'string') return;
      clearTimeout(timer);
      child.off('exit', onExit).off('error', fail);
      resolve(parsed as ReadyLine);
    });
  });

  // From here on the harness must not keep this process alive: it dies with us (stdin EOF).
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as Socket).unref();
  child.unref();
  child.on('error', () => {}); // a failed kill() is reported through stop()

  let stopping: Promise<void> | undefined;
  const { url } = ready;
  return {
    url,
    sdkUrl: ready.sdk,
    username: ready.user,
    password: ready.password,
    datacenter: ready.datacenter,
    pid: ready.pid,
    blockBytes: ready.blockBytes,
    pageBytes: ready.pageBytes,
    async info() {
      const res = await fetch(`${url}/harness/info`);
      await expectOk(res, 'info');
      return (await res.json()) as VcsimInfo;
    },
    async write(vm, key, offset, data) {
      const q = new URLSearchParams({ vm, key: String(key), offset: String(offset) });
      const res = await fetch(`${url}/harness/write?${q}`, { method: 'POST', body: data });
      await expectOk(res, `write ${vm}/${key}@${offset}`);
    },
    async resetCbt(vm, key) {
      const q = new URLSearchParams({ vm, ...(key === undefined ? {} : { key: String(key) }) });
      const res = await fetch(`${url}/harness/reset-cbt?${q}`, { method: 'POST' });
      await expectOk(res, `reset-cbt ${vm}`);
    },
    logs: () => stderr,
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        const done = (code: number | null, signal: NodeJS.Signals | null) => {
          clearTimeout(timer);
          if (code === 0 || signal === 'SIGTERM') resolve();
          else reject(new Error(`vcsimcbt exited with ${signal ?? code}\n${stderr}`));
        };
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`vcsimcbt did not exit within 10 s of SIGTERM; killed it, its temp dirs may remain\n${stderr}`));
        }, 10_000);
        if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode, child.signalCode);
        child.ref(); // keep the loop alive until it has cleaned up
        child.once('exit', done);
        child.kill('SIGTERM');
      });
      return stopping;
    },
  };
}
