import { isAllZero } from './chunk-codec.js';

/** A piece of a write: a chunk to store, or a zero range to record without storing. */
export interface Piece {
  /** Disk offset. */
  offset: number;
  length: number;
  zero: boolean;
}

/** How writes are cut: both sizes are powers of two, `zeroBlock` divides `chunkSize`. */
export interface ChunkerConfig {
  /** Largest chunk; chunks never cross a multiple of it (disk offsets), so equal data at equal offsets dedups. */
  chunkSize: number;
  /** Granularity of zero detection, aligned to disk offsets. */
  zeroBlock: number;
}

/**
 * Cuts `data`, written at disk `offset`, into chunks and zero ranges. The unit is the write itself
 * (a CBT changed area): a 64 KiB change becomes one 64 KiB chunk, never a rewrite of a coarser grid.
 * Runs of all-zero blocks become zero pieces of any length; other runs are cut at multiples of
 * `chunkSize`, so a chunk is at most `chunkSize` long.
 */
export function* cutWrite(offset: number, data: Uint8Array, config: ChunkerConfig): Generator<Piece> {
  const { chunkSize, zeroBlock } = config;
  const end = offset + data.length;
  let runStart = offset;
  let runZero: boolean | undefined;
  let pos = offset;
  while (pos < end) {
    const next = Math.min(end, (Math.floor(pos / zeroBlock) + 1) * zeroBlock);
    const zero = isAllZero(data.subarray(pos - offset, next - offset));
    if (runZero === undefined) {
      runZero = zero;
    } else if (zero !== runZero || (!zero && pos % chunkSize === 0)) {
      yield { offset: runStart, length: pos - runStart, zero: runZero };
      runStart = pos;
      runZero = zero;
    }
    pos = next;
  }
  if (runZero !== undefined) yield { offset: runStart, length: end - runStart, zero: runZero };
}
