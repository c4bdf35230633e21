import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Reads that bypass the page cache (O_DIRECT). A backup or restore reads each byte once, and filling
 * the page cache with fresh pages is the slowest part of a read on our machines (a cold 2.5 GB read:
 * ~10 s buffered, ~2.3 s direct; perf notes: first touch of new memory is slow). O_DIRECT needs the
 * buffer, the offset and the length aligned to the device's logical block: {@link IO_ALIGN} covers
 * every device, and {@link alignedBuffer} is the only memory in Node that is aligned.
 */
export const IO_ALIGN = 4096;

/** The part of the WebAssembly global used here (the project's TS lib has no WebAssembly types). */
declare const WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer } };

const WASM_PAGE = 64 * 1024;
const SLAB_BYTES = 16 * 1024 * 1024;
let slab: { buf: Buffer; used: number } | undefined;

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * A buffer of `size` bytes whose first byte is {@link IO_ALIGN}-aligned, in shared memory (chunk
 * workers use it in place). Carved from WebAssembly memories, whose base is page-aligned; where
 * WebAssembly is unavailable, a plain SharedArrayBuffer (direct reads then fall back to buffered).
 * Meant for pooled buffers: it is freed only once every buffer of its 16 MiB slab is unreachable.
 */
export function alignedBuffer(size: number): Buffer {
  const need = roundUp(Math.max(1, size), IO_ALIGN);
  if (!slab || slab.used + need > slab.buf.length) {
    const bytes = Math.max(SLAB_BYTES, roundUp(need, WASM_PAGE));
    try {
      const pages = bytes / WASM_PAGE;
      slab = { buf: Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer), used: 0 };
    } catch {
      return Buffer.from(new SharedArrayBuffer(size));
    }
  }
  const out = slab.buf.subarray(slab.used, slab.used + size);
  slab.used += need;
  return out;
}

/** Opens `file` read-only with O_DIRECT; undefined where the file system does not allow it. */
export async function openDirect(file: string): Promise<FileHandle | undefined> {
  if (constants.O_DIRECT === undefined) return undefined;
  try {
    return await open(file, constants.O_RDONLY | constants.O_DIRECT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    return undefined;
  }
}

/**
 * Reads bytes [position, position+length) with O_DIRECT: the aligned blocks that cover them go to the
 * start of `scratch` (aligned, at least `length + 2 * IO_ALIGN` long) and the view of the requested
 * bytes is returned. Resolves undefined when the kernel refuses the request (EINVAL: an unaligned
 * buffer, or a file system without direct I/O): read it buffered instead. Rejects on a short file.
 */
export async function readDirect(fh: FileHandle, scratch: Buffer, position: number, length: number): Promise<Buffer | undefined> {
  const start = Math.floor(position / IO_ALIGN) * IO_ALIGN;
  const end = roundUp(position + length, IO_ALIGN);
  if (end - start > scratch.length) return undefined;
  let done = 0;
  while (start + done < position + length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(scratch, done, end - start - done, start + done));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
      throw err;
    }
    done += bytesRead;
    // a read that ends off the block grid (or reads nothing) reached the end of the file
    if ((bytesRead === 0 || done % IO_ALIGN !== 0) && start + done < position + length) {
      throw new Error(`short read: ${position + length - start - done} bytes missing at ${start + done}`);
    }
  }
  return scratch.subarray(position - start, position - start + length);
}
