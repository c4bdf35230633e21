import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listNames, removeDurably, writeFileAtomic } from './atomic-file.js';
import { LOCK_SUFFIX, LOCKS_DIR, randomId } from './format.js';
import { RepositoryError } from './repository-error.js';

/** `shared`: writers, restores, verify (any number at once). `exclusive`: prune, alone. */
export type LockKind = 'shared' | 'exclusive';

interface LockRecord {
  kind: LockKind;
  pid: number;
  hostname: string;
  created_at: string;
  refreshed_at: string;
}

export interface LockOptions {
  /** A lock not refreshed for this long is stale (another host's crashed process). Default 30 min. */
  staleMs?: number;
  /** How often a held lock is refreshed. Default 5 min. */
  refreshMs?: number;
}

interface HeldLock {
  name: string;
  timer: NodeJS.Timeout;
  /** The refresh in progress, awaited before removal so it cannot resurrect the file. */
  refreshing: Promise<void>;
}

/** Releases a lock; idempotent. */
export type ReleaseLock = () => Promise<void>;

/**
 * Lock files in locks/: each holder writes its own file, then looks for conflicting ones and backs
 * off if it finds any, so two parties racing always see each other. A lock of a dead process on
 * this host, or one not refreshed within `staleMs`, is stale and ignored. One shared lock file per
 * instance is reference-counted across its writers and readers.
 */
export class LockManager {
  private shared: (HeldLock & { refs: number }) | undefined;
  private sharedPending: Promise<void> | undefined;
  private readonly staleMs: number;
  private readonly refreshMs: number;

  constructor(private readonly root: string, options: LockOptions = {}) {
    this.staleMs = options.staleMs ?? 30 * 60_000;
    this.refreshMs = options.refreshMs ?? 5 * 60_000;
  }

  /** Takes (or shares this instance's) shared lock; rejects LOCKED while a prune holds the repository. */
  async acquireShared(): Promise<ReleaseLock> {
    while (this.sharedPending) await this.sharedPending.catch(() => undefined);
    if (!this.shared) {
      this.sharedPending = this.take('shared').then((held) => {
        this.shared = { ...held, refs: 0 };
      });
      try {
        await this.sharedPending;
      } finally {
        this.sharedPending = undefined;
      }
    }
    const shared = this.shared!;
    shared.refs++;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (--shared.refs === 0 && this.shared === shared) {
        this.shared = undefined;
        await this.drop(shared);
      }
    };
  }

  /** Takes the exclusive lock; rejects LOCKED when any other live lock exists. */
  async acquireExclusive(): Promise<ReleaseLock> {
    const held = await this.take('exclusive');
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.drop(held);
    };
  }

  private async drop(held: HeldLock): Promise<void> {
    clearInterval(held.timer);
    await held.refreshing;
    await this.remove(held.name);
  }

  private async take(kind: LockKind): Promise<HeldLock> {
    const name = randomId(12);
    const now = new Date().toISOString();
    const record: LockRecord = { kind, pid: process.pid, hostname: os.hostname(), created_at: now, refreshed_at: now };
    await this.write(name, record);
    try {
      for (const other of await listNames(this.dir(), LOCK_SUFFIX)) {
        if (other === name) continue;
        const theirs = await this.read(other);
        if (!theirs || this.isStale(theirs)) continue;
        if (kind === 'exclusive' || theirs.kind === 'exclusive') {
          throw new RepositoryError('LOCKED', `repository is locked (${theirs.kind}) by pid ${theirs.pid} on ${theirs.hostname} since ${theirs.created_at}`);
        }
      }
    } catch (err) {
      await this.remove(name);
      throw err;
    }
    const held: HeldLock = { name, timer: undefined as unknown as NodeJS.Timeout, refreshing: Promise.resolve() };
    held.timer = setInterval(() => {
      held.refreshing = this.write(name, { ...record, refreshed_at: new Date().toISOString() }).catch(() => undefined);
    }, this.refreshMs);
    held.timer.unref();
    return held;
  }

  private isStale(lock: LockRecord): boolean {
    if (lock.hostname === os.hostname()) {
      try {
        process.kill(lock.pid, 0);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
    return Date.now() - Date.parse(lock.refreshed_at) > this.staleMs;
  }

  private dir(): string {
    return path.join(this.root, LOCKS_DIR);
  }

  private async write(name: string, record: LockRecord): Promise<void> {
    await writeFileAtomic(path.join(this.dir(), name + LOCK_SUFFIX), [Buffer.from(JSON.stringify(record))]);
  }

  private async read(name: string): Promise<LockRecord | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.dir(), name + LOCK_SUFFIX), 'utf8')) as LockRecord;
    } catch {
      return undefined; // vanished (released) between listing and reading
    }
  }

  private async remove(name: string): Promise<void> {
    await removeDurably(path.join(this.dir(), name + LOCK_SUFFIX));
  }
}
