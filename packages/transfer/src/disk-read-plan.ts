import type { ByteRange } from '@vaultflow/nbd';
import { DEFAULT_MAX_READ, planReads, type ExtentLike, type ReadPlan } from './cbt-planner.js';

/** Planned extents split by what the transport reports as reading as zeroes. */
export interface AllocationSplit {
  /** Parts of the extents that may hold data: to be read. */
  data: ByteRange[];
  /** Parts that read as zeroes: recorded as zero ranges, never read. */
  holes: ByteRange[];
}

/**
 * Splits sorted, disjoint `extents` against sorted, disjoint `allocated` ranges: `data` is their
 * intersection, `holes` the rest of the extents. Both come out sorted and disjoint.
 */
export function splitByAllocation(extents: readonly ByteRange[], allocated: readonly ByteRange[]): AllocationSplit {
  const data: ByteRange[] = [];
  const holes: ByteRange[] = [];
  const push = (list: ByteRange[], offset: number, end: number) => {
    if (end <= offset) return;
    const last = list[list.length - 1];
    if (last && last.offset + last.length === offset) last.length += end - offset;
    else list.push({ offset, length: end - offset });
  };
  let j = 0;
  for (const e of extents) {
    const end = e.offset + e.length;
    let at = e.offset;
    while (j < allocated.length && allocated[j]!.offset + allocated[j]!.length <= at) j++;
    for (let k = j; at < end; k++) {
      const a = allocated[k];
      if (!a || a.offset >= end) {
        push(holes, at, end);
        break;
      }
      push(holes, at, Math.max(at, a.offset));
      const from = Math.max(at, a.offset);
      const to = Math.min(end, a.offset + a.length);
      push(data, from, to);
      at = Math.max(at, to);
    }
  }
  return { data, holes };
}

/** What {@link planDiskReads} returns: the reads of the data, and the holes recorded without reading. */
export interface DiskReadPlan extends ReadPlan {
  holes: ByteRange[];
  /** Bytes of `holes`. */
  holeBytes: number;
}

/** The part of a DiskReader the plan uses. */
export interface BlockStatusSource {
  /** Ranges that may hold data (NBD base:allocation); absent when the transport cannot tell. */
  allocatedExtents?(): Promise<ByteRange[]>;
}

/**
 * Plans one disk's reads: {@link planReads} over the changed areas, then, when the reader can tell
 * which ranges read as zeroes (NBD block status), those parts become holes, which the transfer records
 * as zero ranges without reading them (for an incremental they still overwrite the parent's data). When
 * block status fails, every changed byte is read (`onFallback` says why): slower, never wrong.
 */
export async function planDiskReads(
  reader: BlockStatusSource, areas: readonly ExtentLike[], capacity: number, maxChunk = DEFAULT_MAX_READ, onFallback?: (err: Error) => void,
): Promise<DiskReadPlan> {
  const planned = planReads(areas, maxChunk, capacity);
  if (!reader.allocatedExtents || planned.bytes === 0) return { ...planned, holes: [], holeBytes: 0 };
  let allocated: ByteRange[];
  try {
    allocated = await reader.allocatedExtents();
  } catch (err) {
    onFallback?.(err as Error);
    return { ...planned, holes: [], holeBytes: 0 };
  }
  const { data, holes } = splitByAllocation(planned.extents, allocated);
  return { ...planReads(data, maxChunk, capacity), holes, holeBytes: holes.reduce((n, h) => n + h.length, 0) };
}
