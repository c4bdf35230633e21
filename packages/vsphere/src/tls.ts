import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { VsphereError } from './errors.js';

/**
 * How the client trusts the server's certificate:
 * - `verify`: normal chain and host name verification (optionally against extra CAs);
 * - `thumbprint`: accept exactly the certificate whose SHA-1 (40 hex digits) or SHA-256 (64) fingerprint
 *   is given, colons and case optional; anything else is refused before a byte of HTTP is sent;
 * - `insecure`: accept any certificate (explicit opt-in; for labs only).
 */
export type TlsPolicy =
  | { mode: 'verify'; ca?: string | Buffer | Array<string | Buffer> }
  | { mode: 'thumbprint'; thumbprint: string }
  | { mode: 'insecure' };

/** A thumbprint in canonical form: upper-case hex pairs joined by colons, and its hash. */
export interface Thumbprint {
  algorithm: 'sha1' | 'sha256';
  /** e.g. `AB:CD:...`, as vCenter and OpenSSL print it. */
  value: string;
}

/** Parses a SHA-1 or SHA-256 thumbprint in any common spelling. Throws RangeError when it is neither. */
export function parseThumbprint(input: string): Thumbprint {
  const hex = input.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex) || (hex.length !== 40 && hex.length !== 64)) {
    throw new RangeError(`not a SHA-1 or SHA-256 certificate thumbprint: ${JSON.stringify(input)}`);
  }
  return { algorithm: hex.length === 40 ? 'sha1' : 'sha256', value: hex.match(/../g)!.join(':') };
}

/** The fingerprint of a DER certificate, in canonical thumbprint form. */
export function certificateThumbprint(der: Buffer, algorithm: Thumbprint['algorithm']): string {
  return createHash(algorithm).update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** An https.Agent that completes the TLS handshake, checks the pinned thumbprint, and only then hands the socket to HTTP. */
class PinnedAgent extends https.Agent {
  constructor(private readonly pin: Thumbprint) {
    super({ keepAlive: true, maxCachedSessions: 0 });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = tls.connect({ ...(options as tls.ConnectionOptions), rejectUnauthorized: false, session: undefined });
    let settled = false;
    const done = (err: Error | null) => {
      if (settled) return;
      settled = true;
      socket.off('error', onError);
      if (err) socket.destroy();
      callback?.(err, socket);
    };
    const onError = (err: Error) => done(err);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const actual = cert?.raw ? certificateThumbprint(cert.raw, this.pin.algorithm) : '(no certificate)';
      if (actual === this.pin.value) return done(null);
      const where = `${options.host ?? options.hostname ?? '?'}:${options.port ?? 443}`;
      done(
        new VsphereError(
          'TLS_THUMBPRINT_MISMATCH',
          `TLS certificate of ${where} does not match the pinned ${this.pin.algorithm.toUpperCase()} thumbprint: expected ${this.pin.value}, got ${actual}`,
        ),
      );
    });
    return undefined; // handed over through the callback once checked
  }
}

/** The agent for one endpoint under a TLS policy. Plain `http:` URLs (the simulator) refuse a pinned thumbprint. */
export function createAgent(protocol: string, policy: TlsPolicy): http.Agent {
  if (protocol === 'http:') {
    if (policy.mode === 'thumbprint') throw new TypeError('a pinned TLS thumbprint needs an https URL');
    return new http.Agent({ keepAlive: true });
  }
  if (protocol !== 'https:') throw new TypeError(`unsupported protocol ${protocol}`);
  switch (policy.mode) {
    case 'thumbprint':
      return new PinnedAgent(parseThumbprint(policy.thumbprint));
    case 'insecure':
      return new https.Agent({ keepAlive: true, rejectUnauthorized: false });
    case 'verify':
      return new https.Agent({ keepAlive: true, rejectUnauthorized: true, ...(policy.ca ? { ca: policy.ca } : {}) });
  }
}

/** OpenSSL/Node codes of a certificate that failed verification: permanent, a configuration matter. */
export const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH',
]);
