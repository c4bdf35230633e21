// The disk image of bench:datapath: like a real VM disk, from a seed. Runs of 1-64 MiB (64 KiB
// multiples) of random data (~40%), log-like text (~20%) and zeroes (~40%); zero runs are holes, so
// the image is sparse the way a thin disk is. Also the 1% scattered change of the incremental.
import { createCipheriv, createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { Prng } from '../../packages/backup-repository/src/testing/images.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BLOCK = 64 * KiB;
const WRITE = 4 * MiB;

export type RunKind = 'random' | 'text' | 'zero';
export interface Run {
  offset: number;
  length: number;
  kind: RunKind;
}
export interface Area {
  offset: number;
  length: number;
}
export interface ImageSpec {
  size: number;
  seed: string;
  minRun: number;
  maxRun: number;
}
export interface ImageFacts {
  runs: number;
  bytes: Record<RunKind, number>;
}

const SHARE: Record<RunKind, number> = { random: 0.4, text: 0.2, zero: 0.4 };
const KINDS: RunKind[] = ['random', 'text', 'zero'];

/**
 * Cuts the image into runs. Each run's kind is drawn with weights equal to what each kind still
 * lacks of its share, so the shares land close to 40/20/40 on any seed.
 */
export function layout(spec: ImageSpec): Run[] {
  const prng = new Prng(`${spec.seed}:layout`);
  const steps = (spec.maxRun - spec.minRun) / BLOCK + 1;
  const assigned: Record<RunKind, number> = { random: 0, text: 0, zero: 0 };
  const runs: Run[] = [];
  for (let at = 0; at < spec.size;) {
    const length = Math.min(spec.size - at, spec.minRun + prng.int(steps) * BLOCK);
    const lack = KINDS.map((k) => Math.max(0, SHARE[k] * spec.size - assigned[k]));
    const total = lack.reduce((a, b) => a + b, 0);
    let pick = prng.int(1_000_000) / 1_000_000 * total;
    let kind: RunKind = 'random';
    for (let i = 0; i < KINDS.length; i++) {
      kind = KINDS[i]!;
      if ((pick -= lack[i]!) < 0) break;
    }
    assigned[kind] += length;
    runs.push({ offset: at, length, kind });
    at += length;
  }
  return runs;
}

/** Log-like text: lines of pseudo-words from a vocabulary, each led by a growing sequence number. */
class TextSource {
  private readonly corpus: Buffer;
  private readonly starts: number[] = [];
  private seq = 1_764_240_000;
  private readonly prng: Prng;

  constructor(seed: string) {
    this.prng = new Prng(`${seed}:text`);
    const letters = 'etaoinshrdlcumwfgypbvkjxqz';
    const words = Array.from({ length: 2048 }, () => {
      let w = '';
      for (let n = 3 + this.prng.int(8); n > 0; n--) w += letters[Math.min(25, Math.floor(Math.abs(this.prng.int(1000) - this.prng.int(1000)) / 40))];
      return w;
    });
    const hosts = ['db-01', 'web-07', 'app-03', 'cache-2', 'auth-11'];
    const procs = ['sshd', 'kernel', 'nginx', 'postgres', 'systemd', 'cron', 'dockerd'];
    const lines: string[] = [];
    for (let i = 0; i < 4096; i++) {
      const n = 4 + this.prng.int(12);
      const body = Array.from({ length: n }, () => words[this.prng.int(words.length)]).join(' ');
      lines.push(` ${hosts[this.prng.int(hosts.length)]} ${procs[this.prng.int(procs.length)]}[${1000 + this.prng.int(60000)}]: ${body} status=${this.prng.int(600)}\n`);
    }
    let at = 0;
    for (const l of lines) {
      this.starts.push(at);
      at += Buffer.byteLength(l);
    }
    this.starts.push(at);
    this.corpus = Buffer.from(lines.join(''));
  }

  fill(into: Buffer): void {
    for (let at = 0; at < into.length;) {
      at += into.write(String(this.seq++), at, 'latin1');
      const i = this.prng.int(this.starts.length - 1);
      at += this.corpus.copy(into, at, this.starts[i]!, this.starts[i + 1]!);
    }
  }
}

/** Writes the image as a sparse file (zero runs are holes). */
export async function writeImage(file: string, spec: ImageSpec): Promise<ImageFacts> {
  const runs = layout(spec);
  const text = new TextSource(spec.seed);
  const zero = Buffer.alloc(BLOCK);
  const buf = Buffer.allocUnsafeSlow(WRITE);
  const bytes: Record<RunKind, number> = { random: 0, text: 0, zero: 0 };
  await rm(file, { force: true });
  const fh = await open(file, 'w');
  try {
    for (const [n, run] of runs.entries()) {
      bytes[run.kind] += run.length;
      if (run.kind === 'zero') continue;
      const key = createHash('sha256').update(`${spec.seed}:run:${n}`).digest();
      const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
      for (let at = 0; at < run.length; at += WRITE) {
        const len = Math.min(WRITE, run.length - at);
        const data = buf.subarray(0, len);
        if (run.kind === 'random') {
          // 64 KiB keystream pieces: small outputs reuse heap memory (fresh pages are slow here)
          for (let p = 0; p < len; p += BLOCK) cipher.update(zero.subarray(0, Math.min(BLOCK, len - p))).copy(data, p);
        } else {
          text.fill(data);
        }
        await fh.write(data, 0, len, run.offset + at);
      }
    }
    await fh.truncate(spec.size);
  } finally {
    await fh.close();
  }
  return { runs: runs.length, bytes };
}

/**
 * The 1% change: `count` distinct 64 KiB blocks spread uniformly over the disk, as CBT reports
 * them (sorted areas, touching blocks merged).
 */
export function scatteredChange(size: number, fraction: number, seed: string): Area[] {
  const prng = new Prng(`${seed}:change`);
  const blocks = new Set<number>();
  const count = Math.round((size * fraction) / BLOCK);
  while (blocks.size < count) blocks.add(prng.int(size / BLOCK));
  const areas: Area[] = [];
  for (const b of [...blocks].sort((x, y) => x - y)) {
    const last = areas[areas.length - 1];
    if (last && last.offset + last.length === b * BLOCK) last.length += BLOCK;
    else areas.push({ offset: b * BLOCK, length: BLOCK });
  }
  return areas;
}

/** Writes fresh pseudo-random bytes over `areas` of the image (in place, like a guest writing). */
export async function applyChange(file: string, areas: readonly Area[], seed: string): Promise<number> {
  const prng = new Prng(`${seed}:change-data`);
  const fh = await open(file, 'r+');
  let bytes = 0;
  try {
    for (const a of areas) {
      const data = Buffer.allocUnsafe(a.length);
      prng.fill(data);
      await fh.write(data, 0, a.length, a.offset);
      bytes += a.length;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return bytes;
}

/** sha256 of a file, read in 8 MiB blocks. */
export async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(file, 'r');
  const buf = Buffer.allocUnsafeSlow(8 * MiB);
  try {
    for (let pos = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}
