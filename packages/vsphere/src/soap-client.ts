import { faultFromSoapFault, VsphereError } from './errors.js';
import type { HttpTransport } from './http-transport.js';
import { envelope, type VimRequest } from './vim-requests.js';
import { parseXml, SOAPENV_NS, type XmlElement } from './xml.js';

/** The vim25 version sent before the server has said which it speaks; every call used here exists in it. */
export const BASELINE_API_VERSION = '6.0';

/** Options of {@link SoapClient}. */
export interface SoapClientOptions {
  /** The SOAP endpoint, `https://vcenter/sdk`. */
  sdkUrl: string;
  transport: HttpTransport;
  /** Sent as `SOAPAction: "urn:vim25/<apiVersion>"`. Default {@link BASELINE_API_VERSION}. */
  apiVersion?: string;
  /** Per-request timeout. Default 120 s. */
  timeoutMs?: number;
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/**
 * Posts vim25 requests and returns their `<MethodResponse>` element, or throws the typed fault.
 * Keeps the cookies the server sets (the session lives in `vmware_soap_session`). No session logic
 * here: see {@link VsphereSession}.
 */
export class SoapClient {
  apiVersion: string;
  readonly sdkUrl: string;
  private readonly transport: HttpTransport;
  private readonly timeoutMs: number;
  private readonly cookies = new Map<string, string>();

  constructor(opts: SoapClientOptions) {
    this.sdkUrl = opts.sdkUrl;
    this.transport = opts.transport;
    this.apiVersion = opts.apiVersion ?? BASELINE_API_VERSION;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  /** The `Cookie` header value carrying the session, or undefined before a server set one. */
  get cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Forgets every cookie (after Logout, or before a fresh Login). */
  clearCookies(): void {
    this.cookies.clear();
  }

  async invoke(req: VimRequest): Promise<XmlElement> {
    const headers: Record<string, string> = {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `"urn:vim25/${this.apiVersion}"`,
    };
    const cookie = this.cookieHeader;
    if (cookie) headers.cookie = cookie;
    const res = await this.transport.request({ method: 'POST', url: this.sdkUrl, headers, body: envelope(req.body), timeoutMs: this.timeoutMs });
    this.storeCookies(res.headers['set-cookie']);

    if (TRANSIENT_STATUS.has(res.status)) {
      throw new VsphereError('HTTP_STATUS', `${req.method}: HTTP ${res.status} from ${this.sdkUrl}`, { transient: true, status: res.status });
    }
    let doc: XmlElement;
    try {
      doc = parseXml(res.body);
    } catch (err) {
      const why = res.status === 200 ? 'BAD_RESPONSE' : 'HTTP_STATUS';
      throw new VsphereError(why, `${req.method}: HTTP ${res.status}, not a SOAP envelope (${(err as Error).message})`, { status: res.status, cause: err });
    }
    const body = doc.ns === SOAPENV_NS && doc.name === 'Envelope' ? doc.children.find((c) => c.ns === SOAPENV_NS && c.name === 'Body') : undefined;
    const first = body?.children[0];
    if (!first) throw new VsphereError('BAD_RESPONSE', `${req.method}: HTTP ${res.status}, SOAP envelope without a body`, { status: res.status });
    if (first.ns === SOAPENV_NS && first.name === 'Fault') throw faultFromSoapFault(first);
    if (res.status !== 200) throw new VsphereError('HTTP_STATUS', `${req.method}: HTTP ${res.status} from ${this.sdkUrl}`, { status: res.status });
    if (first.name !== `${req.method}Response`) {
      throw new VsphereError('BAD_RESPONSE', `${req.method}: expected ${req.method}Response, got ${first.name}`);
    }
    return first;
  }

  private storeCookies(setCookie: string | string[] | undefined): void {
    for (const line of typeof setCookie === 'string' ? [setCookie] : setCookie ?? []) {
      const pair = line.split(';', 1)[0]!;
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
}
