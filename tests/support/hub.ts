import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { buildApi, type Api } from '@vaultflow/flows-api';
import { createLogger } from '@vaultflow/logging';
import { createRedis } from '@vaultflow/queue';
import { createTestDatabase, deleteRedisPrefix, uniqueRedisPrefix, TEST_REDIS_URL, type TestDatabase } from '@vaultflow/testing';

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client bound to one token. */
export class Client {
  constructor(readonly base: string, readonly token?: string) {}

  as(token: string | undefined): Client {
    return new Client(this.base, token);
  }

  async req<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.base}${path}`, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(p: string) { return this.req<T>('GET', p); }
  post<T = any>(p: string, b?: unknown) { return this.req<T>('POST', p, b); }
  put<T = any>(p: string, b?: unknown) { return this.req<T>('PUT', p, b); }
  patch<T = any>(p: string, b?: unknown) { return this.req<T>('PATCH', p, b); }
  del<T = any>(p: string) { return this.req<T>('DELETE', p); }
}

export interface TestHub {
  api: Api;
  db: TestDatabase;
  redis: Redis;
  prefix: string;
  url: string;
  /** Authenticated as admin through the bootstrap token. */
  admin: Client;
  anonymous: Client;
  /** A folder for repositories, removed at stop. */
  dataDir: string;
  /** The hub's VAULTFLOW_SECRET_KEY, for a backup worker that opens stored vCenter passwords. */
  secretKey: string;
  /** Logs in a new user of `role` and returns a client with its session. */
  userClient(role: 'admin' | 'operator' | 'viewer'): Promise<Client>;
  stop(): Promise<void>;
}

/** Starts flows-api in-process on a free port with its own database, Redis prefix and data folder. */
export async function startHub(opts: { now?: () => Date } = {}): Promise<TestHub> {
  const db = await createTestDatabase({ tag: 'api' });
  const prefix = uniqueRedisPrefix('api');
  const redis = createRedis(TEST_REDIS_URL);
  const bootstrapToken = `bt_${randomBytes(24).toString('hex')}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vaultflow-test-'));
  const secretKey = randomBytes(32).toString('hex');
  const api = buildApi({
    db: db.db,
    redis,
    redisPrefix: prefix,
    secretKey,
    logger: createLogger('flows-api-test', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent'),
    bootstrapToken,
    validateResponses: true,
    now: opts.now,
  });
  const server: Server = createServer(api.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const anonymous = new Client(url);
  const admin = anonymous.as(bootstrapToken);
  let n = 0;
  return {
    api, db, redis, prefix, url, admin, anonymous, dataDir, secretKey,
    async userClient(role) {
      const username = `${role}-${++n}-${randomBytes(3).toString('hex')}`;
      const password = `pw-${randomBytes(12).toString('hex')}`;
      const created = await admin.post('/api/v1/users', { username, password, role });
      if (created.status !== 201) throw new Error(`user create failed: ${JSON.stringify(created.body)}`);
      const login = await anonymous.post('/api/v1/auth/login', { username, password });
      if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
      return anonymous.as(login.body.token);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
      redis.disconnect();
      await db.drop();
      await deleteRedisPrefix(prefix);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let seq = 0;
/** A name unique within the run. */
export function unique(base: string): string {
  return `${base} ${++seq}-${randomBytes(2).toString('hex')}`;
}
