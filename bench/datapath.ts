// npm run bench:datapath — our backup data path against restic and borg, in one run on the same image.
// A 4 GiB VM-like disk image (sparse; ~40% random, 20% text, 40% zeroes in 1-64 MiB runs, from a seed);
// per tool: full backup, 1% of the image changed in scattered 64 KiB writes and an incremental (ours is
// given exactly those areas, as CBT reports them; the peers re-read the file as they normally do), and a
// restore to a file whose sha256 must equal the image's. Every step is a child process measured the same
// way (GNU time: user+sys CPU, peak RSS), with the page cache dropped before it when we are allowed to;
// each step runs for every tool before the next step starts (see datapath/round.ts).
// Writes bench/results/datapath.json and prints a table. Not part of npm test.
//   BENCH_DIR      scratch directory (default /work/vf-bench-datapath; needs ~20 GB free)
//   BENCH_SIZE_MIB image size (default 4096)        BENCH_TOOLS  default vaultflow,restic,borg
//   BENCH_SEED     image seed                        BENCH_KEEP=1 keep the repositories afterwards
//   BENCH_ROUNDS   rounds (default 1); with more, the table shows medians and the JSON every round
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleStep } from './datapath/bundle.js';
import { measureCeiling } from './datapath/ceiling.js';
import { layout, scatteredChange, writeImage, type ImageSpec } from './datapath/image.js';
import { dropCaches, round } from './datapath/measure.js';
import { DRIVERS, type Tool } from './datapath/peers.js';
import { evaluateTargets, medianOfRounds, ratios, table } from './datapath/report.js';
import { runRound, type RoundOutput } from './datapath/round.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
const GENERATOR_VERSION = 1;
const log = (m: string): void => void process.stderr.write(`[bench:datapath] ${m}\n`);

const scratch = process.env.BENCH_DIR ?? '/work/vf-bench-datapath';
const spec: ImageSpec = { size: Number(process.env.BENCH_SIZE_MIB ?? 4096) * MiB, seed: process.env.BENCH_SEED ?? 'vaultflow-datapath-1', minRun: 1 * MiB, maxRun: 64 * MiB };
const tools = (process.env.BENCH_TOOLS ?? 'vaultflow,restic,borg').split(',').map((t) => t.trim()) as Tool[];
const roundCount = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));

/** The base image, regenerated only when the spec or the generator changed. */
async function baseImage(file: string): Promise<Record<string, unknown>> {
  const stampFile = `${file}.json`;
  const want = { generator: GENERATOR_VERSION, ...spec };
  try {
    const stamp = JSON.parse(await readFile(stampFile, 'utf8')) as { want: unknown; facts: Record<string, unknown> };
    if (JSON.stringify(stamp.want) === JSON.stringify(want)) return stamp.facts;
  } catch {
    // no stamp: generate
  }
  log(`generating the ${spec.size / MiB} MiB image (seed ${spec.seed})`);
  await rm(stampFile, { force: true });
  const facts = await writeImage(file, spec);
  await writeFile(stampFile, JSON.stringify({ want, facts }));
  return facts as unknown as Record<string, unknown>;
}

const loadAtStart = os.loadavg().map((x) => round(x, 2));

async function main(): Promise<void> {
  await mkdir(scratch, { recursive: true });
  const fs = await statfs(scratch);
  const free = fs.bavail * fs.bsize;
  const need = spec.size * (2 + 2 * tools.length);
  if (free < need) throw new Error(`${scratch} has ${Math.round(free / 1e9)} GB free; the bench needs about ${Math.round(need / 1e9)} GB (set BENCH_DIR)`);
  if (tools.some((t) => t !== 'vaultflow')) {
    const r = spawnSync('sh', [path.join(HERE, 'ensure-peers.sh')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench/ensure-peers.sh failed: restic and borg are needed');
  }
  const stepScript = await bundleStep(path.join(HERE, 'datapath/vaultflow-step.ts'), path.join(scratch, 'engine'));

  const base = path.join(scratch, 'base.raw');
  const facts = await baseImage(base);
  const areas = scatteredChange(spec.size, 0.01, spec.seed);
  const areasFile = path.join(scratch, 'changed-areas.json');
  await writeFile(areasFile, JSON.stringify(areas));
  const changedBytes = areas.reduce((n, a) => n + a.length, 0);
  log(`change: ${changedBytes / 65536} scattered 64 KiB blocks (${areas.length} CBT areas, ${(changedBytes / MiB).toFixed(1)} MiB)`);

  log('ceiling: sha256 and zstd-1 on one core, on the image data');
  const ceiling = await measureCeiling(base, layout(spec));
  const cacheDropped = await dropCaches();
  if (!cacheDropped) log('cannot drop the page cache (not root): every tool runs with a warm cache alike');

  const settings: Partial<Record<Tool, Record<string, string>>> = {};
  for (const tool of tools) {
    settings[tool] = await DRIVERS[tool].describe();
    log(`${tool}: ${JSON.stringify(settings[tool])}`);
  }
  const rounds: RoundOutput[] = [];
  for (let r = 0; r < roundCount; r++) {
    log(`round ${r + 1} of ${roundCount}`);
    rounds.push(await runRound({
      round: r, tools, scratch, base, areas, areasFile, seed: spec.seed, stepScript, dropCache: cacheDropped, keep: process.env.BENCH_KEEP === '1', log,
    }));
    const roundTargets = evaluateTargets(rounds[r]!.results);
    log(`round ${r + 1} targets: ${roundTargets.map((t) => `${t.met ? 'met' : 'MISSED'} ${t.name} (${t.ratio ?? '-'})`).join('; ')}`);
  }
  const results = medianOfRounds(rounds.map((r) => r.results));
  const expectedSha = rounds[0]!.expectedSha;

  const targets = evaluateTargets(results);
  const median = (xs: Array<number | undefined>): number | undefined => {
    const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    return v.length ? v[Math.floor((v.length - 1) / 2)]! : undefined;
  };
  /** A step's floor against the tools' times: the best ratio to restic any software could reach on this disk. */
  const floorOf = (step: 'full' | 'restore', seconds: number | undefined, note: string) => {
    if (seconds === undefined) return undefined;
    const key = step === 'full' ? 'full_s' : 'restore_s';
    return {
      seconds,
      vaultflow_over_floor: results.vaultflow ? round(results.vaultflow[key] / seconds, 2) : undefined,
      restic_over_floor: results.restic ? round(results.restic[key] / seconds, 2) : undefined,
      floor_over_restic: results.restic ? round(seconds / results.restic[key], 3) : undefined,
      floor_over_borg: results.borg ? round(seconds / results.borg[key], 3) : undefined,
      note,
    };
  };
  const deviceFloor = floorOf('full', median(rounds.map((r) => r.deviceFloor?.seconds)),
    'the disk alone reading the image data and writing our full repository at once (O_DIRECT, no hash or compression): no full backup can be faster on this disk');
  const restoreFloor = floorOf('restore', median(rounds.map((r) => r.restoreFloor?.seconds)),
    'the disk alone reading our repository\'s packs and writing the restored data at once (O_DIRECT, no decoding or hashing): no restore of these bytes can be faster on this disk');
  const out = {
    generated_at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, mem_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version,
      load_avg_at_start: loadAtStart, load_avg_at_end: os.loadavg().map((x) => round(x, 2)),
    },
    page_cache_dropped_between_steps: cacheDropped,
    image: {
      ...spec, size_mib: spec.size / MiB, ...facts, sparse: true,
      changed_blocks_64k: changedBytes / 65536, changed_areas: areas.length, changed_bytes: changedBytes, sha256_after_change: expectedSha,
    },
    ceiling_one_core: ceiling,
    device_floor_full: deviceFloor,
    device_floor_restore: restoreFloor,
    settings,
    rounds: rounds.map((r, i) => ({ round: i + 1, order: r.order, device_floor_full: r.deviceFloor, device_floor_restore: r.restoreFloor, results: r.results, targets: evaluateTargets(r.results) })),
    results, // the medians over the rounds (the one round when BENCH_ROUNDS=1)
    ratios: { vs_restic: ratios(results, 'restic'), vs_borg: ratios(results, 'borg') },
    targets,
  };
  const resultsDir = path.join(HERE, 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'datapath.json'), JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`\nbench:datapath, ${spec.size / MiB} MiB image, page cache ${cacheDropped ? 'dropped before every step' : 'WARM (could not drop)'}, `
    + `${roundCount} round(s)${roundCount > 1 ? ' (medians)' : ''}, steps interleaved across tools\n`);
  const c = ceiling;
  process.stdout.write(`ceiling on one core: sha256 ${c.sha256_mb_s} MB/s, zstd-1 ${c.zstd1_mb_s} MB/s (ratio ${c.zstd1_ratio}), both ${c.sha256_plus_zstd1_mb_s} MB/s\n`);
  for (const [step, f, what] of [['full', deviceFloor, "the image's data read while our repository's bytes are written"], ['restore', restoreFloor, "our packs read while the restored data is written"]] as const) {
    if (!f) continue;
    process.stdout.write(`device floor of the ${step} (the disk alone: ${what}): ${f.seconds} s; vaultflow = ${f.vaultflow_over_floor ?? '-'}x that, `
      + `restic ${f.restic_over_floor ?? '-'}x; the floor itself is ${f.floor_over_restic ?? '-'}x restic's ${step}, ${f.floor_over_borg ?? '-'}x borg's\n`);
  }
  process.stdout.write(`load average at start / end: ${loadAtStart.join(' ')} / ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (the machine is shared)\n\n`);
  process.stdout.write(table(results, targets) + '\n');
  if (Object.values(results).some((r) => !r.restore_sha256_ok)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
