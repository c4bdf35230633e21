import type { HttpRequest, HttpResponse, HttpTransport } from '../http-transport.js';
import { escapeXml, parseXml, SOAPENV_NS, XSI_NS, type XmlElement } from '../xml.js';

// A scripted vim25 endpoint for unit specs: it implements HttpTransport, so the real SoapClient,
// session and client run against it without a socket. It answers in either spelling of xsi:type:
// vcsim's (`XMLSchema-instance:type`, prefix declared on each value) or vCenter's (`xsi:type`).

/** Which server's XML to imitate. */
export type FakeStyle = 'vcsim' | 'vcenter';

/** One request the fake received. */
export interface FakeCall {
  method: string;
  soapAction: string | undefined;
  cookie: string | undefined;
  /** The `<Method>` element of the request body. */
  request: XmlElement;
  /** The raw envelope. */
  body: string;
}

/** A handler's answer: the inner XML of `<MethodResponse>`, a vim fault, or a raw HTTP reply. */
export type FakeReply = string | { fault: string; message?: string; detail?: string } | { status: number; body: string };
export type FakeHandler = (req: XmlElement, call: FakeCall) => FakeReply | Promise<FakeReply>;

const OPEN_METHODS = new Set(['RetrieveServiceContent', 'Login']);

export class FakeVim implements HttpTransport {
  readonly calls: FakeCall[] = [];
  /** Cookies of live sessions. */
  readonly sessions = new Set<string>();
  private readonly handlers = new Map<string, FakeHandler>();
  private nextSession = 1;
  closed = false;

  constructor(
    readonly style: FakeStyle = 'vcenter',
    readonly credentials = { username: 'user', password: 'pass' },
    readonly apiVersion = '7.0.3.0',
  ) {
    this.on('RetrieveServiceContent', () =>
      '<returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>' +
      '<viewManager type="ViewManager">ViewManager</viewManager><about><fullName>Fake vCenter</fullName><version>7.0.3</version>' +
      `<apiType>VirtualCenter</apiType><apiVersion>${this.apiVersion}</apiVersion><instanceUuid>fake-uuid</instanceUuid></about>` +
      '<sessionManager type="SessionManager">SessionManager</sessionManager></returnval>',
    );
    this.on('Login', (req, call) => {
      const user = req.children.find((c) => c.name === 'userName')?.text;
      const pwd = req.children.find((c) => c.name === 'password')?.text;
      if (user !== this.credentials.username || pwd !== this.credentials.password) return { fault: 'InvalidLogin', message: 'Login failure' };
      this.sessions.add(call.cookie ?? '');
      return `<returnval><key>k</key><userName>${escapeXml(user)}</userName></returnval>`;
    });
    this.on('Logout', (_req, call) => {
      this.sessions.delete(call.cookie ?? '');
      return '';
    });
    this.on('CurrentTime', () => `<returnval>2026-01-01T00:00:00Z</returnval>`);
  }

  /** Sets (replaces) the handler of a method. */
  on(method: string, handler: FakeHandler): this {
    this.handlers.set(method, handler);
    return this;
  }

  /** The xsi:type attribute in this fake's spelling. */
  t(type: string): string {
    return this.style === 'vcsim' ? `xmlns:XMLSchema-instance="${XSI_NS}" XMLSchema-instance:type="${type}"` : `xsi:type="${type}"`;
  }

  /** Methods called so far, in order. */
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  /** Forgets every session, as a vCenter restart or an idle timeout would. */
  dropSessions(): void {
    this.sessions.clear();
  }

  close(): void {
    this.closed = true;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const env = parseXml(req.body ?? '');
    const body = env.children.find((c) => c.ns === SOAPENV_NS && c.name === 'Body');
    const call: FakeCall = { method: body?.children[0]?.name ?? '', soapAction: req.headers.soapaction, cookie: req.headers.cookie, request: body!.children[0]!, body: req.body ?? '' };
    this.calls.push(call);
    const headers: Record<string, string | string[]> = {};
    if (call.method === 'RetrieveServiceContent' && !call.cookie) {
      const cookie = `vmware_soap_session="s${this.nextSession++}"`;
      headers['set-cookie'] = [`${cookie}; Path=/; HttpOnly; Secure`];
      call.cookie = cookie;
    }
    let reply: FakeReply;
    if (!OPEN_METHODS.has(call.method) && !this.sessions.has(call.cookie ?? '')) {
      reply = call.method === 'RetrievePropertiesEx' && this.style === 'vcsim' ? this.missingSetReply(call.request) : { fault: 'NotAuthenticated' };
    } else {
      const handler = this.handlers.get(call.method);
      reply = handler ? await handler(call.request, call) : { fault: 'MethodNotFound', message: `no handler for ${call.method}` };
    }
    if (typeof reply !== 'string' && 'status' in reply) return { status: reply.status, headers, body: reply.body };
    if (typeof reply !== 'string') {
      const detail = `<${reply.fault}Fault xmlns="urn:vim25" xsi:type="${reply.fault}">${reply.detail ?? ''}</${reply.fault}Fault>`;
      return { status: 500, headers, body: this.envelope(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>${escapeXml(reply.message ?? '')}</faultstring><detail>${detail}</detail></soapenv:Fault>`) };
    }
    return { status: 200, headers, body: this.envelope(`<${call.method}Response xmlns="urn:vim25">${reply}</${call.method}Response>`) };
  }

  private envelope(inner: string): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" ' +
      `xmlns:soapenv="${SOAPENV_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI_NS}"><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`
    );
  }

  /** vcsim answers an unauthenticated RetrievePropertiesEx with missingSet entries, not a fault. */
  private missingSetReply(req: XmlElement): string {
    const obj = req.children.find((c) => c.name === 'specSet')?.children.find((c) => c.name === 'objectSet')?.children.find((c) => c.name === 'obj');
    const type = obj?.attributes.find((a) => a.name === 'type')?.value ?? 'ManagedEntity';
    return (
      `<returnval><objects><obj type="${type}">${escapeXml(obj?.text ?? '')}</obj><missingSet><path>name</path><fault>` +
      `<fault ${this.t('NotAuthenticated')}><object type="${type}">${escapeXml(obj?.text ?? '')}</object><privilegeId>System.Read</privilegeId></fault>` +
      '</fault></missingSet></objects></returnval>'
    );
  }
}

/** Reads a child's text of a request element (specs). */
export function reqText(req: XmlElement, name: string): string | undefined {
  return req.children.find((c) => c.name === name)?.text;
}
