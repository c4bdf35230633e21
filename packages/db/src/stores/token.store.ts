import type { Knex } from 'knex';
import type { Role } from '@vaultflow/domain';
import { bool, num, paged, type Page, type Queryable } from '../rows.js';

export interface TokenRecord {
  id: string;
  user_id: string;
  username: string;
  name: string;
  kind: 'api' | 'session';
  token_prefix: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

/** What authentication needs to know about a token's owner. */
export interface TokenOwner {
  token_id: string;
  kind: 'api' | 'session';
  user_id: string;
  username: string;
  role: Role;
  enabled: boolean;
  expires_at: Date | null;
  last_used_at: Date | null;
}

const SORT: Record<string, string> = { created_at: 't.created_at', name: 't.name' };

/** SQL for api_tokens (API tokens and login sessions, both stored as sha256 hashes). */
export class TokenStore {
  constructor(private readonly db: Knex) {}

  async insert(t: { id: string; user_id: string; name: string; kind: 'api' | 'session'; token_hash: string; token_prefix: string; expires_at: Date | null }, q: Queryable = this.db): Promise<void> {
    await q('api_tokens').insert(t);
  }

  /** The unexpired token with this hash and its owner; undefined when unknown or expired. */
  async ownerOf(tokenHash: string, now: Date): Promise<TokenOwner | undefined> {
    const r = (await this.db('api_tokens as t')
      .join('users as u', 'u.id', 't.user_id')
      .where('t.token_hash', tokenHash)
      .andWhere((w) => w.whereNull('t.expires_at').orWhere('t.expires_at', '>', now))
      .first('t.id as token_id', 't.kind', 'u.id as user_id', 'u.username', 'u.role', 'u.enabled', 't.expires_at', 't.last_used_at')) as Record<string, unknown> | undefined;
    return r ? ({ ...(r as unknown as TokenOwner), enabled: bool(r.enabled) } as TokenOwner) : undefined;
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db('api_tokens').where({ id }).update({ last_used_at: at });
  }

  async get(id: string, q: Queryable = this.db): Promise<TokenRecord | undefined> {
    return (await q('api_tokens as t').join('users as u', 'u.id', 't.user_id').where('t.id', id).first('t.*', 'u.username')) as TokenRecord | undefined;
  }

  async list(f: Page & { user_id?: string }): Promise<{ rows: TokenRecord[]; total: number }> {
    const base = this.db('api_tokens as t').join('users as u', 'u.id', 't.user_id').where('t.kind', 'api').select('t.id', 't.user_id', 'u.username', 't.name', 't.kind', 't.token_prefix', 't.expires_at', 't.last_used_at', 't.created_at');
    if (f.user_id) base.where('t.user_id', f.user_id);
    return paged<TokenRecord>(base, f, SORT, 't.id');
  }

  async delete(id: string, q: Queryable = this.db): Promise<number> {
    return q('api_tokens').where({ id }).delete();
  }

  /** Ends every login session of a user (after a password, role or enabled change). */
  async deleteSessions(userId: string, q: Queryable = this.db): Promise<number> {
    return q('api_tokens').where({ user_id: userId, kind: 'session' }).delete();
  }

  async deleteExpired(now: Date): Promise<number> {
    return this.db('api_tokens').where('expires_at', '<=', now).delete();
  }

  async countSessions(userId: string): Promise<number> {
    const r = (await this.db('api_tokens').where({ user_id: userId, kind: 'session' }).count({ n: '*' }).first()) as { n: number } | undefined;
    return num(r?.n);
  }
}
