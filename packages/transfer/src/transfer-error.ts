/**
 * Stable codes of {@link TransferError}; callers branch on these and on `transient`, never on `message`.
 * - `NETWORK`, `TIMEOUT`, `HTTP_STATUS` (5xx, 429): the transport failed; transient.
 * - `SHORT_READ`: the body ended before the requested range did (a reset connection); transient.
 * - `UNAUTHORIZED`: the session cookie was refused even after a fresh session; permanent.
 * - `NOT_FOUND`, `OUT_OF_RANGE`, `BAD_RESPONSE`: the file or the range is wrong, or the server does
 *   not honour Range; permanent.
 * - `READ_FAILED`: a disk read failed for good (wraps the reader's error, names disk and offset).
 * - `ABORTED`: the caller's AbortSignal fired.
 * - `CLOSED`, `INVALID_ARGUMENT`: the caller misused the API; permanent.
 */
export type TransferErrorCode =
  | 'NETWORK' | 'TIMEOUT' | 'HTTP_STATUS' | 'SHORT_READ' | 'UNAUTHORIZED' | 'NOT_FOUND' | 'OUT_OF_RANGE'
  | 'BAD_RESPONSE' | 'READ_FAILED' | 'ABORTED' | 'CLOSED' | 'INVALID_ARGUMENT';

/** Fields of a {@link TransferError} besides its message. */
export interface TransferErrorDetails {
  code: TransferErrorCode;
  /** True when the same call may succeed if tried again. */
  transient?: boolean;
  /** The disk the error concerns (a datastore path or a device key), when known. */
  disk?: string;
  /** Byte offset in the disk, when known. */
  offset?: number;
  length?: number;
  /** HTTP status, for HTTP errors. */
  status?: number;
  cause?: unknown;
}

/** The one error type of this package. */
export class TransferError extends Error {
  readonly code: TransferErrorCode;
  readonly transient: boolean;
  readonly disk: string | undefined;
  readonly offset: number | undefined;
  readonly length: number | undefined;
  readonly status: number | undefined;

  constructor(message: string, details: TransferErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TransferError';
    this.code = details.code;
    this.transient = details.transient ?? false;
    this.disk = details.disk;
    this.offset = details.offset;
    this.length = details.length;
    this.status = details.status;
  }
}

/** True for a {@link TransferError}, also across module copies. */
export function isTransferError(err: unknown): err is TransferError {
  return err instanceof TransferError || (err instanceof Error && err.name === 'TransferError' && 'code' in err);
}
