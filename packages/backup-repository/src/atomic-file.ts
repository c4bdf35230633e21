import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomId, TEMP_SUFFIX } from './format.js';

/** Flushes a directory's entries (a rename or unlink inside it) to stable storage. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes all of `data` at `position` (a single write may be short). */
export async function writeFully(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Reads exactly `length` bytes at `position` into `into`; rejects on a short file. */
export async function readFully(fh: FileHandle, into: Uint8Array, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(into, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`short read: ${done} of ${length} bytes at ${position}`);
    done += bytesRead;
  }
}

/** A temp name beside `finalPath`: same directory (so rename is atomic), recognisable by its suffix. */
export function tempPathFor(finalPath: string): string {
  return `${finalPath}.${randomId(6)}${TEMP_SUFFIX}`;
}

/**
 * Writes `parts` to `finalPath` so that a crash at any moment leaves either no file or the complete one:
 * temp file, fsync, rename, fsync of the directory.
 */
export async function writeFileAtomic(finalPath: string, parts: readonly Uint8Array[]): Promise<void> {
  const tmp = tempPathFor(finalPath);
  let fh: FileHandle | undefined = await open(tmp, 'wx');
  try {
    await writeFully(fh, Buffer.concat(parts), 0);
    await fh.datasync();
    await fh.close();
    fh = undefined;
    await rename(tmp, finalPath);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(finalPath));
}

/** Removes `file` and makes the removal durable. Resolves false when it did not exist. */
export async function removeDurably(file: string): Promise<boolean> {
  try {
    await rm(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await fsyncDir(path.dirname(file));
  return true;
}

/** Names in `dir` ending with `suffix` (without it), or [] when the directory is missing. */
export async function listNames(dir: string, suffix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => n.endsWith(suffix)).map((n) => n.slice(0, -suffix.length));
}
