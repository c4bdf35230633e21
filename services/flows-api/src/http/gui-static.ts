import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import type { Logger } from '@vaultflow/logging';

/**
 * The web console's pages (its stable URLs, and everything below them, e.g. /protection-flows/{id}).
 * A browser asking for one gets the app's index.html; the app then shows the page.
 */
export const GUI_PAGES = ['/login', '/protection-flows', '/protection-groups', '/vms', '/schedules', '/repositories', '/policies', '/backups', '/settings'] as const;

/** Paths the console never answers, whatever the request: the API, the queue board, metrics, probes. */
export const RESERVED_PATHS = ['/api', '/admin', '/metrics', '/healthz', '/readyz'] as const;

const under = (p: string, base: string) => p === base || p.startsWith(`${base}/`);

/** True when `p` is one of the console's pages (the dashboard at / included) and not a reserved path. */
export function isGuiPage(p: string): boolean {
  if (RESERVED_PATHS.some((r) => under(p, r))) return false;
  return p === '/' || GUI_PAGES.some((g) => under(p, g));
}

/** A browser navigating (it prefers HTML); API clients sending `Accept: *\/*` or JSON are not. */
function wantsPage(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && req.accepts(['json', 'html']) === 'html';
}

/**
 * What the console's HTML may load: only this origin. `unsafe-eval` because the console checks
 * forms with the API's own schema validator (ajv compiles schemas to functions).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-cache');
}

/**
 * Serves the built web console (services/gui, `vite build`) from `dir`: its files (hashed assets
 * cached for a year) and index.html for every console page a browser opens. Reserved paths and
 * non-HTML requests fall through untouched, so GET / still answers API clients with JSON. When the
 * console has not been built, its pages answer 503 with how to build it.
 */
export function createGuiStatic(dir: string, logger: Logger): Router {
  const router = Router();
  const index = path.join(dir, 'index.html');
  const built = existsSync(index);
  if (!built) logger.warn({ dir }, 'the web console is not built (no index.html): run `pnpm run build`; its pages answer 503 until then');

  router.use((req, _res, next) => next(RESERVED_PATHS.some((r) => under(req.path, r)) ? 'router' : undefined));
  if (built) {
    router.use('/assets', express.static(path.join(dir, 'assets'), { index: false, immutable: true, maxAge: '365d', fallthrough: true }));
    router.use(express.static(dir, { index: false, maxAge: '1h', fallthrough: true, setHeaders: (res, file) => file.endsWith('.html') && pageHeaders(res) }));
  }
  router.use((req, res, next) => {
    if (!wantsPage(req) || !isGuiPage(req.path)) return next();
    if (!built) {
      res.status(503).type('html').send('<!doctype html><title>Vaultflow</title><p>The Vaultflow web console has not been built. Run <code>pnpm run build</code> (or <code>npm start</code>) and reload. The API is at <a href="/api/v1/openapi.json">/api/v1</a>.</p>');
      return;
    }
    pageHeaders(res);
    res.sendFile(index, (err) => err && next(err));
  });
  return router;
}
