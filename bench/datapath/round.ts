// One round of bench:datapath: every tool gets its own copy of the image, repository and restore
// directory, and the steps are interleaved (all fulls, then all incrementals, then all restores, in an
// order that rotates between steps and rounds), so the tools compared in a step run minutes apart at
// most, not a whole run apart: the machine is shared and its load drifts.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PACKS_DIR } from '../../packages/backup-repository/src/format.js';
import { measureDeviceFloor, measureRestoreFloor, type DeviceFloor } from './device-floor.js';
import { applyChange, fileSha256, type Area } from './image.js';
import { dropCaches, measured, round, run, treeBytes, type StepResult } from './measure.js';
import { DRIVERS, type Command, type Tool, type ToolContext } from './peers.js';
import type { StepFigures, ToolFigures } from './report.js';

export interface RoundInput {
  round: number;
  tools: Tool[];
  scratch: string;
  base: string;
  areas: Area[];
  areasFile: string;
  seed: string;
  stepScript: string;
  dropCache: boolean;
  keep: boolean;
  log: (m: string) => void;
}

export interface RoundOutput {
  results: Partial<Record<Tool, ToolFigures>>;
  /** sha256 of the changed image, which every restore must reproduce. */
  expectedSha: string;
  /** Order the tools ran in, per step. */
  order: Record<'full' | 'incremental' | 'restore', Tool[]>;
  /** The disk alone doing a full's reads and our full's writes (see device-floor.ts), right after the fulls. */
  deviceFloor?: DeviceFloor;
  /** The disk alone doing our restore's reads (every pack) and writes (see device-floor.ts), right after the restores. */
  restoreFloor?: DeviceFloor;
}

type StepName = 'full' | 'incremental' | 'restore';

function rotated(tools: Tool[], by: number): Tool[] {
  return tools.map((_, i) => tools[(i + by) % tools.length]!);
}

export async function runRound(input: RoundInput): Promise<RoundOutput> {
  const { tools, scratch, log } = input;
  const ctx = new Map<Tool, ToolContext>();
  for (const tool of tools) {
    const c: ToolContext = {
      scratch, areasFile: input.areasFile, stepScript: input.stepScript,
      image: path.join(scratch, `disk-${tool}.raw`),
      repo: path.join(scratch, `repo-${tool}`),
      restoreDir: path.join(scratch, `restore-${tool}`),
    };
    ctx.set(tool, c);
    for (const dir of [c.repo, c.restoreDir]) await rm(dir, { recursive: true, force: true });
    await mkdir(c.restoreDir, { recursive: true });
    await run('cp', ['--sparse=always', input.base, c.image]);
    await DRIVERS[tool].init(c);
  }
  const timeFile = path.join(scratch, 'time.txt');
  const out: Record<StepName, Map<Tool, StepResult>> = { full: new Map(), incremental: new Map(), restore: new Map() };
  const order = {} as Record<StepName, Tool[]>;
  const runStep = async (name: StepName, index: number, command: (t: Tool) => Command): Promise<void> => {
    order[name] = rotated(tools, input.round + index);
    for (const tool of order[name]) {
      if (input.dropCache) await dropCaches();
      const c = command(tool);
      const r = await measured(c.cmd, c.args, { env: c.env, cwd: c.cwd, timeFile });
      log(`  ${name} ${tool}: ${r.wall_s} s, cpu ${r.cpu_s} s (user ${r.user_s}, sys ${r.sys_s}), peak ${r.peak_rss_mb} MB`);
      out[name].set(tool, r);
    }
  };

  await runStep('full', 0, (t) => DRIVERS[t].full(ctx.get(t)!));
  const repoFull = new Map<Tool, number>();
  for (const tool of tools) repoFull.set(tool, await treeBytes(ctx.get(tool)!.repo));
  let deviceFloor: DeviceFloor | undefined;
  const ours = ctx.get('vaultflow');
  if (ours) {
    if (input.dropCache) await dropCaches();
    deviceFloor = await measureDeviceFloor(ours.image, repoFull.get('vaultflow')!, path.join(scratch, 'device-floor.tmp'));
    log(`  device floor of the full: ${deviceFloor.seconds} s (reads ${deviceFloor.read_mb_s} MB/s, writes ${deviceFloor.write_mb_s} MB/s at once)`);
  }
  for (const tool of tools) await applyChange(ctx.get(tool)!.image, input.areas, input.seed);
  const expectedSha = await fileSha256(ctx.get(tools[0]!)!.image);
  await runStep('incremental', 1, (t) => DRIVERS[t].incremental(ctx.get(t)!, out.full.get(t)!.stdout));
  const repoIncr = new Map<Tool, number>();
  for (const tool of tools) repoIncr.set(tool, await treeBytes(ctx.get(tool)!.repo));
  await runStep('restore', 2, (t) => DRIVERS[t].restore(ctx.get(t)!, out.incremental.get(t)!.stdout));
  let restoreFloor: DeviceFloor | undefined;
  if (ours) {
    if (input.dropCache) await dropCaches();
    const restored = (JSON.parse(out.restore.get('vaultflow')!.stdout) as { data_bytes: number }).data_bytes;
    restoreFloor = await measureRestoreFloor(path.join(ours.repo, PACKS_DIR), restored, path.join(scratch, 'restore-floor.tmp'));
    log(`  device floor of the restore: ${restoreFloor.seconds} s (reads ${restoreFloor.read_mb_s} MB/s, writes ${restoreFloor.write_mb_s} MB/s at once)`);
  }

  const results: Partial<Record<Tool, ToolFigures>> = {};
  for (const tool of tools) {
    const c = ctx.get(tool)!;
    const [full, incr, restore] = [out.full.get(tool)!, out.incremental.get(tool)!, out.restore.get(tool)!];
    const restoredSha = await fileSha256(DRIVERS[tool].restoredFile(c));
    if (restoredSha !== expectedSha) log(`  ${tool}: the restored image does NOT match (sha256 ${restoredSha}, expected ${expectedSha})`);
    const engine = tool === 'vaultflow'
      ? { full: JSON.parse(full.stdout) as unknown, incremental: JSON.parse(incr.stdout) as unknown, restore: JSON.parse(restore.stdout) as unknown }
      : undefined;
    if (engine) for (const [k, v] of Object.entries(engine)) log(`  engine ${k}: ${JSON.stringify((v as { phases: unknown }).phases)}`);
    results[tool] = {
      full_s: full.wall_s,
      incremental_s: incr.wall_s,
      restore_s: restore.wall_s,
      cpu_s: round(full.cpu_s + incr.cpu_s + restore.cpu_s, 2),
      peak_rss_mb: Math.max(full.peak_rss_mb, incr.peak_rss_mb, restore.peak_rss_mb),
      repo_bytes_full: repoFull.get(tool)!,
      repo_bytes_incremental: repoIncr.get(tool)! - repoFull.get(tool)!,
      restore_sha256_ok: restoredSha === expectedSha,
      steps: { full: figures(full), incremental: figures(incr), restore: figures(restore) },
      ...(engine ? { engine } : {}),
    };
    if (!input.keep) await rm(c.repo, { recursive: true, force: true });
    for (const leftover of [c.restoreDir, c.image]) await rm(leftover, { recursive: true, force: true });
  }
  for (const dir of ['restic-cache', 'borg-base']) await rm(path.join(scratch, dir), { recursive: true, force: true });
  return { results, expectedSha, order, ...(deviceFloor ? { deviceFloor } : {}), ...(restoreFloor ? { restoreFloor } : {}) };
}

function figures(s: StepResult): StepFigures {
  return { wall_s: s.wall_s, cpu_s: s.cpu_s, user_s: s.user_s, sys_s: s.sys_s, peak_rss_mb: s.peak_rss_mb };
}
