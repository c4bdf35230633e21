import type { ErrorResponse } from '@vaultflow/schemas';

export type FieldDetail = ErrorResponse['error']['details'][number];

/**
 * A failed API call: the API's error body (code, message, details naming fields, request id), or a
 * synthetic code when the hub could not be reached (`NETWORK`) or did not answer in the API's format.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldDetail[] = [],
    readonly requestId = '',
    /** Seconds to wait before trying again (429), from Retry-After. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Builds the error from a non-2xx answer. */
  static async fromResponse(res: Response): Promise<ApiError> {
    const retry = Number(res.headers.get('retry-after')) || undefined;
    const text = await res.text().catch(() => '');
    try {
      const body = JSON.parse(text) as Partial<ErrorResponse>;
      if (body.error && typeof body.error.code === 'string') {
        const e = body.error;
        return new ApiError(res.status, e.code, e.message, Array.isArray(e.details) ? e.details : [], e.request_id ?? '', retry);
      }
    } catch {
      /* not the API's JSON: a proxy or server page */
    }
    return new ApiError(res.status, `HTTP_${res.status}`, `The hub answered ${res.status} ${res.statusText || ''}`.trim(), [], res.headers.get('x-request-id') ?? '', retry);
  }

  static network(cause: unknown): ApiError {
    const e = new ApiError(0, 'NETWORK', 'The Vaultflow hub cannot be reached');
    e.cause = cause;
    return e;
  }
}

/** A problem the console found itself (no API call failed), with what to do about it. */
export class UserProblem extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'UserProblem';
  }
}

/** What the user can do about a failure, in a sentence; the API's own message says what happened. */
export function whatToDo(err: unknown): string {
  if (err instanceof UserProblem) return err.hint;
  if (!(err instanceof ApiError)) return 'Reload the page; if it happens again, tell your administrator.';
  if (err.code === 'INVALID_CREDENTIALS') return 'Check the username and password (both are case-sensitive) and try again.';
  switch (err.status) {
    case 0:
      return 'Check that the hub is running and your network connection works, then try again.';
    case 400:
    case 422:
      return 'Correct the fields named above and try again.';
    case 401:
      return 'Sign in again.';
    case 403:
      return 'Ask an administrator to do this or to give you a role that allows it.';
    case 404:
      return 'It may have been deleted meanwhile: go back to the list and reload it.';
    case 409:
      return 'Change what conflicts (a name already used, a run already in progress) and try again.';
    case 429:
      return `Wait ${err.retryAfter ? `${Math.ceil(err.retryAfter / 60)} minute(s)` : 'a few minutes'} before trying again.`;
    case 503:
      return 'A service the hub needs (database or queue) is down: try again in a minute, or ask your administrator.';
    default:
      return `Try again; if it keeps failing, give your administrator the request id${err.requestId ? ` ${err.requestId}` : ''}.`;
  }
}
