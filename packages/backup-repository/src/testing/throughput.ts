// Measures a full backup, a 1% scattered incremental and a restore of a mixed disk image through
// the repository API on this machine. Not a test; run by hand:
//   node --import tsx --conditions=source packages/backup-repository/src/testing/throughput.ts [MiB] [dir]
import { open, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileSink, Repository } from '../index.js';
import { mixedImage, Prng } from './images.js';

const MiB = 1024 * 1024;
const READ = 4 * MiB;

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; s: number; cpu_s: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, s: (performance.now() - t0) / 1000, cpu_s: (c.user + c.system) / 1e6 };
}

/** Reads `areas` of `file` with one read ahead, handing each block to `sink` (two reused buffers). */
async function readAreas(file: string, areas: Array<[number, number]>, sink: (offset: number, data: Buffer) => Promise<void>): Promise<void> {
  const fh = await open(file, 'r');
  const bufs = [Buffer.allocUnsafeSlow(READ), Buffer.allocUnsafeSlow(READ)];
  const blocks: Array<[number, number]> = [];
  for (const [offset, length] of areas) for (let at = 0; at < length; at += READ) blocks.push([offset + at, Math.min(READ, length - at)]);
  const read = (i: number) => fh.read(bufs[i % 2]!, 0, blocks[i]![1], blocks[i]![0]);
  let next = blocks.length > 0 ? read(0) : undefined;
  for (let i = 0; i < blocks.length; i++) {
    await next;
    next = i + 1 < blocks.length ? read(i + 1) : undefined;
    await sink(blocks[i]![0], bufs[i % 2]!.subarray(0, blocks[i]![1]));
  }
  await fh.close();
}

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 256) * MiB;
  const dir = process.argv[3] ?? path.join(os.tmpdir(), 'vf-throughput');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const imageFile = path.join(dir, 'disk.raw');
  const image = mixedImage(size, 'throughput', MiB, 16 * MiB);
  await writeFile(imageFile, image);
  const repo = await Repository.init(path.join(dir, 'repo'));

  const full = await timed(async () => {
    const w = await repo.beginPoint({ vm: 'bench' });
    w.addDisk({ key: '2000', capacity: size, mode: 'full' });
    await readAreas(imageFile, [[0, size]], (o, d) => w.writeExtent('2000', o, d));
    return w.commit();
  });
  const afterFull = await repo.stats();

  // 1% of the image in scattered 64 KiB writes, given to the incremental as CBT would report them
  const prng = new Prng('incremental');
  const changed = new Set<number>();
  while (changed.size < Math.round((size * 0.01) / 65536)) changed.add(prng.int(size / 65536));
  const fh = await open(imageFile, 'r+');
  for (const block of changed) {
    prng.fill(image.subarray(block * 65536, (block + 1) * 65536));
    await fh.write(image, block * 65536, 65536, block * 65536);
  }
  await fh.close();
  const areas = [...changed].sort((a, b) => a - b).map((b): [number, number] => [b * 65536, 65536]);
  const incr = await timed(async () => {
    const w = await repo.beginPoint({ vm: 'bench', parent: full.value.id });
    w.addDisk({ key: '2000', capacity: size, mode: 'incremental' });
    await readAreas(imageFile, areas, (o, d) => w.writeExtent('2000', o, d));
    return w.commit();
  });
  const afterIncr = await repo.stats();
  const restore = await timed(() => repo.restoreDisk(incr.value.id, '2000', fileSink(path.join(dir, 'restored.raw'))));
  const verify = await timed(() => repo.verify());

  const mbps = (s: number): number => Math.round(size / 1e6 / s);
  console.log(JSON.stringify({
    image_mib: size / MiB,
    full: { s: +full.s.toFixed(3), cpu_s: +full.cpu_s.toFixed(2), mb_per_s: mbps(full.s), stats: full.value.stats },
    incremental: { s: +incr.s.toFixed(3), cpu_s: +incr.cpu_s.toFixed(2), changed_bytes: changed.size * 65536, stats: incr.value.stats },
    restore: { s: +restore.s.toFixed(3), cpu_s: +restore.cpu_s.toFixed(2), mb_per_s: mbps(restore.s) },
    verify: { s: +verify.s.toFixed(3), ok: verify.value.ok },
    repo_bytes_full: afterFull.pack_bytes,
    repo_bytes_incremental: afterIncr.pack_bytes - afterFull.pack_bytes,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }, null, 2));
  await rm(dir, { recursive: true, force: true });
}

void main();
