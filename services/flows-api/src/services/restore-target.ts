import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Stores } from '@vaultflow/db';
import { badRequest, conflict, unprocessable, type ErrorDetail } from '@vaultflow/errors';
import type { RestoreRequest } from '@vaultflow/schemas';
import { isSystemFolder, nesting } from './repository-storage.js';

const FILE_ONLY = ['path'] as const;
const DATASTORE_ONLY = ['vcenter_id', 'datacenter', 'datastore', 'folder'] as const;

/** 400 naming every field that does not fit the target: missing ones it needs, present ones of the other target. */
export function assertTargetFields(r: RestoreRequest): void {
  const issues: ErrorDetail[] = [];
  const [needed, foreign] = r.target === 'file' ? [FILE_ONLY, DATASTORE_ONLY] : [['vcenter_id', 'datastore', 'folder'] as const, FILE_ONLY];
  for (const f of needed) if (r[f] === undefined) issues.push({ field: `body.${f}`, message: `is required for target ${r.target}` });
  for (const f of foreign) if (r[f] !== undefined) issues.push({ field: `body.${f}`, message: `is not used by target ${r.target}` });
  if (issues.length) throw badRequest('VALIDATION_FAILED', `Invalid request: ${issues[0]!.field} ${issues[0]!.message}`, issues);
}

/**
 * Checks a folder of the hub that restored images go to, and returns it with symbolic links
 * resolved: it must exist, be a folder, be writable, be no system folder and lie outside every
 * repository. Each image file must not exist yet unless `overwrite` (409 RESTORE_TARGET_EXISTS).
 */
export async function checkFileTarget(stores: Stores, folder: string, names: string[], overwrite: boolean): Promise<string> {
  const field = 'body.path';
  const real = await realpath(folder).catch(() => undefined);
  if (!real || !(await stat(real)).isDirectory()) {
    throw unprocessable('RESTORE_PATH_NOT_FOUND', `${folder} is not an existing folder of the hub: create it first`, [{ field, message: 'is not an existing folder' }]);
  }
  if (isSystemFolder(real)) throw unprocessable('RESTORE_PATH_NOT_ALLOWED', `${real} is a system folder: restore somewhere else`, [{ field, message: 'is a system folder' }]);
  for (const other of await stores.repositories.paths()) {
    const theirs = await realpath(other.path).catch(() => other.path);
    const how = nesting(real, theirs);
    if (how === 'same' || how === 'inside') {
      throw unprocessable('RESTORE_PATH_NOT_ALLOWED', `${real} is inside the folder of repository "${other.name}": restore somewhere else`, [{ field, message: 'is inside a repository' }]);
    }
  }
  try {
    await access(real, constants.W_OK);
  } catch (err) {
    throw unprocessable('RESTORE_PATH_NOT_WRITABLE', `${real} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, [{ field, message: 'is not writable' }]);
  }
  if (!overwrite) {
    const existing: string[] = [];
    for (const n of names) if (await stat(path.join(real, n)).then(() => true, () => false)) existing.push(path.join(real, n));
    if (existing.length) {
      throw conflict('RESTORE_TARGET_EXISTS', `${existing.join(', ')} exist(s) already: set overwrite: true to replace, or restore to another folder`, existing.map((f) => ({ field, message: `holds ${path.basename(f)} already` })));
    }
  }
  return real;
}
