// The three steps (full, incremental, restore) of each tool in bench:datapath, as commands. Peers run
// in their normal mode: the incremental re-runs the backup of the changed file (restic finds its
// parent snapshot, borg its files cache; both re-read the whole file). Ours reads only the CBT areas.
import path from 'node:path';
import { run } from './measure.js';

export type Tool = 'vaultflow' | 'restic' | 'borg';

export interface Command {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What a tool needs to run its steps. */
export interface ToolContext {
  scratch: string;
  repo: string;
  image: string;
  /** Directory the restore writes into. */
  restoreDir: string;
  /** JSON file of the changed areas (ours only). */
  areasFile: string;
  /** Bundled step runner (ours only). */
  stepScript: string;
}

export interface ToolDriver {
  name: Tool;
  /** Version and settings, stated in the results. */
  describe(): Promise<Record<string, string>>;
  init(ctx: ToolContext): Promise<void>;
  full(ctx: ToolContext): Command;
  /** `full` printed stdout: ours returns the point id for the incremental's parent. */
  incremental(ctx: ToolContext, fullOutput: string): Command;
  restore(ctx: ToolContext, incrementalOutput: string): Command;
  /** Where the restore leaves the image. */
  restoredFile(ctx: ToolContext): string;
}

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

export const vaultflow: ToolDriver = {
  name: 'vaultflow',
  async describe() {
    return {
      version: 'workspace (bundled, run as plain JavaScript)',
      hash: 'sha256',
      compression: 'zstd-1 (raw when it saves < 1/32)',
      encryption: 'none',
      chunking: 'CBT areas (full: allocated areas from qemu-img map), cut at 1 MiB offsets; zero 64 KiB blocks skipped',
      io: 'image read with O_DIRECT in reads of one chunk (1 MiB), 16 in flight from 4 places of the image at once; packs written with O_DIRECT (whole blocks; a pack\'s last block and trailer through the page cache) and fsynced; restore reads packs and writes the image with O_DIRECT',
      threads: 'chunk work on cores - 1 worker threads plus the main thread',
      restore: 'sparse (holes for zero ranges), chunks re-hashed, no final fsync (like the peers)',
    };
  },
  async init(ctx) {
    await run(process.execPath, [ctx.stepScript, JSON.stringify({ step: 'init', repo: ctx.repo })]);
  },
  full: (ctx) => ({ cmd: process.execPath, args: [ctx.stepScript, JSON.stringify({ step: 'full', repo: ctx.repo, image: ctx.image })] }),
  incremental: (ctx, fullOut) => ({
    cmd: process.execPath,
    args: [ctx.stepScript, JSON.stringify({ step: 'incremental', repo: ctx.repo, image: ctx.image, areas: ctx.areasFile, parent: pointOf(fullOut) })],
  }),
  restore: (ctx, incrOut) => ({
    cmd: process.execPath,
    args: [ctx.stepScript, JSON.stringify({ step: 'restore', repo: ctx.repo, point: pointOf(incrOut), out: vaultflow.restoredFile(ctx) })],
  }),
  restoredFile: (ctx) => path.join(ctx.restoreDir, 'disk.raw'),
};

function pointOf(stdout: string): string {
  return (JSON.parse(firstLine(stdout)) as { point_id: string }).point_id;
}

function resticEnv(ctx: ToolContext): NodeJS.ProcessEnv {
  return { RESTIC_PASSWORD: 'bench-datapath', RESTIC_REPOSITORY: ctx.repo, RESTIC_CACHE_DIR: path.join(ctx.scratch, 'restic-cache') };
}

export const restic: ToolDriver = {
  name: 'restic',
  async describe() {
    return {
      version: firstLine(await run('restic', ['version'])),
      settings: 'repository version 2, compression auto (default), AES-256 + Poly1305 (always on), password from RESTIC_PASSWORD, default cache',
      restore: 'restic restore (0.14 has no sparse restore)',
    };
  },
  async init(ctx) {
    await run('restic', ['init', '--repository-version', '2'], { env: resticEnv(ctx) });
  },
  full: (ctx) => ({ cmd: 'restic', args: ['backup', '--host', 'bench', '--quiet', ctx.image], env: resticEnv(ctx) }),
  incremental: (ctx) => ({ cmd: 'restic', args: ['backup', '--host', 'bench', '--quiet', ctx.image], env: resticEnv(ctx) }),
  restore: (ctx) => ({ cmd: 'restic', args: ['restore', 'latest', '--host', 'bench', '--target', ctx.restoreDir], env: resticEnv(ctx) }),
  restoredFile: (ctx) => path.join(ctx.restoreDir, ctx.image),
};

const BORG_ENCRYPTION = process.env.BENCH_BORG_ENCRYPTION ?? 'none';
const BORG_COMPRESSION = process.env.BENCH_BORG_COMPRESSION ?? 'lz4';

function borgEnv(ctx: ToolContext): NodeJS.ProcessEnv {
  return {
    BORG_BASE_DIR: path.join(ctx.scratch, 'borg-base'),
    BORG_PASSPHRASE: 'bench-datapath',
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
  };
}

export const borg: ToolDriver = {
  name: 'borg',
  async describe() {
    return {
      version: firstLine(await run('borg', ['--version'])),
      settings: `encryption ${BORG_ENCRYPTION}, compression ${BORG_COMPRESSION}, default chunker (buzhash, ~2 MiB), files cache`,
      restore: 'borg extract --sparse',
    };
  },
  async init(ctx) {
    await run('borg', ['init', '--encryption', BORG_ENCRYPTION, ctx.repo], { env: borgEnv(ctx) });
  },
  full: (ctx) => ({ cmd: 'borg', args: ['create', '--compression', BORG_COMPRESSION, `${ctx.repo}::full`, ctx.image], env: borgEnv(ctx) }),
  incremental: (ctx) => ({ cmd: 'borg', args: ['create', '--compression', BORG_COMPRESSION, `${ctx.repo}::incremental`, ctx.image], env: borgEnv(ctx) }),
  restore: (ctx) => ({ cmd: 'borg', args: ['extract', '--sparse', `${ctx.repo}::incremental`], env: borgEnv(ctx), cwd: ctx.restoreDir }),
  restoredFile: (ctx) => path.join(ctx.restoreDir, ctx.image.replace(/^\/+/, '')),
};

export const DRIVERS: Record<Tool, ToolDriver> = { vaultflow, restic, borg };
