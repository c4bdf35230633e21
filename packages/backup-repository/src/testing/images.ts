import { createCipheriv, createHash } from 'node:crypto';
import type { Repository, RestoreSink } from '../index.js';

const TEXT = Buffer.from(
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit; /var/log/syslog kernel: eth0 link up 1000Mbps\n'
  + '{"user":"alice","action":"login","ok":true,"ts":1764240000}\nSELECT id, name FROM vm_contexts WHERE id = 42;\n',
);

/** A deterministic pseudo-random byte source (AES-256-CTR keystream of a seed). */
export class Prng {
  private readonly cipher;
  private readonly block = Buffer.alloc(4096);
  private pool = Buffer.alloc(0);

  constructor(seed: string) {
    const key = createHash('sha256').update(seed).digest();
    this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  /** Fills `into` with keystream bytes. */
  fill(into: Uint8Array): void {
    for (let at = 0; at < into.length; at += this.block.length) {
      const n = Math.min(this.block.length, into.length - at);
      into.set(this.cipher.update(this.block.subarray(0, n)), at);
    }
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (this.pool.length < 4) this.pool = this.cipher.update(this.block);
    const v = this.pool.readUInt32LE(0);
    this.pool = this.pool.subarray(4);
    return Math.floor((v / 0x1_0000_0000) * n);
  }
}

/** Fills [offset, offset+length) of `image` with repeated text starting at a pseudo-random phase. */
export function fillText(image: Buffer, offset: number, length: number, phase: number): void {
  for (let at = 0; at < length;) {
    const from = (phase + at) % TEXT.length;
    const n = Math.min(TEXT.length - from, length - at);
    TEXT.copy(image, offset + at, from, from + n);
    at += n;
  }
}

/**
 * A disk image like a VM's: runs of random data (~40%), text (~20%) and zeroes (~40%), each run
 * `minRun`..`maxRun` bytes (64 KiB multiples by default), from a seed.
 */
export function mixedImage(size: number, seed: string, minRun = 64 * 1024, maxRun = 4 * 1024 * 1024): Buffer {
  const prng = new Prng(seed);
  const image = Buffer.alloc(size);
  for (let at = 0; at < size;) {
    const run = Math.min(size - at, minRun + Math.floor(prng.int(maxRun - minRun + 1) / minRun) * minRun);
    const kind = prng.int(10);
    if (kind < 4) prng.fill(image.subarray(at, at + run));
    else if (kind < 6) fillText(image, at, run, prng.int(TEXT.length));
    at += run;
  }
  return image;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A sink that assembles a restored disk into one buffer (zero ranges left as allocated zeroes). */
export function bufferSink(capacity: number): RestoreSink & { image: Buffer } {
  const image = Buffer.alloc(capacity);
  return {
    image,
    async write(data, offset) {
      data.copy(image, offset);
    },
    async zero(offset, length) {
      image.fill(0, offset, offset + length);
    },
  };
}

/** Restores one disk of a point into memory. */
export async function restoreToBuffer(repo: Repository, pointId: string, diskKey: string): Promise<Buffer> {
  const point = await repo.readPoint(pointId);
  const disk = point.disks.find((d) => d.key === diskKey);
  if (!disk) throw new Error(`no disk ${diskKey}`);
  const sink = bufferSink(disk.capacity);
  await repo.restoreDisk(pointId, diskKey, sink);
  return sink.image;
}

/** Writes an image the way a full backup reads it: in `readSize` requests, zero ranges included. */
export async function writeWhole(
  writer: { writeExtent(k: string, o: number, d: Uint8Array): Promise<void> }, diskKey: string, image: Buffer, readSize = 4 * 1024 * 1024,
): Promise<void> {
  for (let at = 0; at < image.length; at += readSize) {
    await writer.writeExtent(diskKey, at, image.subarray(at, Math.min(image.length, at + readSize)));
  }
}
