// The machine's ceiling for our data path: MB/s of the repository's own chunk hash (sha256) and
// compression (zstd-1 through ChunkCodec, reused destination) on one core, on the image's own data.
import { open } from 'node:fs/promises';
import { chunkId, ChunkCodec, compressBound } from '../../packages/backup-repository/src/chunk-codec.js';
import type { Run } from './image.js';
import { round } from './measure.js';

const MiB = 1024 * 1024;

export interface Ceiling {
  sample_mb: number;
  sha256_mb_s: number;
  zstd1_mb_s: number;
  sha256_plus_zstd1_mb_s: number;
  zstd1_ratio: number;
}

/** Reads up to `sampleBytes` of the image's data runs, in their 40:20 random:text mix, into memory. */
async function sample(file: string, runs: readonly Run[], sampleBytes: number): Promise<Buffer> {
  const buf = Buffer.alloc(sampleBytes);
  const fh = await open(file, 'r');
  let at = 0;
  try {
    const data = runs.filter((r) => r.kind !== 'zero');
    const total = data.reduce((n, r) => n + r.length, 0);
    for (const r of data) {
      // an equal share of every data run, so the sample keeps the image's mix
      const take = Math.min(buf.length - at, Math.floor((r.length / total) * sampleBytes / MiB) * MiB);
      if (take > 0) await fh.read(buf, at, take, r.offset);
      at += take;
    }
  } finally {
    await fh.close();
  }
  return buf.subarray(0, at);
}

function rate(bytes: number, fn: () => void): number {
  fn(); // warm up: pages touched, code compiled
  const t0 = performance.now();
  fn();
  return round(bytes / 1e6 / ((performance.now() - t0) / 1000), 0);
}

/** One-core MB/s of sha256, zstd-1 and both, in 1 MiB chunks as the repository cuts them. */
export async function measureCeiling(file: string, runs: readonly Run[], sampleBytes = 512 * MiB): Promise<Ceiling> {
  const data = await sample(file, runs, sampleBytes);
  const codec = new ChunkCodec();
  const dst = Buffer.allocUnsafeSlow(compressBound(MiB));
  const chunks = Array.from({ length: data.length / MiB }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB));
  let stored = 0;
  const sha = rate(data.length, () => chunks.forEach((c) => chunkId(c)));
  const zstd = rate(data.length, () => {
    stored = 0;
    for (const c of chunks) stored += codec.compress(dst, c) || c.length;
  });
  const both = rate(data.length, () => chunks.forEach((c) => {
    chunkId(c);
    codec.compress(dst, c);
  }));
  return { sample_mb: round(data.length / 1e6, 0), sha256_mb_s: sha, zstd1_mb_s: zstd, sha256_plus_zstd1_mb_s: both, zstd1_ratio: round(data.length / stored, 2) };
}
