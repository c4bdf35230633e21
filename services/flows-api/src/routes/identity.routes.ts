import { authEndpoints, tokenEndpoints, userEndpoints } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { AuthService } from '../services/auth.service.js';
import type { UserService } from '../services/user.service.js';

export function identityRoutes(r: Registrar, auth: AuthService, users: UserService): void {
  r.handle(authEndpoints.login, async (c) => ({ body: await auth.login(c.body.username, c.body.password, c.ip, c.requestId) }));
  r.handle(authEndpoints.logout, async (c) => (await auth.logout(c.token, c.op), { status: 204 }));
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
