import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { writeFully } from './atomic-file.js';
import type { RestoreSink } from './disk-image.js';
import { IO_ALIGN } from './direct-io.js';

/** Writes a file sink keeps in flight: the writes of several chunks proceed on several cores. */
export const FILE_WRITES = 4;

interface Target {
  fh: FileHandle;
  /** The same file opened with O_DIRECT, undefined where refused. */
  direct: FileHandle | undefined;
}

/**
 * A restore into a raw image file. Zero ranges stay holes; the file is created or truncated, and set
 * to the capacity at the end (with direct writes, also before the first one). Whole aligned blocks in aligned buffers (the restore's own chunk
 * buffers) go out with O_DIRECT, past the page cache, which a restored image would only fill with
 * fresh pages (slow on our machines) and evict everything else for; the rest, and everything when
 * `direct` is false, through the page cache. With `sync`, the image is flushed to stable storage
 * before the restore resolves.
 */
export function fileSink(file: string, options: { sync?: boolean; direct?: boolean } = {}): RestoreSink & { close(): Promise<void> } {
  // one open for all writes, also when the first writes start together (each open would truncate)
  let target: Promise<Target> | undefined;
  const handles = (): Promise<Target> => (target ??= openTarget(file, options.direct !== false));
  const closeAll = async (t: Target): Promise<void> => {
    await Promise.allSettled([t.direct?.close()]);
    await t.fh.close();
  };
  return {
    parallelWrites: FILE_WRITES,
    async start(capacity) {
      // with direct writes, the whole size up front: they then land inside the file and run in
      // parallel (ext4 serializes direct writes that extend a file). Not for buffered writes: filling
      // holes inside a file through the page cache is several times slower than extending it on ext4.
      const t = await handles();
      if (t.direct) await t.fh.truncate(capacity);
    },
    async write(data, offset) {
      const t = await handles();
      if (t.direct && offset % IO_ALIGN === 0 && data.length % IO_ALIGN === 0) {
        try {
          return await writeFully(t.direct, data, offset);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err; // an unaligned buffer: write it buffered
        }
      }
      await writeFully(t.fh, data, offset);
    },
    async zero() {
      // a hole: nothing to write in a fresh file
    },
    async finish(capacity) {
      const t = await handles();
      await t.fh.truncate(capacity);
      if (options.sync) await t.fh.datasync();
      target = undefined;
      await closeAll(t);
    },
    async close() {
      const t = await target?.catch(() => undefined);
      target = undefined;
      if (t) await closeAll(t);
    },
  };
}

async function openTarget(file: string, direct: boolean): Promise<Target> {
  const fh = await open(file, 'w');
  return { fh, direct: direct ? await open(file, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined) : undefined };
}
