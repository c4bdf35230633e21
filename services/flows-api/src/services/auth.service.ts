import { randomUUID } from 'node:crypto';
import type { Stores } from '@vaultflow/db';
import type { Actor, Operation } from '@vaultflow/domain';
import { AppError } from '@vaultflow/errors';
import { generateToken, hashPassword, hashToken, safeEqual, tokenPrefix, verifyPassword } from '@vaultflow/security';
import type { LoginResponse, UserResponse } from '@vaultflow/schemas';
import { toUserResponse } from '../mappers/resources.mapper.js';
import type { LoginRateLimiter } from './login-rate-limiter.js';

/** The actor behind AUTH_BOOTSTRAP_TOKEN: an admin without a user row. */
export const BOOTSTRAP_ACTOR: Actor = { userId: null, username: 'bootstrap-token', role: 'admin', via: 'token' };

const TOUCH_EVERY_MS = 60_000;

/** Logins, sessions and bearer-token authentication. */
export class AuthService {
  /** A hash to verify against when the user does not exist, so timing does not reveal usernames. */
  private dummyHash: Promise<string> = hashPassword('not-a-real-password');

  constructor(
    private readonly stores: Stores,
    private readonly limiter: LoginRateLimiter,
    private readonly opts: { sessionTtlHours: number; bootstrapToken?: string },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The actor of a bearer token (session or API token, or the bootstrap token); undefined if invalid. */
  async authenticate(token: string): Promise<Actor | undefined> {
    if (this.opts.bootstrapToken && safeEqual(token, this.opts.bootstrapToken)) return BOOTSTRAP_ACTOR;
    const now = this.now();
    const owner = await this.stores.tokens.ownerOf(hashToken(token), now);
    if (!owner || !owner.enabled) return undefined;
    if (!owner.last_used_at || now.getTime() - new Date(owner.last_used_at).getTime() > TOUCH_EVERY_MS) await this.stores.tokens.touch(owner.token_id, now);
    return { userId: owner.user_id, username: owner.username, role: owner.role, via: owner.kind === 'session' ? 'session' : 'token' };
  }

  async login(username: string, password: string, address: string, requestId: string): Promise<LoginResponse> {
    // 429 before any password is checked when this address or user failed too often recently.
    await this.limiter.admit(address, username);
    const user = await this.stores.users.byUsername(username);
    const ok = user ? await verifyPassword(password, user.password_hash) : (await verifyPassword(password, await this.dummyHash), false);
    if (!user || !ok || !user.enabled) {
      await this.stores.audit.record({ actor: username.slice(0, 255), action: 'auth.login_failed', entity_type: 'user', entity_id: user?.id ?? null, details: { address }, request_id: requestId });
      throw new AppError('unauthenticated', 'INVALID_CREDENTIALS', 'Wrong username or password, or the user is disabled');
    }
    await this.limiter.succeeded(address, username);
    const token = generateToken();
    const now = this.now();
    const expires = new Date(now.getTime() + this.opts.sessionTtlHours * 3600_000);
    await this.stores.tokens.insert({ id: randomUUID(), user_id: user.id, name: `session ${address}`.slice(0, 255), kind: 'session', token_hash: hashToken(token), token_prefix: tokenPrefix(token), expires_at: expires });
    await this.stores.users.update(user.id, { last_login_at: now });
    await this.stores.audit.record({ actor: user.username, action: 'auth.login', entity_type: 'user', entity_id: user.id, details: { address }, request_id: requestId });
    const fresh = (await this.stores.users.get(user.id))!;
    return { token, expires_at: expires.toISOString(), user: toUserResponse(fresh) };
  }

  /** Ends the session behind `token` (API tokens are revoked through /tokens instead). */
  async logout(token: string | undefined, op: Operation): Promise<void> {
    if (!token) return;
    const owner = await this.stores.tokens.ownerOf(hashToken(token), this.now());
    if (owner?.kind === 'session') {
      await this.stores.tokens.delete(owner.token_id);
      await this.stores.audit.record({ actor: op.actor.username, action: 'auth.logout', entity_type: 'user', entity_id: owner.user_id, request_id: op.requestId });
    }
  }

  async me(actor: Actor): Promise<UserResponse> {
    if (actor.userId) {
      const u = await this.stores.users.get(actor.userId);
      if (u) return toUserResponse(u);
    }
    const epoch = new Date(0).toISOString();
    return { id: 'bootstrap', username: actor.username, role: actor.role, enabled: true, last_login_at: null, created_at: epoch, updated_at: epoch, created_by: 'system' };
  }
}
