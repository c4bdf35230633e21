import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Actor } from '@vaultflow/domain';
import { AppError, unauthenticated } from '@vaultflow/errors';
import { bearerToken, type Authenticator } from './registrar.js';
import { readSessionCookie } from './session-cookie.js';

/** Where app.ts mounts the board. */
export const QUEUE_BOARD_PATH = '/admin/queues';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface BoardVisitor {
  actor: Actor;
  /** Authenticated by the session cookie (a browser) rather than an Authorization header. */
  byCookie: boolean;
}

const visitors = new WeakMap<Request, BoardVisitor>();

/**
 * Bull Board for the hub's queues, behind our own login (the board has none).
 *
 * Credentials: an Authorization bearer token (session or API token), or else the `vaultflow_session`
 * cookie, which must hold a login session. Admins get the full board; operators and viewers get a
 * separate board whose queue adapters are read-only, and any write they send is refused here before
 * it reaches either board. Cookie-authenticated writes must come from our own origin (SameSite=Strict
 * already keeps the cookie off cross-site requests; this also covers same-site sibling hosts).
 */
export function createQueueBoard(auth: Authenticator, queues: Queue[], basePath = QUEUE_BOARD_PATH): Express {
  const board = subApp();
  board.use(gate(auth, basePath));
  board.use(section((v) => v.actor.role === 'admin', boardApp(queues, basePath, false)));
  board.use(section((v) => v.actor.role !== 'admin', boardApp(queues, basePath, true)));
  return board;
}

function subApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  return app;
}

function boardApp(queues: Queue[], basePath: string, readOnlyMode: boolean): Express {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: readOnlyMode ? 'Vaultflow queues (read-only)' : 'Vaultflow queues' } },
  });
  const app = adapter.getRouter() as Express;
  app.disable('x-powered-by');
  return app;
}

/** Passes a request to `inner` when `admits` its visitor; otherwise on to the next section. */
function section(admits: (v: BoardVisitor) => boolean, inner: Express): Express {
  const app = subApp();
  app.use((req, _res, next) => {
    const v = visitors.get(req);
    next(v && admits(v) ? undefined : 'router');
  });
  app.use(inner);
  return app;
}

function gate(auth: Authenticator, basePath: string): RequestHandler {
  return async (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Vary', 'Authorization, Cookie');
    const visitor = await identify(auth, req);
    if (!visitor) {
      if (wantsPage(req)) {
        const back = encodeURIComponent(`${basePath}${req.path === '/' ? '' : req.path}`).replace(/%2F/g, '/');
        res.redirect(302, `/login?next=${back}`);
        return;
      }
      throw unauthenticated('Log in first: send Authorization: Bearer <token> or the session cookie set by POST /api/v1/auth/login');
    }
    if (!SAFE_METHODS.has(req.method)) {
      if (visitor.actor.role !== 'admin') {
        throw new AppError('forbidden', 'QUEUE_BOARD_READ_ONLY', `Your role (${visitor.actor.role}) sees the queue board read-only; changing queues and jobs needs an admin`);
      }
      if (visitor.byCookie && !sameOrigin(req)) {
        throw new AppError('forbidden', 'CROSS_ORIGIN_REQUEST', 'The queue board accepts changes only from its own pages');
      }
    }
    visitors.set(req, visitor);
    next();
  };
}

/** A header, when present, is the only credential tried; the cookie counts only as a login session. */
async function identify(auth: Authenticator, req: Request): Promise<BoardVisitor | undefined> {
  if (req.headers.authorization !== undefined) {
    const token = bearerToken(req);
    const actor = token ? await auth.authenticate(token) : undefined;
    return actor && { actor, byCookie: false };
  }
  const token = readSessionCookie(req);
  const actor = token ? await auth.authenticate(token) : undefined;
  return actor?.via === 'session' ? { actor, byCookie: true } : undefined;
}

/** A browser navigating to a page (not the board's JSON API, not a script). */
function wantsPage(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && !req.path.startsWith('/api/') && req.accepts(['json', 'html']) === 'html';
}

/** Origin and Sec-Fetch-Site, when the browser sends them, must name this host. */
function sameOrigin(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.host;
  } catch {
    return false;
  }
}
