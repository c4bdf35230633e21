import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response, Router } from 'express';
import { can, type Actor } from '@vaultflow/domain';
import { AppError, badRequest, forbidden, unauthenticated } from '@vaultflow/errors';
import { validate, type Endpoint, type FieldIssue } from '@vaultflow/schemas';
import type { Ctx, Reply } from './context.js';

/** Resolves a bearer token to its actor; undefined when the token is unknown or expired. */
export interface Authenticator {
  authenticate(token: string): Promise<Actor | undefined>;
}

export interface RegistrarOptions {
  /** Validate every success answer against its schema (tests turn this on). */
  validateResponses?: boolean;
}

export function bearerToken(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(h);
  return m?.[1];
}

function requestId(res: Response): string {
  return String(res.getHeader('x-request-id') ?? '');
}

function invalid(issues: FieldIssue[]): AppError {
  const first = issues[0];
  return badRequest('VALIDATION_FAILED', first ? `Invalid request: ${first.field} ${first.message}` : 'Invalid request', issues);
}

/** A route without a body schema takes no body: nothing, or `{}` as some clients send, is accepted. */
function unexpectedBody(data: unknown): FieldIssue[] {
  if (data === undefined) return [];
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    return Object.keys(data).map((k) => ({ field: `body.${k}`, message: 'is not a known field' }));
  }
  return [{ field: 'body', message: 'must be empty: this route takes no body' }];
}

/**
 * Pipes a stream reply (nothing for HEAD). A source that fails to open leaves no header of the reply
 * behind (the error answer is JSON); a client that goes away is no error; a source that fails later
 * cuts the response short and is rethrown (logged).
 */
async function sendStream(req: Request, res: Response, reply: Reply & { stream: () => Promise<Readable> }): Promise<void> {
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let body: Readable;
  try {
    body = await reply.stream();
  } catch (err) {
    for (const k of Object.keys(reply.headers ?? {})) res.removeHeader(k);
    throw err;
  }
  try {
    await pipeline(body, res);
  } catch (err) {
    if (res.destroyed && (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw err;
  }
}

/**
 * Mounts endpoints on a router: authentication, role check, validation of params, query and body,
 * then the handler. Handlers get a Ctx and return a Reply; they never see req or res.
 */
export class Registrar {
  constructor(
    private readonly router: Router,
    private readonly auth: Authenticator,
    private readonly opts: RegistrarOptions = {},
  ) {}

  handle<E extends Endpoint>(e: E, handler: (ctx: Ctx<E>) => Promise<Reply>): void {
    this.router[e.method](e.path, async (req: Request, res: Response) => {
      const token = bearerToken(req);
      let actor: Actor | undefined;
      if (e.permission !== 'public') {
        if (!token) throw unauthenticated();
        actor = await this.auth.authenticate(token);
        if (!actor) throw unauthenticated('The token is unknown, revoked or expired: log in again');
        if (e.permission !== 'authenticated' && !can(actor.role, e.permission)) {
          throw forbidden(`Your role (${actor.role}) does not allow this: it needs the ${e.permission} permission`);
        }
      }
      const issues: FieldIssue[] = [];
      const input = { params: undefined as unknown, query: undefined as unknown, body: undefined as unknown };
      for (const source of ['params', 'query', 'body'] as const) {
        const schema = e[source];
        const data = source === 'params' ? req.params : source === 'query' ? req.query : req.body;
        if (!schema) {
          if (source === 'query' && data && Object.keys(data as object).length) {
            issues.push(...Object.keys(data as object).map((k) => ({ field: `query.${k}`, message: 'is not a known parameter' })));
          }
          if (source === 'body') issues.push(...unexpectedBody(data));
          continue;
        }
        const v = validate(source, schema, source === 'body' ? (data ?? null) : (data ?? {}));
        if (v.ok) input[source] = v.value;
        else issues.push(...v.issues);
      }
      if (issues.length) throw invalid(issues);
      const id = requestId(res);
      const anon: Actor = { userId: null, username: 'anonymous', role: 'viewer', via: 'token' };
      const ctx = {
        ...input,
        actor: actor ?? anon,
        requestId: id,
        ip: req.ip ?? '',
        secure: req.secure,
        token,
        op: { actor: actor ?? anon, requestId: id },
        header: (name: string) => req.get(name),
      } as Ctx<E>;
      const reply = await handler(ctx);
      const status = reply.status ?? 200;
      if (this.opts.validateResponses) this.checkResponse(e, status, reply.stream ? undefined : reply.body);
      for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
      if (reply.stream) await sendStream(req, res.status(status), { ...reply, stream: reply.stream });
      else if (reply.body === undefined) res.status(status).end();
      else res.status(status).json(reply.body);
    });
  }

  private checkResponse(e: Endpoint, status: number, body: unknown): void {
    if (!(status in e.responses)) throw new Error(`${e.operationId} answered ${status}, which its endpoint does not declare`);
    const schema = e.responses[status];
    if (!schema) return;
    const v = validate('response', schema, JSON.parse(JSON.stringify(body)));
    if (!v.ok) throw new Error(`${e.operationId} answered a body that breaks its schema: ${JSON.stringify(v.issues)}`);
  }
}
