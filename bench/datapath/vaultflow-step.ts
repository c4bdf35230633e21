// One step of our engine for bench:datapath, run as its own process (so its CPU and peak memory are
// measured like restic's and borg's): the image is read through LocalFileDiskReader, planned with
// planReads and copied by transferDisk into a PointWriter, exactly as the backup worker composes them.
//   init:        {"step":"init","repo":R}   (not measured, like `restic init`)
//   full:        {"step":"full","repo":R,"image":I}
//   incremental: {"step":"incremental","repo":R,"image":I,"parent":P,"areas":A}   (A: JSON file of CBT areas)
//   restore:     {"step":"restore","repo":R,"point":P,"out":F}
// Prints one JSON line with the point id, the writer's stats and the phase times.
import { readFile } from 'node:fs/promises';
import { fileSink, Repository } from '@vaultflow/backup-repository';
import { DEFAULT_MAX_READ, LocalFileDiskReader, planReads, transferDisk } from '../../packages/transfer/src/index.js';

interface Args {
  step: 'init' | 'full' | 'incremental' | 'restore';
  repo: string;
  image?: string;
  parent?: string;
  areas?: string;
  point?: string;
  out?: string;
}

const DISK = '2000';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const phases: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    phases[name] = Math.round(now - t) / 1000;
    t = now;
  };
  // BENCH_CHUNK_THREADS: worker threads beside the main one (default: the repository's, cores - 1)
  const threads = process.env.BENCH_CHUNK_THREADS;
  const options = threads === undefined ? {} : { chunkThreads: Number(threads) };
  if (args.step === 'init') {
    await Repository.init(args.repo, options);
    return;
  }
  const repo = await Repository.open(args.repo, options);
  lap('open_s');
  if (args.step === 'restore') {
    const sink = fileSink(args.out!);
    const r = await repo.restoreDisk(args.point!, DISK, sink);
    lap('restore_s');
    print({ ...r, phases });
    return;
  }
  const reader = await LocalFileDiskReader.open(args.image!);
  try {
    const areas = args.step === 'full'
      ? await reader.allocatedExtents()
      : (JSON.parse(await readFile(args.areas!, 'utf8')) as Array<{ offset: number; length: number }>);
    const plan = planReads(areas, DEFAULT_MAX_READ, reader.size);
    lap('plan_s');
    const w = await repo.beginPoint({ vm: 'bench-vm', ...(args.parent ? { parent: args.parent } : {}) });
    w.addDisk({ key: DISK, capacity: reader.size, mode: args.step === 'full' ? 'full' : 'incremental' });
    lap('begin_s');
    let transfer;
    try {
      transfer = await transferDisk({ reader, reads: plan.reads, writer: w, diskKey: DISK });
    } catch (err) {
      await w.abort();
      throw err;
    }
    lap('transfer_s');
    const info = await w.commit();
    lap('commit_s');
    print({ point_id: info.id, allocation: reader.allocationSource ?? 'cbt-areas', planned_bytes: plan.bytes, image_reads: reader.bytesRead, transfer, stats: info.stats, phases });
  } finally {
    await reader.close();
  }
}

function print(o: object): void {
  const m = process.memoryUsage();
  const mb = (x: number): number => Math.round(x / 1048576);
  const memory = { rss_now_mb: mb(m.rss), heap_total_mb: mb(m.heapTotal), heap_used_mb: mb(m.heapUsed), external_mb: mb(m.external), array_buffers_mb: mb(m.arrayBuffers) };
  process.stdout.write(JSON.stringify({ ...o, memory }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
