// How bench:datapath measures a step, the same way for every tool: the step runs as a child process
// under GNU time (children's rusage: user + sys CPU and peak RSS), wall time taken around it.
import { spawn } from 'node:child_process';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StepResult {
  wall_s: number;
  cpu_s: number;
  user_s: number;
  sys_s: number;
  peak_rss_mb: number;
  stdout: string;
}

export interface StepOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where GNU time writes its figures. */
  timeFile: string;
}

/** Runs `cmd args` under /usr/bin/time; rejects with its stderr when it fails. */
export async function measured(cmd: string, args: readonly string[], opts: StepOptions): Promise<StepResult> {
  await rm(opts.timeFile, { force: true });
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', opts.timeFile, cmd, ...args], {
    cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${stderr}`);
  const figures = (await readFile(opts.timeFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
  const [user, sys, rssKb] = figures as [number, number, number];
  return { wall_s: round(wall, 3), cpu_s: round(user + sys, 2), user_s: user, sys_s: sys, peak_rss_mb: Math.round(rssKb / 1024), stdout };
}

/** Runs a command to completion without measuring it; rejects on failure. */
export async function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${err}`);
  return out;
}

/**
 * Flushes dirty pages and drops the page cache, so each step reads from the disk. Returns false
 * when that is not allowed (not root): then every tool runs with a warm cache alike.
 */
export async function dropCaches(): Promise<boolean> {
  await run('sync', []);
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

/** Bytes of all files under `dir` (apparent sizes), the same measure for every repository. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(p);
    else if (entry.isFile()) total += (await stat(p)).size;
  }
  return total;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
