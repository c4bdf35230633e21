// The device's floor for a full backup on this machine: the time the disk alone needs to read the
// image's allocated data and, at the same time, write as many bytes as our repository holds after the
// full, with O_DIRECT (reads of 1 MiB, 16 in flight; writes of 1 MiB, 4 in flight; an fdatasync at the
// end). No hashing, no compression: a full backup cannot finish sooner than this on the same disk,
// whatever the software. It shows how much of a full's time is the disk's.
import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { alignedBuffer } from '../../packages/backup-repository/src/direct-io.js';
import { LocalFileDiskReader } from '../../packages/transfer/src/index.js';
import { round } from './measure.js';

const MiB = 1024 * 1024;

export interface DeviceFloor {
  read_bytes: number;
  write_bytes: number;
  /** Both at once, until the last read and the fdatasync are done. */
  seconds: number;
  read_mb_s: number;
  write_mb_s: number;
}

/** Runs `lanes` loops that each take the next piece until `pieces` are done. */
async function lanes(count: number, pieces: number, work: (piece: number, buf: Buffer) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: count }, async () => {
    const buf = alignedBuffer(MiB);
    while (next < pieces) await work(next++, buf);
  }));
}

async function readAll(image: string): Promise<{ bytes: number; at: number }> {
  const reader = await LocalFileDiskReader.open(image);
  const extents = await reader.allocatedExtents();
  await reader.close();
  const reads: Array<{ offset: number; length: number }> = [];
  for (const e of extents) for (let at = e.offset; at < e.offset + e.length; at += MiB) reads.push({ offset: at, length: Math.min(MiB, e.offset + e.length - at) });
  const fh = await open(image, constants.O_RDONLY | constants.O_DIRECT);
  let bytes = 0;
  try {
    await lanes(16, reads.length, async (i, buf) => {
      const r = reads[i]!;
      // O_DIRECT wants whole blocks: extents from qemu-img map are block-aligned, a tail is rounded up
      const length = Math.ceil(r.length / 4096) * 4096;
      const { bytesRead } = await fh.read(buf, 0, length, r.offset);
      bytes += Math.min(bytesRead, r.length);
    });
  } finally {
    await fh.close();
  }
  return { bytes, at: performance.now() };
}

async function writeAll(file: string, bytes: number): Promise<{ bytes: number; at: number }> {
  const pieces = Math.ceil(bytes / MiB);
  const fh: FileHandle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT);
  try {
    await lanes(4, pieces, async (i, buf) => {
      await fh.write(buf, 0, MiB, i * MiB);
    });
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return { bytes: pieces * MiB, at: performance.now() };
}

/** Reads the image's data while writing `writeBytes` to `scratchFile` (removed afterwards). Drop the page cache first. */
export async function measureDeviceFloor(image: string, writeBytes: number, scratchFile: string): Promise<DeviceFloor> {
  const t0 = performance.now();
  try {
    const [r, w] = await Promise.all([readAll(image), writeAll(scratchFile, writeBytes)]);
    const s = (t: number): number => (t - t0) / 1000;
    return {
      read_bytes: r.bytes,
      write_bytes: w.bytes,
      seconds: round(Math.max(s(r.at), s(w.at)), 3),
      read_mb_s: Math.round(r.bytes / 1e6 / s(r.at)),
      write_mb_s: Math.round(w.bytes / 1e6 / s(w.at)),
    };
  } finally {
    await rm(scratchFile, { force: true });
  }
}
