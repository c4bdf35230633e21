import { constants } from 'node:fs';
import { access, mkdir, open, readFile, realpath, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RepositoryType } from '@vaultflow/domain';
import { unprocessable } from '@vaultflow/errors';

/** Folders no repository may live in (or be): the system's own. */
const FORBIDDEN = ['/', '/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin', '/sys', '/usr', '/var/lib/mysql', '/var/lib/redis'];
const UNDER_FORBIDDEN = FORBIDDEN.filter((f) => f !== '/').map((f) => `${f}/`);

/** True for the system's own folders and anything inside them (no repository, no restored image goes there). */
export function isSystemFolder(p: string): boolean {
  const n = path.normalize(p).replace(/\/+$/, '') || '/';
  return FORBIDDEN.includes(n) || UNDER_FORBIDDEN.some((f) => `${n}/`.startsWith(f));
}

const MOUNT_TYPES: Record<'nfs' | 'cifs', string[]> = { nfs: ['nfs', 'nfs4'], cifs: ['cifs', 'smb3', 'smbfs'] };

export interface Capacity {
  total: number;
  used: number;
  available: number;
}

const field = 'body.config.path';

/**
 * `p` with the symbolic links of its deepest existing ancestor resolved and the missing rest
 * appended: the folder that creating `p` would really make (a link to /etc must not pass).
 */
async function resolvedPath(p: string): Promise<string> {
  const rest: string[] = [];
  let head = path.resolve(p);
  for (;;) {
    try {
      return path.join(await realpath(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.resolve(p);
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}

/** How folder `a` relates to folder `b` (both absolute and normalised), or undefined when apart. */
export function nesting(a: string, b: string): 'same' | 'inside' | 'contains' | undefined {
  const slash = (p: string) => (p.endsWith('/') ? p : `${p}/`);
  if (slash(a) === slash(b)) return 'same';
  if (slash(a).startsWith(slash(b))) return 'inside';
  if (slash(b).startsWith(slash(a))) return 'contains';
  return undefined;
}

/**
 * The file-system side of local, NFS and CIFS repositories: a path is accepted when it is allowed,
 * (for nfs/cifs) mounted with the right file system, and writable; capacity comes from statfs.
 */
export class RepositoryStorage {
  constructor(private readonly mountInfo = '/proc/self/mountinfo') {}

  /** Throws 422 when `p` may not hold a repository. */
  assertAllowed(p: string): void {
    const n = path.normalize(p).replace(/\/+$/, '') || '/';
    if (isSystemFolder(n)) {
      throw unprocessable('REPOSITORY_PATH_NOT_ALLOWED', `${n} is a system folder and cannot hold a repository`, [{ field, message: 'is a system folder' }]);
    }
  }

  /** `p` as the file system names it: normalised, symbolic links of its deepest existing ancestor followed. */
  async resolve(p: string): Promise<string> {
    return resolvedPath(p);
  }

  /** assertAllowed for `p` as written and for the folder it really names once symbolic links are followed. */
  async assertAllowedResolved(p: string): Promise<void> {
    this.assertAllowed(p);
    this.assertAllowed(await resolvedPath(p));
  }

  /**
   * Makes `p` ready: local paths are created when missing; nfs/cifs paths must be mounted. Then
   * a test file is written, synced and removed. Throws 422 with what is wrong.
   */
  async prepare(p: string, type: RepositoryType): Promise<void> {
    await this.assertAllowedResolved(p);
    if (type === 's3') throw unprocessable('REPOSITORY_TYPE_UNSUPPORTED', 'S3 repositories are not supported by this version of Vaultflow; use local, nfs or cifs', [{ field: 'body.repository_type', message: 'is not supported yet' }]);
    if (type === 'local') {
      await mkdir(p, { recursive: true, mode: 0o750 }).catch((err: NodeJS.ErrnoException) => {
        throw unprocessable('REPOSITORY_NOT_WRITABLE', `Cannot create ${p}: ${err.code ?? err.message}`, [{ field, message: `cannot be created (${err.code ?? 'error'})` }]);
      });
    } else {
      const fstype = await this.mountTypeOf(p);
      if (!fstype || !MOUNT_TYPES[type].includes(fstype)) {
        throw unprocessable('REPOSITORY_NOT_MOUNTED', `${p} is not on a mounted ${type.toUpperCase()} share${fstype ? ` (it is on ${fstype})` : ''}: mount it on the hub first`, [{ field, message: `is not a mounted ${type} share` }]);
      }
    }
    const s = await stat(p).catch(() => undefined);
    if (!s?.isDirectory()) throw unprocessable('REPOSITORY_NOT_WRITABLE', `${p} is not a folder`, [{ field, message: 'is not a folder' }]);
    await this.assertWritable(p);
  }

  async assertWritable(p: string): Promise<void> {
    const probe = path.join(p, `.vaultflow-write-test-${randomBytes(6).toString('hex')}`);
    try {
      await access(p, constants.W_OK);
      const fh = await open(probe, 'wx', 0o600);
      await fh.write('vaultflow');
      await fh.sync();
      await fh.close();
    } catch (err) {
      throw unprocessable('REPOSITORY_NOT_WRITABLE', `${p} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, [{ field, message: 'is not writable' }]);
    } finally {
      await rm(probe, { force: true });
    }
  }

  /** Capacity of the file system holding `p`; undefined when the path is gone. */
  async capacity(p: string): Promise<Capacity | undefined> {
    try {
      const s = await statfs(p);
      const total = s.blocks * s.bsize;
      const free = s.bfree * s.bsize;
      return { total, used: total - free, available: s.bavail * s.bsize };
    } catch {
      return undefined;
    }
  }

  /** The fstype of the mount that holds `p` (longest mount point prefix), from mountinfo. */
  async mountTypeOf(p: string): Promise<string | undefined> {
    const text = await readFile(this.mountInfo, 'utf8').catch(() => '');
    let best: { point: string; type: string } | undefined;
    for (const line of text.split('\n')) {
      const [left, right] = line.split(' - ');
      if (!left || !right) continue;
      const point = (left.split(' ')[4] ?? '').replace(/\\040/g, ' ');
      const type = right.split(' ')[0] ?? '';
      const inside = point === '/' || p === point || p.startsWith(`${point}/`);
      if (inside && (!best || point.length > best.point.length)) best = { point, type };
    }
    return best?.type;
  }
}
