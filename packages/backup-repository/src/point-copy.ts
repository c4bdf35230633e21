import { readFully } from './atomic-file.js';
import type { BufferPool } from './buffer-pool.js';
import { compressBound } from './chunk-codec.js';
import type { ChunkReader } from './chunk-reader.js';
import type { ChunkWorkers } from './chunk-workers.js';
import type { PointManifest } from './manifest.js';
import type { PackWriter } from './pack-writer.js';
import { RepositoryError } from './repository-error.js';
import type { RepositoryIndex } from './repository-index.js';

/** What copying a point did. */
export interface CopyReport {
  point: string;
  /** Chunks the point uses. */
  chunks: number;
  /** Chunks the destination lacked, and the bytes written for them (as stored: compressed or raw). */
  chunks_copied: number;
  bytes_copied: number;
  /** True when the destination had the point already: nothing was written. */
  already_present: boolean;
}

export interface CopySide {
  index: RepositoryIndex;
}

/**
 * Copies the chunks of `manifest` that the destination lacks from the source's packs into `packs`,
 * as stored (no recompression), each one decoded and checked against its sha256 on the way, so a
 * damaged chunk fails the copy (CHUNK_CORRUPT, naming it) instead of spreading. Reads go in pack
 * order. The caller finishes the packs, writes their index and then the manifest.
 */
export async function copyChunks(
  manifest: PointManifest,
  source: CopySide & { reader: ChunkReader; workers: ChunkWorkers },
  destination: CopySide,
  packs: PackWriter,
  pool: BufferPool,
  chunkSize: number,
): Promise<Omit<CopyReport, 'already_present'>> {
  const ids = new Set<string>();
  for (const d of manifest.disks) d.extents.chunkIds(ids);
  const missing = [...ids].filter((id) => !destination.index.has(id)).map((id) => {
    const at = source.index.get(id);
    if (!at) throw new RepositoryError('CHUNK_MISSING', `restore point ${manifest.id} uses chunk ${id}, which its repository does not hold`);
    return at;
  });
  missing.sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset));
  const stored = pool.acquire(compressBound(chunkSize));
  const plain = pool.acquire(chunkSize);
  let bytes = 0;
  try {
    for (const c of missing) {
      const data = stored.subarray(0, c.stored_length);
      await readFully(await source.reader.packHandle(c.pack), data, c.stored_length, c.offset);
      try {
        await source.workers.decode(data, plain, c.raw_length, c.compressed, Buffer.from(c.id, 'hex'));
      } catch (err) {
        throw new RepositoryError('CHUNK_CORRUPT', `chunk ${c.id} of restore point ${manifest.id} (pack ${c.pack}) ${(err as Error).message}: not copied`, { cause: err });
      }
      await packs.appendStored(c, data);
      bytes += c.stored_length;
    }
  } finally {
    pool.release(stored);
    pool.release(plain);
  }
  return { point: manifest.id, chunks: ids.size, chunks_copied: missing.length, bytes_copied: bytes };
}
