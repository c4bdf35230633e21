import { createHash } from 'node:crypto';
import zstd from 'zstd-napi/binding.js';
import { ZSTD_LEVEL } from './format.js';

/** Shared read-only zeroes: compared against for zero detection and streamed for holes. Never written. */
const ZEROES = Buffer.alloc(1024 * 1024);

/** The zero buffer streamed for zero ranges; callers must never write into it. */
export function zeroes(length: number): Buffer {
  return ZEROES.subarray(0, Math.min(length, ZEROES.length));
}

/** True when every byte of `data` is zero (memcmp against a shared zero page). */
export function isAllZero(data: Uint8Array): boolean {
  for (let at = 0; at < data.length; at += ZEROES.length) {
    const part = data.subarray(at, Math.min(data.length, at + ZEROES.length));
    if (!ZEROES.subarray(0, part.length).equals(part)) return false;
  }
  return true;
}

/** sha256 of a chunk's plaintext: its id. */
export function chunkId(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Upper bound of zstd output for `size` input bytes. */
export function compressBound(size: number): number {
  return zstd.compressBound(size);
}

/**
 * One zstd compression and one decompression context, reused for every chunk (the convenience
 * functions allocate per call; a reused context and destination roughly halve the cost).
 */
export class ChunkCodec {
  private readonly cctx = new zstd.CCtx();
  private readonly dctx = new zstd.DCtx();

  /**
   * Compresses `src` into `dst` (at least compressBound(src.length) long). Returns the compressed
   * length, or 0 when compression does not save at least 1/32 of the size: then store `src` raw.
   */
  compress(dst: Uint8Array, src: Uint8Array): number {
    const n = this.cctx.compress(dst, src, ZSTD_LEVEL);
    return n < src.length - (src.length >>> 5) ? n : 0;
  }

  /** Decompresses one frame into `dst`; returns the plaintext length. Throws on a damaged frame. */
  decompress(dst: Uint8Array, src: Uint8Array): number {
    return this.dctx.decompress(dst, src);
  }
}
