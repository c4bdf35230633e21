import type { BufferPool } from './buffer-pool.js';
import type { ChunkReader } from './chunk-reader.js';
import type { PointManifest } from './manifest.js';
import { isRepositoryError } from './repository-error.js';

/** A chunk that failed: absent from every pack, or unreadable, undecodable or with the wrong sha256. */
export interface DamagedChunk {
  chunk: string;
  pack: string | null;
  reason: 'missing' | 'corrupt';
  message: string;
}

/** A point that cannot be restored bit for bit: its manifest is damaged, or chunks it needs are. */
export interface DamagedPoint {
  id: string;
  vm: string | null;
  reason: 'manifest' | 'chunks';
  /** Damaged chunk ids this point references (empty for a damaged manifest). */
  chunks: string[];
  /** The disks that need those chunks, each with its own (empty for a damaged manifest). */
  disks: { key: string; chunks: string[] }[];
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  points_checked: number;
  chunks_checked: number;
  /** Plaintext bytes re-read and re-hashed. */
  bytes_checked: number;
  damaged_points: DamagedPoint[];
  damaged_chunks: DamagedChunk[];
}

export interface VerifyProgress {
  chunks_done: number;
  chunks_total: number;
  bytes_done: number;
}

/** A point to verify: its manifest, or the error that loading it raised. */
export type LoadedPoint = { id: string; manifest: PointManifest } | { id: string; error: Error };

/**
 * Re-reads and re-hashes every chunk the given points reference, once each, in pack order, and
 * names the points each damaged chunk breaks.
 */
export async function verifyPoints(
  points: readonly LoadedPoint[],
  reader: ChunkReader,
  pool: BufferPool,
  chunkSize: number,
  onProgress?: (p: VerifyProgress) => void,
  intervalMs = 1000,
): Promise<VerifyReport> {
  const users = new Map<string, string[]>();
  const damagedPoints: DamagedPoint[] = [];
  for (const p of points) {
    if ('error' in p) {
      damagedPoints.push({ id: p.id, vm: null, reason: 'manifest', chunks: [], disks: [], message: p.error.message });
      continue;
    }
    const ids = new Set<string>();
    for (const d of p.manifest.disks) d.extents.chunkIds(ids);
    for (const id of ids) {
      const list = users.get(id);
      if (list) list.push(p.id);
      else users.set(id, [p.id]);
    }
  }
  const order = [...users.keys()].sort((a, b) => {
    const la = reader.index.get(a);
    const lb = reader.index.get(b);
    if (!la || !lb) return la ? 1 : lb ? -1 : 0;
    return la.pack === lb.pack ? la.offset - lb.offset : la.pack < lb.pack ? -1 : 1;
  });
  const damaged: DamagedChunk[] = [];
  const buf = pool.acquire(chunkSize);
  let bytes = 0;
  let done = 0;
  let last = 0;
  try {
    for (const id of order) {
      try {
        bytes += (await reader.read(id, buf, true)).length;
      } catch (err) {
        if (!isRepositoryError(err)) throw err;
        damaged.push({
          chunk: id,
          pack: reader.index.get(id)?.pack ?? null,
          reason: err.code === 'CHUNK_MISSING' ? 'missing' : 'corrupt',
          message: err.message,
        });
      }
      done++;
      const now = Date.now();
      if (onProgress && now - last >= intervalMs) {
        last = now;
        onProgress({ chunks_done: done, chunks_total: order.length, bytes_done: bytes });
      }
    }
  } finally {
    pool.release(buf);
  }
  onProgress?.({ chunks_done: done, chunks_total: order.length, bytes_done: bytes });
  const byPoint = new Map<string, string[]>();
  for (const d of damaged) for (const p of users.get(d.chunk) ?? []) byPoint.set(p, [...(byPoint.get(p) ?? []), d.chunk]);
  for (const p of points) {
    const chunks = byPoint.get(p.id);
    if (!chunks || !('manifest' in p)) continue;
    damagedPoints.push({ id: p.id, vm: p.manifest.vm, reason: 'chunks', chunks, disks: disksNeeding(p.manifest, new Set(chunks)), message: `${chunks.length} damaged chunk(s)` });
  }
  return {
    ok: damagedPoints.length === 0 && damaged.length === 0,
    points_checked: points.length,
    chunks_checked: order.length,
    bytes_checked: bytes,
    damaged_points: damagedPoints,
    damaged_chunks: damaged,
  };
}

/** The disks of a point that reference any of `damaged`, each with the damaged chunks it needs. */
export function disksNeeding(point: PointManifest, damaged: ReadonlySet<string>): { key: string; chunks: string[] }[] {
  const out: { key: string; chunks: string[] }[] = [];
  for (const d of point.disks) {
    const ids = new Set<string>();
    d.extents.chunkIds(ids);
    const hit = [...ids].filter((id) => damaged.has(id));
    if (hit.length) out.push({ key: d.key, chunks: hit });
  }
  return out;
}
