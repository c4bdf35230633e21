import { randomUUID } from 'node:crypto';
import type { Db, Stores } from '@vaultflow/db';
import type { Operation, Role } from '@vaultflow/domain';
import { badRequest, conflict, notFound, unprocessable } from '@vaultflow/errors';
import { generatePassword, generateToken, hashPassword, hashToken, tokenPrefix } from '@vaultflow/security';
import type { CreateTokenRequest, CreateUserRequest, TokenListQuery, UpdateUserRequest, UserListQuery, UserResponse } from '@vaultflow/schemas';
import { toTokenResponse, toUserResponse } from '../mappers/resources.mapper.js';
import { writeTx } from './write-tx.js';

/** Users and their API tokens (admin only). */
export class UserService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(q: UserListQuery) {
    const { rows, total } = await this.stores.users.list(q);
    return { users: rows.map(toUserResponse), total };
  }

  async get(id: string): Promise<UserResponse> {
    return toUserResponse(await this.require(id));
  }

  async create(input: CreateUserRequest, op: Operation): Promise<UserResponse> {
    const id = randomUUID();
    const password_hash = await hashPassword(input.password);
    await writeTx(this.db, 'user', async (trx) => {
      if (await this.stores.users.byUsername(input.username, trx)) throw this.taken(input.username);
      await this.stores.users.insert({ id, username: input.username, password_hash, role: input.role, created_by: op.actor.username }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'user.create', entity_type: 'user', entity_id: id, details: { username: input.username, role: input.role }, request_id: op.requestId }, trx);
    }, () => this.taken(input.username));
    return this.get(id);
  }

  /** A password, role or enabled change ends the user's login sessions. The last admin stays an enabled admin. */
  async update(id: string, input: UpdateUserRequest, op: Operation): Promise<UserResponse> {
    const password_hash = input.password ? await hashPassword(input.password) : undefined;
    await writeTx(this.db, 'user', async (trx) => {
      const u = await this.stores.users.get(id, trx);
      if (!u) throw this.notFound(id);
      const losesAdmin = u.role === 'admin' && u.enabled && ((input.role !== undefined && input.role !== 'admin') || input.enabled === false);
      if (losesAdmin && (await this.stores.users.otherEnabledAdmins(id, trx)) === 0) {
        throw conflict('LAST_ADMIN', `"${u.username}" is the last enabled admin: make another user admin first`);
      }
      await this.stores.users.update(id, { ...(password_hash ? { password_hash } : {}), ...(input.role ? { role: input.role } : {}), ...(input.enabled !== undefined ? { enabled: input.enabled } : {}) }, trx);
      await this.stores.tokens.deleteSessions(id, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'user.update', entity_type: 'user', entity_id: id, details: { fields: Object.keys(input) }, request_id: op.requestId }, trx);
    });
    return this.get(id);
  }

  async remove(id: string, op: Operation): Promise<void> {
    await writeTx(this.db, 'user', async (trx) => {
      const u = await this.stores.users.get(id, trx);
      if (!u) throw this.notFound(id);
      if (op.actor.userId === id) throw conflict('CANNOT_DELETE_SELF', 'You cannot delete your own user');
      if (u.role === 'admin' && u.enabled && (await this.stores.users.otherEnabledAdmins(id, trx)) === 0) throw conflict('LAST_ADMIN', `"${u.username}" is the last enabled admin`);
      await this.stores.users.delete(id, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'user.delete', entity_type: 'user', entity_id: id, details: { username: u.username }, request_id: op.requestId }, trx);
    });
  }

  async listTokens(q: TokenListQuery) {
    const { rows, total } = await this.stores.tokens.list(q);
    return { tokens: rows.map(toTokenResponse), total };
  }

  /** Creates an API token for `user_id` (default: the caller) and returns its secret, once. */
  async createToken(input: CreateTokenRequest, op: Operation) {
    const userId = input.user_id ?? op.actor.userId;
    if (!userId) throw badRequest('VALIDATION_FAILED', 'The bootstrap token has no user of its own: name the user the token is for', [{ field: 'body.user_id', message: 'is required' }]);
    const u = await this.stores.users.get(userId);
    if (!u) throw unprocessable('REFERENCE_NOT_FOUND', `User ${userId} does not exist`, [{ field: 'body.user_id', message: `user ${userId} does not exist` }]);
    const token = generateToken();
    const id = randomUUID();
    const expires = input.expires_in_days ? new Date(this.now().getTime() + input.expires_in_days * 86400_000) : null;
    await writeTx(this.db, 'token', async (trx) => {
      await this.stores.tokens.insert({ id, user_id: userId, name: input.name, kind: 'api', token_hash: hashToken(token), token_prefix: tokenPrefix(token), expires_at: expires }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'token.create', entity_type: 'api_token', entity_id: id, details: { user_id: userId, name: input.name }, request_id: op.requestId }, trx);
    });
    const t = (await this.stores.tokens.get(id))!;
    return { ...toTokenResponse(t), token };
  }

  async revokeToken(id: string, op: Operation): Promise<void> {
    await writeTx(this.db, 'token', async (trx) => {
      const t = await this.stores.tokens.get(id, trx);
      if (!t || t.kind !== 'api') throw notFound('TOKEN_NOT_FOUND', `API token ${id} does not exist`);
      await this.stores.tokens.delete(id, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'token.revoke', entity_type: 'api_token', entity_id: id, request_id: op.requestId }, trx);
    });
  }

  /**
   * On first start (no users at all) creates `admin` with `password`, or with a generated password
   * that is returned so the caller can print it once. Safe when several replicas start together.
   */
  async ensureFirstAdmin(password?: string): Promise<{ created: boolean; password?: string }> {
    if ((await this.stores.users.count()) > 0) return { created: false };
    const pw = password ?? generatePassword();
    try {
      await this.stores.users.insert({ id: randomUUID(), username: 'admin', password_hash: await hashPassword(pw), role: 'admin' as Role, created_by: 'system' });
    } catch {
      return { created: false }; // another replica created it first
    }
    await this.stores.audit.record({ actor: 'system', action: 'user.create', entity_type: 'user', details: { username: 'admin', first_start: true } });
    return { created: true, password: password ? undefined : pw };
  }

  private async require(id: string) {
    const u = await this.stores.users.get(id);
    if (!u) throw this.notFound(id);
    return u;
  }

  private notFound(id: string) {
    return notFound('USER_NOT_FOUND', `User ${id} does not exist`);
  }

  private taken(username: string) {
    return conflict('USERNAME_TAKEN', `A user named "${username}" already exists`, [{ field: 'body.username', message: 'is already used' }]);
  }
}
