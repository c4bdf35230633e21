import { stat } from 'node:fs/promises';
import { EXTENT_BYTES } from './format.js';
import type { PointManifest } from './manifest.js';

interface Entry {
  /** The manifest file as it was when decoded: inode, size, mtime. */
  signature: string;
  bytes: number;
  manifest: PointManifest;
}

/**
 * Decoded manifests of recently read points, so a client reading a disk image in many ranges (curl,
 * qemu-img through nbdkit's curl plugin) pays for reading and checking a manifest once, not once per
 * range: a 2 TiB disk's map is about 60 MB. Each use costs one stat: an entry whose file changed
 * (size, mtime or inode) or is gone is read again, so a deleted or damaged point is never served
 * from memory. Least recently used entries go first once `budgetBytes` of extent tables is held.
 * Entries are shared: callers must not modify what they get.
 */
export class ManifestCache {
  private readonly entries = new Map<string, Entry>();
  private held = 0;
  /** Reads served from memory and reads that decoded the file. */
  readonly counts = { hits: 0, misses: 0 };

  constructor(private readonly budgetBytes = 64 * 1024 * 1024) {}

  /** The manifest of point `id` stored in `file`, decoded by `load` unless an unchanged copy is held. */
  async get(id: string, file: string, load: () => Promise<PointManifest>): Promise<PointManifest> {
    let signature: string | undefined;
    try {
      const s = await stat(file, { bigint: true });
      signature = `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      // gone or unreadable: `load` reports it the way an uncached read would
    }
    const held = this.entries.get(id);
    if (held) {
      this.drop(id);
      if (held.signature === signature) {
        this.counts.hits++;
        this.keep(id, held);
        return held.manifest;
      }
    }
    this.counts.misses++;
    const manifest = await load();
    if (signature !== undefined) {
      const bytes = manifest.disks.reduce((n, d) => n + d.extent_count * EXTENT_BYTES, 0);
      if (bytes <= this.budgetBytes) this.keep(id, { signature, bytes, manifest });
    }
    return manifest;
  }

  /** Forgets a point (it was deleted). */
  forget(id: string): void {
    this.drop(id);
  }

  private keep(id: string, entry: Entry): void {
    this.drop(id);
    this.entries.set(id, entry);
    this.held += entry.bytes;
    for (const [oldest] of this.entries) {
      if (this.held <= this.budgetBytes) break;
      this.drop(oldest);
    }
  }

  private drop(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.held -= e.bytes;
  }
}
