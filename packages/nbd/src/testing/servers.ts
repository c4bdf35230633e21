import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A running NBD server on a Unix socket in a private temp dir. */
export interface NbdServer {
  /** Path of the Unix socket. */
  socket: string;
  /** Export name to open ('' for nbdkit, which serves any name). */
  exportName: string;
  /** Temp dir holding the socket; removed by stop(). */
  dir: string;
  /** Terminates the server and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startQemuNbd}. */
export interface QemuNbdOptions {
  /** Persistent dirty bitmap of a qcow2 image to expose as `qemu:dirty-bitmap:NAME` (qemu-nbd -B). */
  bitmap?: string;
  /** Serve read-only (qemu-nbd -r); default true. */
  readonly?: boolean;
  /** Image format; default qcow2 for *.qcow2, else raw. */
  format?: 'raw' | 'qcow2';
  exportName?: string;
}

/** Options of {@link startNbdkit}. */
export interface NbdkitOptions {
  /** Filters, outermost first, e.g. ['error', 'delay']; their parameters go in the plugin args. */
  filters?: string[];
  /** Serve read-only (nbdkit -r); default false, so that tests can fill a memory disk. */
  readonly?: boolean;
}

// Servers a crashed or interrupted run did not stop: killed, and their dirs removed, when the process exits.
const live = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, dir] of live) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Serves an image with qemu-nbd (persistent, up to 8 clients at once). */
export async function startQemuNbd(imagePath: string, options: QemuNbdOptions = {}): Promise<NbdServer> {
  const exportName = options.exportName ?? 'disk';
  const format = options.format ?? (imagePath.endsWith('.qcow2') ? 'qcow2' : 'raw');
  return launch('qemu-nbd', (socket, pidFile) => [
    '--persistent', '--shared=8', `--socket=${socket}`, `--pid-file=${pidFile}`, `--export-name=${exportName}`,
    `--format=${format}`, ...(options.readonly ?? true ? ['--read-only'] : []),
    ...(options.bitmap ? [`--bitmap=${options.bitmap}`] : []), imagePath,
  ], exportName);
}

/** Serves `pluginArgs` (plugin name, then its and the filters' key=value parameters) with nbdkit. */
export async function startNbdkit(pluginArgs: string[], options: NbdkitOptions = {}): Promise<NbdServer> {
  return launch('nbdkit', (socket, pidFile) => [
    '--foreground', '--exit-with-parent', `--unix=${socket}`, `--pidfile=${pidFile}`,
    ...(options.readonly ? ['--readonly'] : []), ...(options.filters ?? []).map((f) => `--filter=${f}`), ...pluginArgs,
  ], '');
}

/** Runs a tool (qemu-img, qemu-io, nbdcopy ...) and returns its stdout; rejects with its stderr on failure. */
export async function runTool(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

async function launch(command: string, argv: (socket: string, pidFile: string) => string[], exportName: string): Promise<NbdServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vaultflow-nbd-'));
  const socket = join(dir, 'nbd.sock');
  const pidFile = join(dir, 'server.pid');
  const child = spawn(command, argv(socket, pidFile), { stdio: ['ignore', 'ignore', 'pipe'] });
  live.set(child, dir);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-4000); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('close', () => { exited = true; live.delete(child); resolve(); }));
  child.once('error', (err) => { stderr += String(err); });

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Both servers write the pid file once they accept connections.
  const deadline = Date.now() + 10_000;
  while (!(existsSync(pidFile) && existsSync(socket))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`${command} did not start${exited ? ` (exit code ${child.exitCode})` : ' within 10 s'}: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { socket, exportName, dir, stop };
}
