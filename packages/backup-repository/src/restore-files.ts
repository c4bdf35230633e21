import { RepositoryError } from './repository-error.js';

/**
 * The file name of a restored raw disk image: `<backup id>-disk-<key>.img`, the same for a file in
 * a folder of the hub and on a datastore. Rejects INVALID_ARGUMENT for an id or key that could
 * name anything else (a path separator, a leading dot).
 */
export function restoredImageName(backupId: string, diskKey: string | number): string {
  const key = String(diskKey);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(backupId) || !/^\d{1,10}$/.test(key)) {
    throw new RepositoryError('INVALID_ARGUMENT', `no image name for backup ${JSON.stringify(backupId)} disk ${JSON.stringify(key)}`);
  }
  return `${backupId}-disk-${key}.img`;
}

/** The temporary name an image is written under before it is renamed into place. */
export function partialImageName(finalName: string): string {
  return `.${finalName}.part`;
}
