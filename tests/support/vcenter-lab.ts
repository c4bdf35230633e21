import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Vcsim } from '@vaultflow/testing';

// Real peers for vCenter registration tests: the simulator speaks plain HTTP, so TLS (pinned and
// insecure) is exercised through an https front with a self-signed certificate made by openssl,
// whose fingerprints openssl also states (not the code under test).

/** The registration fields that reach the simulator over plain http (labs only). */
export function vcsimEndpoint(vc: Vcsim) {
  const u = new URL(vc.url);
  return { host: u.hostname, port: Number(u.port), protocol: 'http' as const, username: vc.username, password: vc.password, insecure: true };
}

/** An https server in front of a plain-http upstream. */
export interface TlsFront {
  host: string;
  port: number;
  /** Fingerprints of its certificate, colon-separated upper-case hex, as openssl prints them. */
  sha1: string;
  sha256: string;
  stop(): Promise<void>;
}

function fingerprint(cert: string, algo: 'sha1' | 'sha256'): string {
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', `-${algo}`, '-in', cert], { encoding: 'utf8' });
  return /=([0-9A-F:]+)\s*$/.exec(out)![1]!;
}

/** Starts an https front of `upstreamUrl` (e.g. the simulator) on a free loopback port, with a fresh self-signed certificate. */
export async function startTlsFront(upstreamUrl: string): Promise<TlsFront> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vf-front-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const upstream = new URL(upstreamUrl);
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const fwd = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const front = {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    sha1: fingerprint(cert, 'sha1'),
    sha256: fingerprint(cert, 'sha256'),
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  rmSync(dir, { recursive: true, force: true });
  return front;
}

/** A loopback port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A TCP server that accepts connections and never answers: a vCenter that hangs. */
export async function startSilentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    async stop() {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => s.close(r));
    },
  };
}
