/**
 * Stable codes of {@link RepositoryError}; callers branch on these, never on the message.
 * - `NOT_A_REPOSITORY`, `ALREADY_EXISTS`, `UNSUPPORTED_FORMAT`: the path is not (or already is) a repository.
 * - `LOCKED`: another process holds a conflicting lock (a prune while backups run, or the reverse).
 * - `POINT_NOT_FOUND`, `DISK_NOT_FOUND`: no such restore point, or no such disk in it.
 * - `INVALID_ARGUMENT`: a write outside the disk, overlapping writes, an unknown disk, a bad option.
 * - `WRITER_CLOSED`: the point writer was already committed or aborted.
 * - `MANIFEST_CORRUPT`, `PACK_CORRUPT`, `INDEX_CORRUPT`: a file failed its checksum or structure checks.
 * - `CHUNK_MISSING`, `CHUNK_CORRUPT`: a chunk a point references is absent, or fails its sha256.
 */
export type RepositoryErrorCode =
  | 'NOT_A_REPOSITORY' | 'ALREADY_EXISTS' | 'UNSUPPORTED_FORMAT'
  | 'LOCKED'
  | 'POINT_NOT_FOUND' | 'DISK_NOT_FOUND'
  | 'INVALID_ARGUMENT' | 'WRITER_CLOSED'
  | 'MANIFEST_CORRUPT' | 'PACK_CORRUPT' | 'INDEX_CORRUPT'
  | 'CHUNK_MISSING' | 'CHUNK_CORRUPT';

/** The one error type of this package: a stable `code` and an optional `cause`. */
export class RepositoryError extends Error {
  readonly code: RepositoryErrorCode;

  constructor(code: RepositoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RepositoryError';
    this.code = code;
  }
}

/** True when `err` is a RepositoryError, optionally with the given code. */
export function isRepositoryError(err: unknown, code?: RepositoryErrorCode): err is RepositoryError {
  return err instanceof RepositoryError && (code === undefined || err.code === code);
}
