import { fillText, type Prng } from './images.js';

/** A byte range. */
export interface Area {
  offset: number;
  length: number;
}

const KiB = 1024;

/** Sorted, merged (overlapping or touching) areas. */
export function mergeAreas(areas: readonly Area[]): Area[] {
  const sorted = [...areas].filter((a) => a.length > 0).sort((a, b) => a.offset - b.offset);
  const out: Area[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last && a.offset <= last.offset + last.length) {
      last.length = Math.max(last.length, a.offset + a.length - last.offset);
    } else out.push({ ...a });
  }
  return out;
}

/** Rounds an area out to `grain` within `capacity`, as CBT reports whole blocks. */
export function roundOut(a: Area, grain: number, capacity: number): Area {
  const start = Math.floor(a.offset / grain) * grain;
  const end = Math.min(capacity, Math.ceil((a.offset + a.length) / grain) * grain);
  return { offset: start, length: end - start };
}

/**
 * Applies scattered changes to `image` in place and returns the areas a CBT query would report:
 * 64 KiB-aligned random writes, unaligned text writes (reported exactly, to exercise unaligned
 * extents), the last byte, and a zeroed range over data.
 */
export function scatterChanges(image: Buffer, prng: Prng, count: number): Area[] {
  const cap = image.length;
  const areas: Area[] = [];
  for (let i = 0; i < count; i++) {
    const length = Math.min(cap, (1 + prng.int(3)) * 64 * KiB);
    const offset = Math.floor(prng.int(Math.max(1, cap - length)) / (64 * KiB)) * 64 * KiB;
    prng.fill(image.subarray(offset, offset + length));
    areas.push({ offset, length });
  }
  for (let i = 0; i < 3; i++) {
    const length = 1 + prng.int(100 * KiB);
    const offset = prng.int(cap - length);
    fillText(image, offset, length, prng.int(500));
    areas.push({ offset, length });
  }
  image[cap - 1] = 0xa5;
  areas.push(roundOut({ offset: cap - 1, length: 1 }, 64 * KiB, cap));
  const zeroAt = Math.floor(prng.int(cap - 256 * KiB) / (64 * KiB)) * 64 * KiB;
  image.fill(0, zeroAt, zeroAt + 128 * KiB);
  areas.push({ offset: zeroAt, length: 128 * KiB });
  return mergeAreas(areas.map((a) => (a.offset % (64 * KiB) === 0 ? roundOut(a, 64 * KiB, cap) : a)));
}
