import { authEndpoints, tokenEndpoints, userEndpoints } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import { clearedSessionCookie, sessionCookie } from '../http/session-cookie.js';
import type { AuthService } from '../services/auth.service.js';
import type { UserService } from '../services/user.service.js';

/**
 * Login answers the session token in JSON (the GUI sends it as a bearer token) and also sets it as an
 * HttpOnly cookie that only /admin/queues accepts; logout clears that cookie.
 */
export function identityRoutes(r: Registrar, auth: AuthService, users: UserService, opts: { sessionTtlSeconds: number }): void {
  r.handle(authEndpoints.login, async (c) => {
    const session = await auth.login(c.body.username, c.body.password, c.ip, c.requestId);
    return { body: session, headers: { 'Set-Cookie': sessionCookie(session.token, opts.sessionTtlSeconds, c.secure) } };
  });
  r.handle(authEndpoints.logout, async (c) => {
    await auth.logout(c.token, c.op);
    return { status: 204, headers: { 'Set-Cookie': clearedSessionCookie(c.secure) } };
  });
  r.handle(authEndpoints.me, async (c) => ({ body: await auth.me(c.actor) }));
  const u = userEndpoints;
  r.handle(u.list, async (c) => ({ body: await users.list(c.query) }));
  r.handle(u.create, async (c) => ({ status: 201, body: await users.create(c.body, c.op) }));
  r.handle(u.get, async (c) => ({ body: await users.get(c.params.id) }));
  r.handle(u.update, async (c) => ({ body: await users.update(c.params.id, c.body, c.op) }));
  r.handle(u.remove, async (c) => (await users.remove(c.params.id, c.op), { status: 204 }));
  const t = tokenEndpoints;
  r.handle(t.list, async (c) => ({ body: await users.listTokens(c.query) }));
  r.handle(t.create, async (c) => ({ status: 201, body: await users.createToken(c.body, c.op) }));
  r.handle(t.remove, async (c) => (await users.revokeToken(c.params.id, c.op), { status: 204 }));
}
