import { VsphereError } from './errors.js';
import type { DiskArea, DiskChangeInfo } from './types.js';

/** Fetches the QueryChangedDiskAreas reply that starts at `startOffset`. */
export type ChangedAreasPage = (startOffset: number) => Promise<DiskChangeInfo>;

/** Options of {@link collectChangedAreas}. */
export interface CollectChangedAreasOptions {
  /** Where to start. Default 0. */
  startOffset?: number;
  /** Called with every reply, for progress or diagnostics. */
  onPage?: (reply: DiskChangeInfo) => void;
  /** Stops between pages (`ABORTED`). */
  signal?: AbortSignal;
}

/** Sorts extents, drops empty ones and merges those that overlap or touch. Returns new objects. */
export function mergeAreas(areas: readonly DiskArea[]): DiskArea[] {
  const sorted = areas.filter((a) => a.length > 0).map((a) => ({ start: a.start, length: a.length })).sort((a, b) => a.start - b.start);
  const out: DiskArea[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last && last.start + last.length >= a.start) last.length = Math.max(last.length, a.start + a.length - last.start);
    else out.push(a);
  }
  return out;
}

/** The parts of `areas` inside `[from, to)`. */
export function clipAreas(areas: readonly DiskArea[], from: number, to: number): DiskArea[] {
  const out: DiskArea[] = [];
  for (const a of areas) {
    const s = Math.max(a.start, from);
    const e = Math.min(a.start + a.length, to);
    if (e > s) out.push({ start: s, length: e - s });
  }
  return out;
}

const isOffset = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * Walks a disk's changed areas reply by reply. A reply speaks for `[startOffset, startOffset+length)`
 * only; the next request starts at `startOffset + length`, until `capacity`. Extents are clipped to the
 * part of each window not covered yet (and to the capacity) and the result is merged.
 *
 * Refuses (`QCDA_BAD_PAGE`, permanent) a reply that would lose data or loop: a non-positive length, a
 * window starting after the requested offset (the gap would go unread), or one ending at or before it.
 */
export async function collectChangedAreas(page: ChangedAreasPage, capacity: number, opts: CollectChangedAreasOptions = {}): Promise<DiskArea[]> {
  if (!isOffset(capacity)) throw new RangeError(`capacity must be a non-negative safe integer, got ${capacity}`);
  const collected: DiskArea[] = [];
  let off = opts.startOffset ?? 0;
  while (off < capacity) {
    if (opts.signal?.aborted) throw new VsphereError('ABORTED', 'QueryChangedDiskAreas walk aborted', { cause: opts.signal.reason });
    const reply = await page(off);
    opts.onPage?.(reply);
    const bad = (why: string) => new VsphereError('QCDA_BAD_PAGE', `QueryChangedDiskAreas at offset ${off}: ${why} (startOffset=${reply.startOffset}, length=${reply.length})`);
    if (!isOffset(reply.startOffset) || !Number.isSafeInteger(reply.length)) throw bad('not an offset and length');
    if (reply.length <= 0) throw bad('empty window, no progress');
    if (reply.startOffset > off) throw bad('window starts after the requested offset');
    const end = reply.startOffset + reply.length;
    if (end <= off) throw bad('window ends before the requested offset');
    collected.push(...clipAreas(reply.changedAreas, off, Math.min(end, capacity)));
    off = end;
  }
  return mergeAreas(collected);
}
