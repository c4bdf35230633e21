import type { Request } from 'express';

/**
 * The login session as a cookie, for the pages a browser opens directly (Bull Board at
 * /admin/queues) and so cannot send an Authorization header. Only those pages read it: /api/v1 stays
 * bearer-only, so a forged cross-site request to the API carries no credentials.
 */
export const SESSION_COOKIE = 'vaultflow_session';

function attributes(maxAgeSeconds: number, secure: boolean): string {
  return `Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** Set-Cookie value carrying `token` for `maxAgeSeconds` (the session's lifetime). */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; ${attributes(Math.max(0, Math.floor(maxAgeSeconds)), secure)}`;
}

/** Set-Cookie value that makes the browser drop the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; ${attributes(0, secure)}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
}

/** The session token in the request's Cookie header; undefined when absent or malformed. */
export function readSessionCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const raw = part.slice(eq + 1).trim();
    if (!raw || raw.length > 1024) return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
