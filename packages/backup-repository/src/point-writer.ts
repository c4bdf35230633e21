import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import type { BufferPool } from './buffer-pool.js';
import { ChunkPipeline, type StoredChunk } from './chunk-pipeline.js';
import type { ChunkWorkers } from './chunk-workers.js';
import { cutWrite, type ChunkerConfig } from './chunker.js';
import { ExtentTable, ExtentTableBuilder, overlay, sortExtents } from './extent-table.js';
import { FORMAT_VERSION, PACKS_DIR, POINT_SUFFIX, POINTS_DIR } from './format.js';
import { encodeManifest, type DiskInfo, type DiskMode, type PointInfo, type PointManifest, type PointStats } from './manifest.js';
import { PackWriter } from './pack-writer.js';
import type { RepositoryIndex } from './repository-index.js';
import type { ReleaseLock } from './repository-lock.js';
import { RepositoryError } from './repository-error.js';

/** A disk taking part in a point. */
export interface DiskSpec {
  /** The VM's device key (e.g. "2000"); unique within the point. */
  key: string;
  capacity: number;
  uuid?: string | null;
  /** The CBT change id of the snapshot this point is read from. */
  change_id?: string | null;
  /**
   * `full`: bytes never written read as zero (a CBT "*" read stores only allocated areas).
   * `incremental`: bytes never written keep the parent point's content (same disk key).
   */
  mode: DiskMode;
}

/** Counters reported while a point is written. */
export interface WriteProgress extends PointStats {
  point_id: string;
}

/** Everything a writer needs from its repository. */
export interface PointWriterContext {
  root: string;
  chunker: ChunkerConfig;
  packSize: number;
  index: RepositoryIndex;
  pool: BufferPool;
  workers: ChunkWorkers;
  release: ReleaseLock;
}

export interface PointWriterOptions {
  id: string;
  vm: string;
  created_at: string;
  parent: PointManifest | undefined;
  meta: Record<string, unknown>;
  onProgress: ((p: WriteProgress) => void) | undefined;
  progressIntervalMs: number;
}

interface DiskState {
  spec: DiskSpec;
  base: ExtentTable;
  changes: ExtentTableBuilder;
  bytes_written: number;
  bytes_new: number;
}

/**
 * Writes one restore point. Chunks go to pack files as they arrive; the manifest, which alone makes
 * the point exist, is written by {@link commit} after every pack and index file is durable. Calls to
 * writeExtent may run concurrently (disks in parallel); each byte of a disk may be written once.
 */
export class PointWriter {
  readonly id: string;
  readonly vm: string;
  private readonly disks = new Map<string, DiskState>();
  private readonly packs: PackWriter;
  private readonly chunks: ChunkPipeline;
  private readonly stats: PointStats = {
    bytes_written: 0, bytes_zero: 0, bytes_new: 0, bytes_stored: 0, chunks_new: 0, chunks_reused: 0, packs_written: 0,
  };
  private state: 'open' | 'committing' | 'closed' = 'open';
  private failure: unknown;
  private lastProgress = 0;

  constructor(private readonly ctx: PointWriterContext, private readonly options: PointWriterOptions) {
    this.id = options.id;
    this.vm = options.vm;
    this.packs = new PackWriter(path.join(ctx.root, PACKS_DIR), ctx.pool, {
      packSize: ctx.packSize,
      chunkSize: ctx.chunker.chunkSize,
      onDurable: (pack) => ctx.index.addPack(pack),
    });
    const inFlight = ctx.workers.capacity + 2; // workers full, plus the calling thread
    this.chunks = new ChunkPipeline(ctx.workers, ctx.pool, ctx.index, this.packs, ctx.chunker.chunkSize, inFlight);
  }

  /** The parent point, when this point was begun from one. */
  get parent(): PointManifest | undefined {
    return this.options.parent;
  }

  /** Declares a disk before writing to it. An incremental disk needs the same key in the parent point. */
  addDisk(spec: DiskSpec): void {
    this.assertOpen();
    if (this.disks.has(spec.key)) throw new RepositoryError('INVALID_ARGUMENT', `disk ${spec.key} was already added`);
    if (!Number.isSafeInteger(spec.capacity) || spec.capacity < 0) throw new RepositoryError('INVALID_ARGUMENT', `disk ${spec.key}: bad capacity ${spec.capacity}`);
    let base = ExtentTable.zero(0);
    if (spec.mode === 'incremental') {
      const parentDisk = this.options.parent?.disks.find((d) => d.key === spec.key);
      if (!parentDisk) throw new RepositoryError('INVALID_ARGUMENT', `disk ${spec.key}: an incremental needs the disk in the parent point`);
      base = parentDisk.extents;
    }
    this.disks.set(spec.key, { spec, base, changes: new ExtentTableBuilder(), bytes_written: 0, bytes_new: 0 });
  }

  /**
   * Stores `data` as the content of the disk at `offset`. Resolves once `data` is no longer needed
   * (hashed, compressed into a pack buffer); durability comes with commit. The chunks of one write
   * are hashed and compressed in parallel by the chunk workers.
   */
  async writeExtent(diskKey: string, offset: number, data: Uint8Array): Promise<void> {
    const disk = this.diskFor(diskKey, offset, data.length);
    const pieces = [...cutWrite(offset, data, this.ctx.chunker)];
    const stored = await Promise.allSettled(pieces.map((p) => (p.zero
      ? undefined
      : this.chunks.store(data.subarray(p.offset - offset, p.offset - offset + p.length)))));
    // every piece has settled: nothing uses `data` any more, even when one failed
    const failed = stored.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.failure ??= failed.reason;
      throw failed.reason;
    }
    for (const [i, piece] of pieces.entries()) {
      const chunk = (stored[i] as PromiseFulfilledResult<StoredChunk | undefined>).value;
      if (!chunk) {
        disk.changes.pushZero(piece.offset, piece.length);
        this.stats.bytes_zero += piece.length;
        continue;
      }
      if (chunk.isNew) {
        this.stats.bytes_stored += chunk.stored;
        this.stats.chunks_new++;
        this.stats.bytes_new += piece.length;
        disk.bytes_new += piece.length;
      } else {
        this.stats.chunks_reused++;
      }
      disk.changes.pushChunk(piece.offset, piece.length, chunk.id);
    }
    disk.bytes_written += data.length;
    this.stats.bytes_written += data.length;
    this.report(false);
  }

  /** Records that [offset, offset+length) of the disk now reads as zero, without storing anything. */
  zeroExtent(diskKey: string, offset: number, length: number): void {
    const disk = this.diskFor(diskKey, offset, length);
    disk.changes.pushZero(offset, length);
    disk.bytes_written += length;
    this.stats.bytes_written += length;
    this.stats.bytes_zero += length;
  }

  /**
   * Makes the point durable and visible: finalizes packs, writes their index file, then the manifest
   * (temp, fsync, rename, directory fsync). Until the rename the repository shows the previous state.
   */
  async commit(): Promise<PointInfo> {
    this.assertOpen();
    if (this.failure !== undefined) throw this.failure;
    if (this.disks.size === 0) throw new RepositoryError('INVALID_ARGUMENT', 'a restore point needs at least one disk');
    this.state = 'committing';
    try {
      const tables = [...this.disks.values()].map((d) => overlay(d.base, sortExtents(d.changes.build(), d.spec.key), d.spec.capacity));
      const finished = await this.packs.finish();
      if (finished.length > 0) await this.ctx.index.writeIndexFile(finished);
      this.stats.packs_written = finished.length;
      const disks: DiskInfo[] = [...this.disks.values()].map((d, i) => ({
        key: d.spec.key,
        uuid: d.spec.uuid ?? null,
        capacity: d.spec.capacity,
        change_id: d.spec.change_id ?? null,
        mode: d.spec.mode,
        extent_count: tables[i]!.count,
        bytes_written: d.bytes_written,
        bytes_new: d.bytes_new,
      }));
      const info: PointInfo = {
        format: FORMAT_VERSION,
        id: this.id,
        vm: this.vm,
        parent: this.options.parent?.id ?? null,
        created_at: this.options.created_at,
        meta: this.options.meta,
        disks,
        stats: { ...this.stats },
      };
      await writeFileAtomic(path.join(this.ctx.root, POINTS_DIR, this.id + POINT_SUFFIX), [encodeManifest(info, tables)]);
      this.report(true);
      return info;
    } catch (err) {
      await this.packs.abort();
      throw err;
    } finally {
      this.state = 'closed';
      await this.ctx.release();
    }
  }

  /** Gives up the point: nothing becomes visible; chunks already in finished packs are left for prune. Idempotent. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closed';
    try {
      await this.packs.abort();
    } finally {
      await this.ctx.release();
    }
  }

  private diskFor(diskKey: string, offset: number, length: number): DiskState {
    this.assertOpen();
    const disk = this.disks.get(diskKey);
    if (!disk) throw new RepositoryError('INVALID_ARGUMENT', `disk ${diskKey} was not added to point ${this.id}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > disk.spec.capacity) {
      throw new RepositoryError('INVALID_ARGUMENT', `disk ${diskKey}: range ${offset}+${length} is outside its ${disk.spec.capacity} bytes`);
    }
    return disk;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new RepositoryError('WRITER_CLOSED', `point ${this.id} is already ${this.state}`);
  }

  private report(final: boolean): void {
    const fn = this.options.onProgress;
    if (!fn) return;
    const now = Date.now();
    if (!final && now - this.lastProgress < this.options.progressIntervalMs) return;
    this.lastProgress = now;
    fn({ point_id: this.id, ...this.stats });
  }
}
