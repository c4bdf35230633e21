import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, listNames, readFully } from './atomic-file.js';
import type { BufferPool } from './buffer-pool.js';
import { compressBound } from './chunk-codec.js';
import type { ChunkReader } from './chunk-reader.js';
import { INDEX_DIR, INDEX_SUFFIX, PACK_SUFFIX, PACKS_DIR, POINTS_DIR, TEMP_SUFFIX } from './format.js';
import type { PointManifest } from './manifest.js';
import type { PackEntry } from './pack-format.js';
import { PackWriter, type FinishedPack } from './pack-writer.js';
import type { PackListing, RepositoryIndex } from './repository-index.js';

export interface PruneOptions {
  /** Rewrite a pack when more than this fraction of its bytes is unreferenced. Default 0.2. */
  maxUnusedFraction?: number;
}

export interface PruneReport {
  points: number;
  chunks_kept: number;
  chunks_removed: number;
  packs_deleted: number;
  packs_rewritten: number;
  packs_written: number;
  bytes_freed: number;
  temp_files_removed: number;
}

export interface PruneContext {
  root: string;
  index: RepositoryIndex;
  reader: ChunkReader;
  pool: BufferPool;
  chunkSize: number;
  packSize: number;
}

/**
 * Removes chunks no point references. Runs under the exclusive lock with every manifest loaded.
 * Order is what keeps every state safe: new packs durable, then the new index durable, then old
 * index files removed, then old packs removed. A crash anywhere leaves packs that are either still
 * needed and present, or unneeded and collected next time.
 */
export async function prunePacks(ctx: PruneContext, manifests: readonly PointManifest[], options: PruneOptions = {}): Promise<PruneReport> {
  const maxUnused = options.maxUnusedFraction ?? 0.2;
  const used = new Set<string>();
  for (const m of manifests) for (const d of m.disks) d.extents.chunkIds(used);

  const keep: PackListing[] = [];
  const rewrite: PackListing[] = [];
  const drop: string[] = [];
  let chunksRemoved = 0;
  for (const [pack, entries] of ctx.index.packEntries()) {
    // an entry counts as live only where the index locates its chunk: other copies are duplicates
    const live = entries.filter((e) => used.has(e.id) && ctx.index.get(e.id)?.pack === pack);
    chunksRemoved += entries.length - live.length;
    if (live.length === 0) {
      drop.push(pack);
      continue;
    }
    const total = entries.reduce((n, e) => n + e.stored_length, 0);
    const liveBytes = live.reduce((n, e) => n + e.stored_length, 0);
    if (total - liveBytes > maxUnused * total) rewrite.push({ id: pack, entries: live });
    else keep.push({ id: pack, entries });
  }

  const packsDir = path.join(ctx.root, PACKS_DIR);
  let written: FinishedPack[] = [];
  if (rewrite.length > 0) {
    const writer = new PackWriter(packsDir, ctx.pool, { packSize: ctx.packSize, chunkSize: ctx.chunkSize });
    const buf = ctx.pool.acquire(compressBound(ctx.chunkSize));
    try {
      for (const pack of rewrite) {
        const sorted = [...pack.entries].sort((a, b) => a.offset - b.offset);
        for (const e of sorted) await writer.appendStored(e, await readStored(ctx.reader, pack.id, e, buf));
      }
      written = await writer.finish();
    } catch (err) {
      await writer.abort();
      throw err;
    } finally {
      ctx.pool.release(buf);
    }
  }

  const obsolete = [...drop, ...rewrite.map((p) => p.id)];
  let bytesFreed = 0;
  if (obsolete.length > 0 || ctx.index.files().length > 1) {
    const newIndex = await ctx.index.writeIndexFile([...keep, ...written]);
    for (const name of await listNames(path.join(ctx.root, INDEX_DIR), INDEX_SUFFIX)) {
      if (name !== newIndex) await rm(path.join(ctx.root, INDEX_DIR, name + INDEX_SUFFIX), { force: true });
    }
    await fsyncDir(path.join(ctx.root, INDEX_DIR));
    await ctx.reader.close();
    for (const pack of obsolete) {
      const file = path.join(packsDir, pack + PACK_SUFFIX);
      bytesFreed += (await stat(file)).size;
      await rm(file, { force: true });
    }
    await fsyncDir(packsDir);
  }
  for (const w of written) bytesFreed -= w.bytes;

  const tempRemoved = await removeTemps(ctx.root);
  await ctx.index.refresh();
  return {
    points: manifests.length,
    chunks_kept: used.size,
    chunks_removed: chunksRemoved,
    packs_deleted: drop.length,
    packs_rewritten: rewrite.length,
    packs_written: written.length,
    bytes_freed: Math.max(0, bytesFreed),
    temp_files_removed: tempRemoved,
  };
}

async function readStored(reader: ChunkReader, pack: string, e: PackEntry, buf: Buffer): Promise<Buffer> {
  const fh = await reader.packHandle(pack);
  await readFully(fh, buf, e.stored_length, e.offset);
  return buf.subarray(0, e.stored_length);
}

/** Leftovers of writers that died before their rename; only safe under the exclusive lock. */
async function removeTemps(root: string): Promise<number> {
  let n = 0;
  for (const dir of [PACKS_DIR, INDEX_DIR, POINTS_DIR]) {
    const full = path.join(root, dir);
    for (const name of await readdir(full)) {
      if (!name.endsWith(TEMP_SUFFIX)) continue;
      await rm(path.join(full, name), { force: true });
      n++;
    }
  }
  return n;
}
