import type { Endpoint, Static, TSchema } from '@vaultflow/schemas';
import { ApiError } from './api-error.js';
import { sessionStore } from './session.js';

type Of<T> = T extends TSchema ? Static<T> : never;
type SuccessCode = 200 | 201 | 202 | 204;

/** What a call of endpoint `E` takes: its path parameters, query (defaults are the API's) and body. */
export type Input<E extends Endpoint> = (E['params'] extends TSchema ? { params: Of<E['params']> } : { params?: never }) &
  (E['query'] extends TSchema ? { query?: Partial<Of<E['query']>> } : { query?: never }) &
  (E['body'] extends TSchema ? { body: Of<E['body']> } : { body?: never });

/** The success answer of endpoint `E` (undefined for 204). */
export type Output<E extends Endpoint> = {
  [K in keyof E['responses'] & SuccessCode]: E['responses'][K] extends TSchema ? Static<E['responses'][K]> : undefined;
}[keyof E['responses'] & SuccessCode];

export const API_BASE = '/api/v1';

let onUnauthenticated: () => void = () => undefined;
/** Called when the API refuses the session (expired, revoked): the app sends the user to /login. */
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

/** `/protection-flows/:id` with `{ id }` -> `/api/v1/protection-flows/<id>`. */
export function pathOf(e: Endpoint, params: Record<string, unknown> = {}): string {
  const path = e.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined || v === null || v === '') throw new Error(`${e.operationId}: missing path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
  return `${API_BASE}${path}`;
}

/** Query string of the set values (empty strings and undefined are left out). */
export function queryString(query: Record<string, unknown> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Calls one endpoint of the API catalog (method and path come from the catalog, types from its
 * schemas) with the session's bearer token. Throws ApiError on any failure.
 */
export async function call<E extends Endpoint>(e: E, input: Input<E> = {} as Input<E>, init: { signal?: AbortSignal } = {}): Promise<Output<E>> {
  const { params, query, body } = input as { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown };
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = sessionStore.read()?.token;
  if (token && e.permission !== 'public') headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${pathOf(e, params)}${queryString(query)}`, {
      method: e.method.toUpperCase(),
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: init.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw ApiError.network(err);
  }
  if (!res.ok) {
    const err = await ApiError.fromResponse(res);
    if (res.status === 401 && e.permission !== 'public') {
      sessionStore.clear();
      onUnauthenticated();
    }
    throw err;
  }
  if (res.status === 204) return undefined as Output<E>;
  return (await res.json()) as Output<E>;
}
