import { vi } from 'vitest';
import { sessionStore } from '../api/session.js';

type Handler = (req: { method: string; path: string; query: URLSearchParams; body: unknown }) => { status?: number; body?: unknown } | undefined;

/**
 * A stand-in for the hub in component tests: answers fetch() by method and path (`GET
 * /api/v1/protection-flows`), records every request, and answers 404 ROUTE_NOT_FOUND otherwise.
 * GET /auth/me (asked once at start) answers the signed-in user and is not recorded.
 */
export function fakeApi(routes: Record<string, Handler | { status?: number; body?: unknown }>) {
  const calls: { method: string; path: string; query: URLSearchParams; body: unknown }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const u = new URL(String(input), 'http://hub.test');
    const method = (init?.method ?? 'GET').toUpperCase();
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const req = { method, path: u.pathname, query: u.searchParams, body };
    if (method === 'GET' && u.pathname === '/api/v1/auth/me') {
      const me = sessionStore.read()?.user;
      return me ? json(200, me) : json(401, { error: { code: 'UNAUTHENTICATED', message: 'no session', details: [], request_id: 'test' } });
    }
    calls.push(req);
    const route = routes[`${method} ${u.pathname}`];
    const answer = typeof route === 'function' ? route(req) : route;
    if (!answer) return json(404, { error: { code: 'ROUTE_NOT_FOUND', message: `No route ${method} ${u.pathname}`, details: [], request_id: 'test' } });
    return answer.status === 204 ? new Response(null, { status: 204 }) : json(answer.status ?? 200, answer.body);
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** The API's error body. */
export function apiError(code: string, message: string, details: { field: string; message: string }[] = []) {
  return { error: { code, message, details, request_id: 'req-test' } };
}
