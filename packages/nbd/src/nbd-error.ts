import { Errno } from './protocol/constants.js';

/**
 * Stable codes of {@link NbdError}. Errno names come from the server; the others are raised by the client.
 * - `CONNECTION_FAILED`, `CONNECTION_CLOSED`, `TIMEOUT`: the transport broke; transient.
 * - `PROTOCOL`: the peer violated the protocol; permanent.
 * - `OPTION_REJECTED`, `EXPORT_NOT_FOUND`, `NOT_NEWSTYLE`: the handshake failed; permanent.
 * - `CONTEXT_NOT_NEGOTIATED`, `OUT_OF_RANGE`, `CLOSED`, `UNSUPPORTED`: the caller asked for something
 *   this connection cannot do; permanent.
 */
export type NbdErrorCode =
  | 'EPERM' | 'EIO' | 'ENOMEM' | 'EINVAL' | 'ENOSPC' | 'EOVERFLOW' | 'ENOTSUP' | 'ESHUTDOWN' | 'EUNKNOWN'
  | 'CONNECTION_FAILED' | 'CONNECTION_CLOSED' | 'TIMEOUT' | 'PROTOCOL'
  | 'OPTION_REJECTED' | 'EXPORT_NOT_FOUND' | 'NOT_NEWSTYLE'
  | 'CONTEXT_NOT_NEGOTIATED' | 'OUT_OF_RANGE' | 'CLOSED' | 'UNSUPPORTED';

/** Fields of an {@link NbdError} besides its message. */
export interface NbdErrorDetails {
  code: NbdErrorCode;
  /** True when the same request may succeed if tried again (perhaps on a new connection). */
  transient: boolean;
  /** Byte offset in the export that the error concerns, when known. */
  offset?: number;
  /** Length of the request that failed, when known. */
  length?: number;
  /** Errno value sent by the server, for server errors. */
  errno?: number;
  cause?: unknown;
}

/**
 * The one error type of this package. Callers branch on `transient` (retry or give up) and `code`
 * (stable, never the prose of `message`).
 */
export class NbdError extends Error {
  readonly code: NbdErrorCode;
  readonly transient: boolean;
  readonly offset: number | undefined;
  readonly length: number | undefined;
  readonly errno: number | undefined;

  constructor(message: string, details: NbdErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'NbdError';
    this.code = details.code;
    this.transient = details.transient;
    this.offset = details.offset;
    this.length = details.length;
    this.errno = details.errno;
  }
}

const ERRNO_NAMES = new Map<number, NbdErrorCode>(
  Object.entries(Errno).map(([name, value]) => [value, name as NbdErrorCode]),
);

/**
 * Errors a server reports for a condition that may clear: an I/O error of the backing store (VDDK and
 * network storage produce these), memory pressure, or the server shutting down.
 */
const TRANSIENT_ERRNOS = new Set<number>([Errno.EIO, Errno.ENOMEM, Errno.ESHUTDOWN]);

/** Names an errno from the wire (`EUNKNOWN` for values outside the protocol's list). */
export function errnoCode(errno: number): NbdErrorCode {
  return ERRNO_NAMES.get(errno) ?? 'EUNKNOWN';
}

/** True for server errors worth retrying; EINVAL, EPERM, ENOSPC, EOVERFLOW, ENOTSUP and unknown are not. */
export function isTransientErrno(errno: number): boolean {
  return TRANSIENT_ERRNOS.has(errno);
}

/** Builds the error for an errno a server returned for a request. */
export function serverError(
  command: string,
  errno: number,
  at: { offset: number; length: number },
  serverMessage = '',
): NbdError {
  const code = errnoCode(errno);
  const text = serverMessage ? `: ${serverMessage}` : '';
  return new NbdError(`NBD ${command} of ${at.length} bytes at offset ${at.offset} failed with ${code} (errno ${errno})${text}`, {
    code,
    transient: isTransientErrno(errno),
    offset: at.offset,
    length: at.length,
    errno,
  });
}

/** Builds the permanent error for a peer that broke the protocol. */
export function protocolError(message: string, offset?: number): NbdError {
  return new NbdError(`NBD protocol violation: ${message}`, {
    code: 'PROTOCOL',
    transient: false,
    ...(offset === undefined ? {} : { offset }),
  });
}
