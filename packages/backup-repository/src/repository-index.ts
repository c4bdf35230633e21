import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { listNames, writeFileAtomic } from './atomic-file.js';
import {
  INDEX_DIR, INDEX_MAGIC, INDEX_SUFFIX, PACK_ENTRY_BYTES, PACK_SUFFIX, PACKS_DIR, randomId,
} from './format.js';
import { readPackEntry, readPackTrailer, writePackEntry, type PackEntry } from './pack-format.js';
import { RepositoryError } from './repository-error.js';

/** Where to find a chunk: its pack and its entry there. */
export interface ChunkLocation extends PackEntry {
  pack: string;
}

/** A pack and its entries, as listed by an index file or a pack trailer. */
export interface PackListing {
  id: string;
  entries: PackEntry[];
}

/**
 * The repository-level index: chunk id -> pack location, for every chunk in a pack that exists.
 * Packs are the truth; index files (index/*.idx) are a cache of their trailers. Loading drops
 * entries of packs that no longer exist and reads the trailer of any pack no index file covers,
 * so a missing or damaged index file costs time, never data.
 */
export class RepositoryIndex {
  private readonly chunks = new Map<string, ChunkLocation>();
  private readonly packs = new Map<string, PackEntry[]>();
  private readonly loadedFiles = new Set<string>();
  /** Packs whose trailer could not be read: their chunks are unknown (verify reports them missing). */
  readonly unreadablePacks = new Set<string>();

  constructor(private readonly root: string) {}

  get chunkCount(): number {
    return this.chunks.size;
  }

  get(id: string): ChunkLocation | undefined {
    return this.chunks.get(id);
  }

  has(id: string): boolean {
    return this.chunks.has(id);
  }

  /** Pack ids and their entries. */
  packEntries(): ReadonlyMap<string, PackEntry[]> {
    return this.packs;
  }

  /** Registers a durable pack (a chunk already indexed elsewhere keeps its first location). */
  addPack(pack: PackListing): void {
    this.packs.set(pack.id, pack.entries);
    for (const e of pack.entries) if (!this.chunks.has(e.id)) this.chunks.set(e.id, { ...e, pack: pack.id });
  }

  /**
   * Brings the index up to date with the directory: loads new index files and trailers of uncovered
   * packs; starts over when packs or index files vanished (a prune ran). Returns the packs whose
   * trailers were read, so the caller can write an index file for them.
   */
  async refresh(): Promise<PackListing[]> {
    const packNames = new Set(await listNames(path.join(this.root, PACKS_DIR), PACK_SUFFIX));
    const indexNames = await listNames(path.join(this.root, INDEX_DIR), INDEX_SUFFIX);
    const names = new Set(indexNames);
    const vanished = [...this.loadedFiles].some((n) => !names.has(n)) || [...this.packs.keys()].some((p) => !packNames.has(p));
    if (vanished) {
      this.chunks.clear();
      this.packs.clear();
      this.loadedFiles.clear();
      this.unreadablePacks.clear();
    }
    for (const name of indexNames.sort()) {
      if (this.loadedFiles.has(name)) continue;
      this.loadedFiles.add(name);
      let listings: PackListing[];
      try {
        listings = decodeIndexFile(await readFile(path.join(this.root, INDEX_DIR, name + INDEX_SUFFIX)));
      } catch {
        continue; // a damaged index file is ignored; the trailers of its packs are read below
      }
      for (const l of listings) if (packNames.has(l.id) && !this.packs.has(l.id)) this.addPack(l);
    }
    const rebuilt: PackListing[] = [];
    for (const id of packNames) {
      if (this.packs.has(id) || this.unreadablePacks.has(id)) continue;
      try {
        const listing = { id, entries: await readPackTrailer(path.join(this.root, PACKS_DIR, id + PACK_SUFFIX)) };
        this.addPack(listing);
        rebuilt.push(listing);
      } catch (err) {
        if (err instanceof RepositoryError && err.code === 'PACK_CORRUPT') this.unreadablePacks.add(id);
        else if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return rebuilt;
  }

  /** Writes an index file listing `packs`, durably; returns its name. */
  async writeIndexFile(packs: readonly PackListing[]): Promise<string> {
    const name = randomId(16);
    await writeFileAtomic(path.join(this.root, INDEX_DIR, name + INDEX_SUFFIX), [encodeIndexFile(packs)]);
    this.loadedFiles.add(name);
    return name;
  }

  /** Names of index files currently loaded. */
  files(): string[] {
    return [...this.loadedFiles];
  }
}

/** magic[8] pack_count:u32, then per pack: id[16] entry_count:u32 entries[48 each]; then sha256 of all before. */
export function encodeIndexFile(packs: readonly PackListing[]): Buffer {
  let size = INDEX_MAGIC.length + 4 + 32;
  for (const p of packs) size += 20 + p.entries.length * PACK_ENTRY_BYTES;
  const buf = Buffer.alloc(size);
  INDEX_MAGIC.copy(buf, 0);
  buf.writeUInt32LE(packs.length, 8);
  let at = 12;
  for (const p of packs) {
    buf.write(p.id, at, 16, 'hex');
    buf.writeUInt32LE(p.entries.length, at + 16);
    at += 20;
    for (const e of p.entries) {
      writePackEntry(buf, at, Buffer.from(e.id, 'hex'), e);
      at += PACK_ENTRY_BYTES;
    }
  }
  createHash('sha256').update(buf.subarray(0, at)).digest().copy(buf, at);
  return buf;
}

/** Decodes an index file; throws INDEX_CORRUPT when it fails its checks. */
export function decodeIndexFile(buf: Buffer): PackListing[] {
  const corrupt = (why: string): RepositoryError => new RepositoryError('INDEX_CORRUPT', `index file ${why}`);
  if (buf.length < 44 || !buf.subarray(0, 8).equals(INDEX_MAGIC)) throw corrupt('has no header');
  const body = buf.subarray(0, buf.length - 32);
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - 32))) throw corrupt('checksum mismatch');
  const count = buf.readUInt32LE(8);
  const out: PackListing[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 20 > body.length) throw corrupt('is truncated');
    const id = buf.toString('hex', at, at + 16);
    const n = buf.readUInt32LE(at + 16);
    at += 20;
    if (at + n * PACK_ENTRY_BYTES > body.length) throw corrupt('is truncated');
    const entries: PackEntry[] = [];
    for (let j = 0; j < n; j++, at += PACK_ENTRY_BYTES) entries.push(readPackEntry(buf, at));
    out.push({ id, entries });
  }
  return out;
}
