import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NbdkitPluginArgs } from './nbdkit-launcher-args.js';

/** Stable codes of {@link NbdkitError}. */
export type NbdkitErrorCode = 'NBDKIT_NOT_FOUND' | 'NBDKIT_START_FAILED' | 'NBDKIT_START_TIMEOUT' | 'NBDKIT_ABORTED';

/**
 * nbdkit could not be started. `NBDKIT_START_FAILED` (it exited: a bad plugin, filter or parameter; the
 * message carries its stderr) and `NBDKIT_NOT_FOUND` are permanent; a start timeout is transient.
 */
export class NbdkitError extends Error {
  readonly transient: boolean;
  constructor(message: string, readonly code: NbdkitErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NbdkitError';
    this.transient = code === 'NBDKIT_START_TIMEOUT';
  }
}

/** Options of {@link launchNbdkit}. */
export interface NbdkitLaunchOptions {
  /** The plugin, its filters and parameters (see expandNbdkitTemplate); a function gets the descriptor numbers of `secrets`. */
  args: NbdkitPluginArgs | ((fds: Record<string, number>) => NbdkitPluginArgs);
  /**
   * Secrets handed to nbdkit on inherited file descriptors (3, 4, ... in key order), written and closed
   * at the start, e.g. `{ password: '…' }` for a plugin's `password=-FD`: never on the command line or
   * on disk, so not even a SIGKILL leaves them behind.
   */
  secrets?: Record<string, string>;
  /** The nbdkit binary; default `nbdkit`. */
  command?: string;
  /** Serve read-only (nbdkit -r); default true. */
  readonly?: boolean;
  /** Time allowed until nbdkit serves; default 30 s (the VDDK plugin loads a large library). */
  startTimeoutMs?: number;
  /** Stops a start in progress (the process is killed, the directory removed). */
  signal?: AbortSignal;
}

/** A running nbdkit, serving one export on a Unix socket in a private directory. */
export interface NbdkitProcess {
  /** The Unix socket to connect to. */
  readonly socket: string;
  readonly pid: number;
  /** The private directory (socket and pid file); removed by stop(). */
  readonly dir: string;
  /** False once nbdkit has exited, whatever the reason. */
  readonly running: boolean;
  /** The last lines nbdkit wrote to stderr. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; waits for the exit and removes the directory. Idempotent, never rejects. */
  stop(): Promise<void>;
}

const DIR_PREFIX = 'vaultflow-nbdkit-';
const OWNER_FILE = 'owner.pid';
const STDERR_LIMIT = 8000;

/**
 * Starts nbdkit on a Unix socket in a new private directory and resolves once it serves (it writes its
 * pid file after it listens). nbdkit runs with `--exit-with-parent`, so it dies with this process even on
 * SIGKILL; its options end with `--`, so no parameter can be taken for an option. Rejects with an
 * {@link NbdkitError}; nothing is left running or on disk then.
 */
export async function launchNbdkit(opts: NbdkitLaunchOptions): Promise<NbdkitProcess> {
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  const socket = join(dir, 'nbd.sock');
  const pidFile = join(dir, 'nbdkit.pid');
  let child: ChildProcess | undefined;
  try {
    await writeFile(join(dir, OWNER_FILE), String(process.pid));
    const secrets = Object.entries(opts.secrets ?? {});
    const fds = Object.fromEntries(secrets.map(([name], i) => [name, 3 + i]));
    const a = typeof opts.args === 'function' ? opts.args(fds) : opts.args;
    const argv = [
      '--foreground', '--exit-with-parent', `--unix=${socket}`, `--pidfile=${pidFile}`, ...(opts.readonly ?? true ? ['--readonly'] : []),
      ...a.filters.map((f) => `--filter=${f}`), '--', a.plugin, ...a.params,
    ];
    child = spawn(opts.command ?? 'nbdkit', argv, { stdio: ['ignore', 'ignore', 'pipe', ...secrets.map(() => 'pipe' as const)] });
    // the pipes hold the secrets until nbdkit reads them (at start, to EOF); nothing is left to leak after
    secrets.forEach(([, value], i) => (child!.stdio[3 + i] as Writable | null)?.on('error', () => undefined).end(value));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return supervise(child, dir, socket, pidFile, opts);
}

async function supervise(child: ChildProcess, dir: string, socket: string, pidFile: string, opts: NbdkitLaunchOptions): Promise<NbdkitProcess> {
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-STDERR_LIMIT); });
  let exited = false;
  let spawnError: (Error & { code?: string }) | undefined;
  const exit = new Promise<void>((resolve) => child.once('close', () => { exited = true; resolve(); }));
  child.once('error', (err) => { spawnError = err; });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (async () => {
    if (!exited && !spawnError) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  })());
  const fail = async (code: NbdkitErrorCode, message: string): Promise<never> => {
    await stop();
    throw new NbdkitError(message, code, spawnError ? { cause: spawnError } : undefined);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  while (!(existsSync(pidFile) && existsSync(socket))) {
    if (spawnError?.code === 'ENOENT') return fail('NBDKIT_NOT_FOUND', `nbdkit not found (${opts.command ?? 'nbdkit'}): install it (Debian: nbdkit) or set its path`);
    if (spawnError) return fail('NBDKIT_START_FAILED', `nbdkit could not be started: ${spawnError.message}`);
    if (exited) {
      await exit;
      return fail('NBDKIT_START_FAILED', `nbdkit exited with code ${child.exitCode ?? child.signalCode} before serving: ${stderr.trim() || 'no message'}`);
    }
    if (opts.signal?.aborted) return fail('NBDKIT_ABORTED', 'nbdkit start aborted');
    if (Date.now() > deadline) return fail('NBDKIT_START_TIMEOUT', `nbdkit did not serve within ${opts.startTimeoutMs ?? 30_000} ms: ${stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    socket,
    pid: child.pid!,
    dir,
    get running() { return !exited; },
    stderr: () => stderr,
    stop,
  };
}

/** True while `pid` runs; a zombie (dead, not yet reaped by its parent) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return !existsSync('/proc/self'); // with procfs, the process has just gone; without, kill() said it runs
  }
}

/**
 * Removes the private directories of launches whose owning process is gone (a worker killed with
 * SIGKILL: its nbdkit exited with it, the socket file stayed). Returns how many it removed.
 */
export async function sweepStaleNbdkitDirs(root = tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const owner = Number(await readFile(join(root, name, OWNER_FILE), 'utf8').catch(() => ''));
    if (!Number.isSafeInteger(owner) || owner <= 0 || alive(owner)) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
