import http from 'node:http';
import https from 'node:https';
import { VsphereError } from './errors.js';
import { createAgent, TLS_VERIFY_CODES, type TlsPolicy } from './tls.js';

/** One HTTP exchange as the SOAP layer needs it. */
export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/** A complete response; header names are lower-case. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * The seam between the SOAP layer and the network; specs plug in a fake. Implementations reject
 * with a {@link VsphereError}: `NETWORK`/`TIMEOUT` (transient), `TLS_*` (permanent).
 */
export interface HttpTransport {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Frees pooled connections. Idempotent. */
  close(): void;
}

/** Options of {@link NodeHttpTransport}. */
export interface NodeHttpTransportOptions {
  /** Responses larger than this are refused (`BAD_RESPONSE`). Default 256 MiB. */
  maxResponseBytes?: number;
}

/** node:http(s) with a keep-alive agent built from a {@link TlsPolicy}. One instance per endpoint. */
export class NodeHttpTransport implements HttpTransport {
  /** The agent, for other requests to the same host (datastore `/folder` reads) under the same TLS policy. */
  readonly agent: http.Agent;
  private readonly maxBytes: number;

  constructor(readonly baseUrl: URL, tlsPolicy: TlsPolicy, opts: NodeHttpTransportOptions = {}) {
    this.agent = createAgent(baseUrl.protocol, tlsPolicy);
    this.maxBytes = opts.maxResponseBytes ?? 256 * 1024 * 1024;
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = lib.request(url, { method: req.method, headers: req.headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxBytes) {
            res.destroy();
            reject(new VsphereError('BAD_RESPONSE', `response from ${url.host} exceeds ${this.maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => reject(networkError(err, url)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      r.setTimeout(req.timeoutMs, () => {
        r.destroy(new VsphereError('TIMEOUT', `no answer from ${url.host} within ${req.timeoutMs} ms`, { transient: true }));
      });
      r.on('error', (err) => reject(networkError(err, url)));
      r.end(req.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Classifies a socket-level failure: our own errors pass through, certificate problems are permanent, the rest transient. */
function networkError(err: Error & { code?: string }, url: URL): VsphereError {
  if (err instanceof VsphereError) return err;
  if (err.code && TLS_VERIFY_CODES.has(err.code)) {
    return new VsphereError(
      'TLS_VERIFY_FAILED',
      `TLS certificate of ${url.host} is not trusted (${err.code}: ${err.message}); pin its thumbprint or add its CA`,
      { cause: err },
    );
  }
  return new VsphereError('NETWORK', `${url.host}: ${err.code ?? err.name}: ${err.message}`, { transient: true, cause: err });
}
