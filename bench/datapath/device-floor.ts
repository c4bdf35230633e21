// The device's floors on this machine: the time the disk alone needs for the I/O of a step, with no
// hashing or compression, so no software can do the step sooner on the same disk.
// - full: read the image's allocated data while writing as many bytes as our repository holds after
//   the full (reads of 1 MiB, 16 in flight; writes of 1 MiB, 4 in flight; an fdatasync at the end, as
//   the packs are fsynced).
// - restore: read every pack of our repository while writing as many bytes as the restore writes (the
//   image's data) into a file sized first (reads 16 in flight, writes 4, no fsync: like the restores).
// All with O_DIRECT. They show how much of a step's time is the disk's.
import { constants } from 'node:fs';
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
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

interface ReadPiece {
  file: string;
  offset: number;
  length: number;
}

/** 1 MiB pieces of the image's allocated data. */
async function imageData(image: string): Promise<ReadPiece[]> {
  const reader = await LocalFileDiskReader.open(image);
  const extents = await reader.allocatedExtents();
  await reader.close();
  const pieces: ReadPiece[] = [];
  for (const e of extents) for (let at = e.offset; at < e.offset + e.length; at += MiB) pieces.push({ file: image, offset: at, length: Math.min(MiB, e.offset + e.length - at) });
  return pieces;
}

/** 1 MiB pieces of every file in `dir`. */
async function wholeFiles(dir: string): Promise<ReadPiece[]> {
  const pieces: ReadPiece[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const file = path.join(dir, name);
    const { size } = await stat(file);
    for (let at = 0; at < size; at += MiB) pieces.push({ file, offset: at, length: Math.min(MiB, size - at) });
  }
  return pieces;
}

async function readAll(pieces: ReadPiece[]): Promise<{ bytes: number; at: number }> {
  const handles = new Map<string, FileHandle>();
  let bytes = 0;
  try {
    for (const p of pieces) if (!handles.has(p.file)) handles.set(p.file, await open(p.file, constants.O_RDONLY | constants.O_DIRECT));
    await lanes(16, pieces.length, async (i, buf) => {
      const p = pieces[i]!;
      // O_DIRECT wants whole blocks: a tail is rounded up (the read stops at the end of the file)
      const length = Math.ceil(p.length / 4096) * 4096;
      const { bytesRead } = await handles.get(p.file)!.read(buf, 0, length, p.offset);
      bytes += Math.min(bytesRead, p.length);
    });
  } finally {
    for (const fh of handles.values()) await fh.close();
  }
  return { bytes, at: performance.now() };
}

async function writeAll(file: string, bytes: number, opts: { sync: boolean; sizeFirst: boolean }): Promise<{ bytes: number; at: number }> {
  const pieces = Math.ceil(bytes / MiB);
  const fh: FileHandle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT);
  try {
    if (opts.sizeFirst) await fh.truncate(pieces * MiB);
    await lanes(4, pieces, async (i, buf) => {
      await fh.write(buf, 0, MiB, i * MiB);
    });
    if (opts.sync) await fh.datasync();
  } finally {
    await fh.close();
  }
  return { bytes: pieces * MiB, at: performance.now() };
}

async function measure(reads: ReadPiece[], writeBytes: number, scratchFile: string, opts: { sync: boolean; sizeFirst: boolean }): Promise<DeviceFloor> {
  const t0 = performance.now();
  try {
    const [r, w] = await Promise.all([readAll(reads), writeAll(scratchFile, writeBytes, opts)]);
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

/** A full's floor: reads the image's data while writing `writeBytes` to `scratchFile` (removed afterwards). Drop the page cache first. */
export async function measureDeviceFloor(image: string, writeBytes: number, scratchFile: string): Promise<DeviceFloor> {
  return measure(await imageData(image), writeBytes, scratchFile, { sync: true, sizeFirst: false });
}

/** A restore's floor: reads every pack in `packsDir` while writing `writeBytes` to `scratchFile` (removed afterwards). Drop the page cache first. */
export async function measureRestoreFloor(packsDir: string, writeBytes: number, scratchFile: string): Promise<DeviceFloor> {
  return measure(await wholeFiles(packsDir), writeBytes, scratchFile, { sync: false, sizeFirst: true });
}
