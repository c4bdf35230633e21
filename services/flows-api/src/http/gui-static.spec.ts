import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { createLogger } from '@vaultflow/logging';
import { createGuiStatic, isGuiPage } from './gui-static.js';

/** An app with the console in front of a stand-in for everything else (the API's 404 in JSON). */
async function serve(dir: string): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use(createGuiStatic(dir, createLogger('gui-static-spec', 'silent')));
  app.use((req, res) => {
    res.status(404).json({ fellThrough: req.path });
  });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const page = (url: string) => fetch(url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });

describe('gui-static: the console at / beside the API', () => {
  let dir: string;
  let url: string;
  let server: Server;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vf-gui-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    ({ url, server } = await serve(dir));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('knows the console pages and never claims the API, the queue board, metrics or probes', () => {
    for (const p of ['/', '/login', '/protection-flows', '/protection-flows/abc', '/protection-groups', '/vms', '/schedules', '/repositories', '/policies', '/backups', '/settings']) expect(isGuiPage(p), p).to.equal(true);
    for (const p of ['/api', '/api/v1/protection-flows', '/admin/queues', '/metrics', '/healthz', '/readyz', '/protection-flowsX', '/nope']) expect(isGuiPage(p), p).to.equal(false);
  });

  it('answers a browser opening a page with index.html and a strict content policy', async () => {
    const res = await page(`${url}/protection-flows/f-1?execution=e-1`);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.include('id="root"');
    expect(res.headers.get('content-security-policy')).to.include("default-src 'self'");
    expect(res.headers.get('cache-control')).to.equal('no-cache');
  });

  it('serves hashed assets for a year, and lets API clients, reserved paths and unknown pages through', async () => {
    const asset = await fetch(`${url}/assets/index-abc123.js`);
    expect(asset.status).to.equal(200);
    expect(asset.headers.get('cache-control')).to.match(/max-age=31536000, immutable/);
    for (const p of ['/', '/protection-flows']) expect(await (await fetch(`${url}${p}`, { headers: { accept: 'application/json' } })).json(), p).to.deep.equal({ fellThrough: p });
    expect(await (await fetch(`${url}/`)).json()).to.deep.equal({ fellThrough: '/' }); // Accept: */* is an API client
    for (const p of ['/api/v1/flows', '/admin/queues', '/metrics', '/healthz', '/nope']) expect(await (await page(`${url}${p}`)).json(), p).to.deep.equal({ fellThrough: p });
    expect((await page(`${url}/assets/missing.js`)).status).to.equal(404);
  });

  it('answers 503 with how to build it when the console has not been built', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'vf-gui-none-'));
    const s = await serve(empty);
    try {
      const res = await page(`${s.url}/settings`);
      expect(res.status).to.equal(503);
      expect(await res.text()).to.include('pnpm run build');
      expect(await (await page(`${s.url}/api/v1/x`)).json()).to.deep.equal({ fellThrough: '/api/v1/x' });
    } finally {
      s.server.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
