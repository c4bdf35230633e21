import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { listNames, removeDurably, writeFileAtomic } from './atomic-file.js';
import { BufferPool } from './buffer-pool.js';
import { ChunkCodec } from './chunk-codec.js';
import { ChunkReader } from './chunk-reader.js';
import { ChunkWorkers } from './chunk-workers.js';
import type { ChunkerConfig } from './chunker.js';
import { rangeStream, restoreInto, walkDisk, writableSink, type RestoreProgress, type RestoreSink } from './disk-image.js';
import {
  CONFIG_FILE, DEFAULT_CHUNK_SIZE, DEFAULT_PACK_SIZE, DEFAULT_ZERO_BLOCK, FORMAT_VERSION, INDEX_DIR, LOCKS_DIR,
  PACK_SUFFIX, PACKS_DIR, POINT_SUFFIX, POINTS_DIR, PRUNE_WANTED_FILE, randomId,
} from './format.js';
import { ManifestCache } from './manifest-cache.js';
import { decodeManifest, readManifest, readManifestHeader, type PointDisk, type PointInfo, type PointManifest } from './manifest.js';
import { PackWriter } from './pack-writer.js';
import { copyChunks, type CopyReport } from './point-copy.js';
import { PointWriter, type WriteProgress } from './point-writer.js';
import { prunePacks, type PruneOptions, type PruneReport } from './prune.js';
import { RepositoryError } from './repository-error.js';
import { RepositoryIndex } from './repository-index.js';
import { LockManager, type LockOptions } from './repository-lock.js';
import { verifyPoints, type LoadedPoint, type VerifyProgress, type VerifyReport } from './verify.js';

/** config.json: fixed when the repository is created. */
export interface RepositoryConfig {
  format: 'vaultflow-repository';
  version: number;
  id: string;
  created_at: string;
  hash: 'sha256';
  compression: 'zstd-1';
  chunk_size: number;
  zero_block: number;
  pack_size: number;
}

export interface InitOptions {
  /** Largest chunk (power of two, 64 KiB..4 MiB). Default 1 MiB. */
  chunkSize?: number;
  /** Pack files roll over at about this size (1 MiB..1 GiB). Default 256 MiB. */
  packSize?: number;
}

export interface OpenOptions extends LockOptions {
  /** Minimum time between progress callbacks. Default 1000 ms. */
  progressIntervalMs?: number;
  /**
   * Worker threads that hash, compress and decode chunks beside the calling thread (shared by every
   * repository of the process that asks for the same number). Default: cores - 1, at most 3; 0 keeps
   * all of it on the calling thread.
   */
  chunkThreads?: number;
}

export interface BeginPointOptions {
  /** The VM this point belongs to (e.g. its instance UUID). */
  vm: string;
  /** Point id whose disk maps incremental disks build on. */
  parent?: string;
  /** Free-form facts kept in the manifest header (execution id, quiesced, ...). */
  meta?: Record<string, unknown>;
  onProgress?: (p: WriteProgress) => void;
}

export interface RestoreOptions {
  /** Re-hash every chunk read (default true). */
  verify?: boolean;
  onProgress?: (p: RestoreProgress) => void;
}

export interface RepositoryStats {
  points: number;
  packs: number;
  /** Bytes of pack files on disk. */
  pack_bytes: number;
  chunks: number;
  /** Bytes of chunks as stored (compressed or raw). */
  stored_bytes: number;
  /** Plaintext bytes of those chunks. */
  raw_bytes: number;
}

/**
 * A local-path backup repository: restore points (manifests), content-addressed chunks in pack
 * files, and an index. Safe for concurrent writers across processes; prune excludes everyone else.
 * See docs/repository-format.md.
 */
export class Repository {
  private readonly pool = new BufferPool();
  private readonly codec = new ChunkCodec();
  private readonly workers: ChunkWorkers;
  private readonly locks: LockManager;
  private readonly index: RepositoryIndex;
  private readonly chunker: ChunkerConfig;
  /** Manifests of points whose images are being read (ranges, restores); `counts` tells hits and misses. */
  readonly manifestCache = new ManifestCache();

  private constructor(readonly root: string, readonly config: RepositoryConfig, private readonly options: OpenOptions) {
    this.locks = new LockManager(root, options);
    this.index = new RepositoryIndex(root);
    this.chunker = { chunkSize: config.chunk_size, zeroBlock: config.zero_block };
    this.workers = ChunkWorkers.shared(options.chunkThreads);
  }

  /** Creates a repository in `root` (an empty or missing directory). Rejects ALREADY_EXISTS. */
  static async init(root: string, options: InitOptions & OpenOptions = {}): Promise<Repository> {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!isPowerOfTwo(chunkSize) || chunkSize < DEFAULT_ZERO_BLOCK || chunkSize > 4 * 1024 * 1024) {
      throw new RepositoryError('INVALID_ARGUMENT', `chunk size ${chunkSize} must be a power of two from 64 KiB to 4 MiB`);
    }
    const packSize = options.packSize ?? DEFAULT_PACK_SIZE;
    if (!Number.isSafeInteger(packSize) || packSize < 1024 * 1024 || packSize > 1024 * 1024 * 1024) {
      throw new RepositoryError('INVALID_ARGUMENT', `pack size ${packSize} must be from 1 MiB to 1 GiB`);
    }
    await mkdir(root, { recursive: true });
    try {
      await stat(path.join(root, CONFIG_FILE));
      throw new RepositoryError('ALREADY_EXISTS', `${root} already holds a repository`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const dir of [PACKS_DIR, INDEX_DIR, POINTS_DIR, LOCKS_DIR]) await mkdir(path.join(root, dir), { recursive: true });
    const config: RepositoryConfig = {
      format: 'vaultflow-repository',
      version: FORMAT_VERSION,
      id: randomId(16),
      created_at: new Date().toISOString(),
      hash: 'sha256',
      compression: 'zstd-1',
      chunk_size: chunkSize,
      zero_block: DEFAULT_ZERO_BLOCK,
      pack_size: packSize,
    };
    await writeFileAtomic(path.join(root, CONFIG_FILE), [Buffer.from(JSON.stringify(config, null, 2) + '\n')]);
    return Repository.open(root, options);
  }

  /**
   * Opens an existing repository and loads its index (reading pack trailers for packs no index
   * file covers, and writing an index file for them). Rejects NOT_A_REPOSITORY, UNSUPPORTED_FORMAT.
   */
  static async open(root: string, options: OpenOptions = {}): Promise<Repository> {
    const threads = options.chunkThreads;
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 0 || threads > 64)) {
      throw new RepositoryError('INVALID_ARGUMENT', `chunkThreads ${threads} must be an integer from 0 to 64`);
    }
    let config: RepositoryConfig;
    try {
      config = JSON.parse(await readFile(path.join(root, CONFIG_FILE), 'utf8')) as RepositoryConfig;
    } catch (err) {
      throw new RepositoryError('NOT_A_REPOSITORY', `${root} is not a repository`, { cause: err });
    }
    if (config.format !== 'vaultflow-repository') throw new RepositoryError('NOT_A_REPOSITORY', `${root} is not a repository`);
    if (config.version !== FORMAT_VERSION) throw new RepositoryError('UNSUPPORTED_FORMAT', `repository format ${config.version}`);
    const repo = new Repository(root, config, options);
    await repo.refreshIndex();
    return repo;
  }

  /**
   * Starts a restore point (takes a shared lock, released by commit or abort). With `parent`, disks
   * added as incremental start from that point's maps.
   */
  async beginPoint(options: BeginPointOptions): Promise<PointWriter> {
    const release = await this.locks.acquireShared();
    try {
      await this.refreshIndex();
      const parent = options.parent === undefined ? undefined : await this.readPoint(options.parent);
      const created = new Date();
      return new PointWriter(
        { root: this.root, chunker: this.chunker, packSize: this.config.pack_size, index: this.index, pool: this.pool, workers: this.workers, release },
        {
          id: `${created.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomId(4)}`,
          vm: options.vm,
          created_at: created.toISOString(),
          parent,
          meta: options.meta ?? {},
          onProgress: options.onProgress,
          progressIntervalMs: this.options.progressIntervalMs ?? 1000,
        },
      );
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** Restore points (headers only), oldest first, optionally of one VM. Unreadable manifests are left out (verify reports them). */
  async listPoints(vm?: string): Promise<PointInfo[]> {
    const out: PointInfo[] = [];
    for (const id of await listNames(this.pointsDir(), POINT_SUFFIX)) {
      try {
        const info = await readManifestHeader(id, this.pointFile(id));
        if (vm === undefined || info.vm === vm) out.push(info);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted meanwhile
        if (err instanceof RepositoryError) continue;
        throw err;
      }
    }
    return out.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1));
  }

  /** A whole point with its disk maps (checksum verified). Rejects POINT_NOT_FOUND, MANIFEST_CORRUPT. */
  async readPoint(id: string): Promise<PointManifest> {
    try {
      return await readManifest(id, this.pointFile(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RepositoryError('POINT_NOT_FOUND', `no restore point ${id}`);
      throw err;
    }
  }

  /**
   * Deletes a point's manifest. Other points never depend on it (each maps every byte itself); its
   * chunks stay until prune, which {@link pruneWanted} then asks for. Rejects POINT_NOT_FOUND.
   */
  async deletePoint(id: string): Promise<void> {
    if (!(await removeDurably(this.pointFile(id)))) {
      throw new RepositoryError('POINT_NOT_FOUND', `no restore point ${id}`);
    }
    this.manifestCache.forget(id);
    await this.wantPrune();
  }

  /**
   * Copies restore point `pointId` of `source` (another repository) into this one under the same id:
   * the chunks this repository lacks, as stored and each checked against its sha256 (a damaged chunk
   * fails the copy with CHUNK_CORRUPT), then their index, then the source's manifest, byte for byte,
   * written last like any point's. A crash leaves this repository as it was, plus unreferenced chunks
   * for prune. A point this repository has already is left alone. Both repositories are held shared
   * (a prune of either waits); repositories with different chunk sizes are refused.
   */
  async copyPointFrom(source: Repository, pointId: string): Promise<CopyReport> {
    if (source.config.chunk_size > this.config.chunk_size) {
      throw new RepositoryError('INVALID_ARGUMENT', `chunks of ${source.config.chunk_size} bytes do not fit this repository's ${this.config.chunk_size}-byte chunks`);
    }
    const releaseSource = await source.locks.acquireShared();
    const reader = source.newReader();
    try {
      const release = await this.locks.acquireShared();
      try {
        let bytes: Buffer;
        try {
          bytes = await readFile(source.pointFile(pointId));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RepositoryError('POINT_NOT_FOUND', `no restore point ${pointId}`);
          throw err;
        }
        const manifest = decodeManifest(pointId, bytes);
        if (await exists(this.pointFile(pointId))) {
          const ids = new Set<string>();
          for (const d of manifest.disks) d.extents.chunkIds(ids);
          return { point: pointId, chunks: ids.size, chunks_copied: 0, bytes_copied: 0, already_present: true };
        }
        await source.refreshIndex();
        await this.refreshIndex();
        const packs = new PackWriter(path.join(this.root, PACKS_DIR), this.pool, { packSize: this.config.pack_size, chunkSize: this.config.chunk_size, onDurable: (p) => this.index.addPack(p) });
        try {
          const report = await copyChunks(manifest, { index: source.index, reader, workers: source.workers }, { index: this.index }, packs, this.pool, source.config.chunk_size);
          const finished = await packs.finish();
          if (finished.length > 0) await this.index.writeIndexFile(finished);
          await writeFileAtomic(this.pointFile(pointId), [bytes]);
          return { ...report, already_present: false };
        } catch (err) {
          await packs.abort();
          throw err;
        }
      } finally {
        await release();
      }
    } finally {
      await reader.close();
      await releaseSource();
    }
  }

  /** True when points were deleted since the last prune (by any process): a prune may free space. */
  async pruneWanted(): Promise<boolean> {
    return exists(path.join(this.root, PRUNE_WANTED_FILE));
  }

  /**
   * Marks the repository for prune. A marker already there is enough: a prune removes it before it
   * reads the manifests, so a manifest deleted before that removal is not among the ones it keeps.
   */
  private async wantPrune(): Promise<void> {
    if (await this.pruneWanted()) return;
    await writeFileAtomic(path.join(this.root, PRUNE_WANTED_FILE), [Buffer.from(`${new Date().toISOString()}\n`)]);
  }

  /**
   * Re-reads and re-hashes every chunk referenced by one point, or by all points, and reports
   * damaged points and chunks. Never throws for damage; throws POINT_NOT_FOUND for an unknown id.
   */
  async verify(options: { pointId?: string; onProgress?: (p: VerifyProgress) => void } = {}): Promise<VerifyReport> {
    return this.withShared(async (reader) => {
      const ids = options.pointId !== undefined ? [options.pointId] : await listNames(this.pointsDir(), POINT_SUFFIX);
      const points: LoadedPoint[] = [];
      for (const id of ids) {
        try {
          points.push({ id, manifest: await this.readPoint(id) });
        } catch (err) {
          if (err instanceof RepositoryError && err.code === 'POINT_NOT_FOUND' && options.pointId === undefined) continue;
          if (!(err instanceof RepositoryError) || err.code === 'POINT_NOT_FOUND') throw err;
          points.push({ id, error: err });
        }
      }
      return verifyPoints(points, reader, this.pool, this.config.chunk_size, options.onProgress, this.options.progressIntervalMs);
    });
  }

  /**
   * Writes the raw image of one disk of a point, in one pass from offset 0 to its capacity. A
   * Writable receives every byte (zero ranges as zeroes; the caller ends it); a {@link RestoreSink}
   * such as `fileSink` can leave holes instead. Chunks are re-hashed unless `verify: false`.
   */
  async restoreDisk(pointId: string, diskKey: string, target: Writable | RestoreSink, options: RestoreOptions = {}): Promise<{ capacity: number; data_bytes: number; zero_bytes: number }> {
    const sink = isSink(target) ? target : writableSink(target);
    return this.withShared(async (reader) => {
      const disk = await this.disk(pointId, diskKey);
      await sink.start?.(disk.capacity);
      const segments = walkDisk(disk, 0, disk.capacity, reader, this.pool, this.config.chunk_size, options.verify ?? true, this.workers);
      const done = await restoreInto(segments, sink, disk.capacity, options.onProgress, this.options.progressIntervalMs);
      await sink.finish?.(disk.capacity);
      return { capacity: disk.capacity, ...done };
    });
  }

  /**
   * A stream of bytes [offset, offset+length) of a disk image (HTTP Range). Rejects when the range
   * is outside the disk; a damaged chunk errors the stream with CHUNK_CORRUPT or CHUNK_MISSING.
   */
  async readRange(pointId: string, diskKey: string, offset: number, length: number): Promise<Readable> {
    const release = await this.locks.acquireShared();
    const reader = this.newReader();
    try {
      await this.refreshIndex();
      const disk = await this.disk(pointId, diskKey);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > disk.capacity) {
        throw new RepositoryError('INVALID_ARGUMENT', `range ${offset}+${length} is outside disk ${diskKey} (${disk.capacity} bytes)`);
      }
      const segments = walkDisk(disk, offset, offset + length, reader, this.pool, this.config.chunk_size, true, this.workers);
      return rangeStream(segments, async () => {
        await reader.close();
        await release();
      });
    } catch (err) {
      await reader.close();
      await release();
      throw err;
    }
  }

  /** Counts of points, packs and chunks, and their sizes. Takes no lock (safe beside a running prune). */
  async stats(): Promise<RepositoryStats> {
    await this.refreshIndex();
    let packBytes = 0;
    let stored = 0;
    let raw = 0;
    let chunks = 0;
    const packs = this.index.packEntries();
    for (const [pack, entries] of packs) {
      try {
        packBytes += (await stat(path.join(this.root, PACKS_DIR, pack + PACK_SUFFIX))).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // a prune elsewhere removed it
        throw err;
      }
      for (const e of entries) {
        if (this.index.get(e.id)?.pack !== pack) continue;
        chunks++;
        stored += e.stored_length;
        raw += e.raw_length;
      }
    }
    const points = (await listNames(this.pointsDir(), POINT_SUFFIX)).length;
    return { points, packs: packs.size, pack_bytes: packBytes, chunks, stored_bytes: stored, raw_bytes: raw };
  }

  /**
   * Removes chunks that no point references (exclusive lock: rejects LOCKED while any backup,
   * restore or verify runs). Refuses to run when a manifest cannot be read.
   */
  async prune(options: PruneOptions = {}): Promise<PruneReport> {
    const release = await this.locks.acquireExclusive();
    const reader = this.newReader();
    let wanted = false;
    try {
      // cleared before the manifests are read: a point deleted from now on asks for the next prune
      wanted = await removeDurably(path.join(this.root, PRUNE_WANTED_FILE));
      await this.refreshIndex();
      const manifests: PointManifest[] = [];
      for (const id of await listNames(this.pointsDir(), POINT_SUFFIX)) manifests.push(await this.readPoint(id));
      return await prunePacks(
        { root: this.root, index: this.index, reader, pool: this.pool, chunkSize: this.config.chunk_size, packSize: this.config.pack_size },
        manifests,
        options,
      );
    } catch (err) {
      if (wanted) await this.wantPrune().catch(() => undefined);
      throw err;
    } finally {
      await reader.close();
      await release();
    }
  }

  private async withShared<T>(fn: (reader: ChunkReader) => Promise<T>): Promise<T> {
    const release = await this.locks.acquireShared();
    const reader = this.newReader();
    try {
      await this.refreshIndex();
      return await fn(reader);
    } finally {
      await reader.close();
      await release();
    }
  }

  private async refreshIndex(): Promise<void> {
    const rebuilt = await this.index.refresh();
    if (rebuilt.length > 0) await this.index.writeIndexFile(rebuilt);
  }

  /** A disk of a point for reading its image (restore, ranges): the manifest comes from the cache when unchanged. */
  private async disk(pointId: string, diskKey: string): Promise<PointDisk> {
    const point = await this.manifestCache.get(pointId, this.pointFile(pointId), () => this.readPoint(pointId));
    const disk = point.disks.find((d) => d.key === diskKey);
    if (!disk) throw new RepositoryError('DISK_NOT_FOUND', `restore point ${pointId} has no disk ${diskKey}`);
    return disk;
  }

  private newReader(): ChunkReader {
    return new ChunkReader(this.root, this.index, this.pool, this.codec, this.config.chunk_size);
  }

  private pointsDir(): string {
    return path.join(this.root, POINTS_DIR);
  }

  /** The manifest file of point `id`; rejects an id that is no point's name (POINT_NOT_FOUND) before any path is built of it. */
  private pointFile(id: string): string {
    if (!/^[\w.-]+$/.test(id)) throw new RepositoryError('POINT_NOT_FOUND', `no restore point ${id}`);
    return path.join(this.root, POINTS_DIR, id + POINT_SUFFIX);
  }
}

function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function isSink(t: Writable | RestoreSink): t is RestoreSink {
  return typeof (t as Writable).on !== 'function';
}
