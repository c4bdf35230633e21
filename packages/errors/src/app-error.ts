/** One problem with one field of a request (or of the configuration). */
export interface ErrorDetail {
  /** JSON path of the field, e.g. `body.name` or `query.limit`. */
  field: string;
  message: string;
}

/**
 * The kinds of failure a caller can branch on. Each maps to one HTTP status; the code in the
 * error body is more precise (FLOW_NOT_FOUND, FLOW_NAME_TAKEN, ...).
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'too_many_requests'
  | 'unavailable'
  | 'internal';

const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
};

/** An error that is meant to be shown to the client: a stable code, a message, and field details. */
export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details: ErrorDetail[];
  /** For 429 and 503: when to try again, in seconds (sent as Retry-After). */
  retryAfter?: number;

  constructor(kind: ErrorKind, code: string, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = 'AppError';
    this.kind = kind;
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

export const badRequest = (code: string, message: string, details: ErrorDetail[] = []) =>
  new AppError('bad_request', code, message, details);
export const notFound = (code: string, message: string) => new AppError('not_found', code, message);
export const conflict = (code: string, message: string, details: ErrorDetail[] = []) =>
  new AppError('conflict', code, message, details);
export const unprocessable = (code: string, message: string, details: ErrorDetail[] = []) =>
  new AppError('unprocessable', code, message, details);
export const forbidden = (message = 'Your role does not allow this action') =>
  new AppError('forbidden', 'FORBIDDEN', message);
export const unauthenticated = (message = 'Authentication required: send Authorization: Bearer <token>') =>
  new AppError('unauthenticated', 'UNAUTHENTICATED', message);

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/**
 * A failure that may go away on its own (connection reset, timeout, busy): the job is retried with
 * backoff. Anything else is permanent and fails at once.
 */
export class TransientError extends Error {
  readonly transient = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** True for errors marked transient (TransientError, or any error with `transient: true`). */
export function isTransient(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true;
}
