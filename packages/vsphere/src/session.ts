import { isVsphereError, VsphereError } from './errors.js';
import { parseMoRef } from './moref.js';
import { BASELINE_API_VERSION, type SoapClient } from './soap-client.js';
import type { MoRef } from './types.js';
import { vim, type VimRequest } from './vim-requests.js';
import { child, childText, type XmlElement } from './xml.js';

/** The newest vim25 version this client speaks; a newer server is addressed in this one. */
export const MAX_API_VERSION = '8.0.3.0';

/** The parts of the ServiceContent this client uses. */
export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  about: {
    fullName: string | undefined;
    version: string | undefined;
    apiType: string | undefined;
    apiVersion: string | undefined;
    instanceUuid: string | undefined;
  };
}

/** Options of {@link VsphereSession}. */
export interface SessionOptions {
  /** Interval of the CurrentTime keep-alive; 0 disables it. Default 10 minutes (vCenter idles sessions out after 30). */
  keepAliveMs?: number;
  /** Called when a keep-alive fails (it never throws). */
  onKeepAliveError?: (err: unknown) => void;
  /** Highest vim25 version to speak. Default {@link MAX_API_VERSION}. */
  maxApiVersion?: string;
}

/** Compares dotted versions numerically: `6.7` < `6.7.1` < `7.0`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function required(el: XmlElement | undefined, name: string): MoRef {
  const ref = parseMoRef(child(el, name));
  if (!ref) throw new VsphereError('BAD_RESPONSE', `ServiceContent without ${name}`);
  return ref;
}

/** Reads RetrieveServiceContentResponse. */
export function parseServiceContent(response: XmlElement): ServiceContent {
  const rv = child(response, 'returnval');
  const about = child(rv, 'about');
  return {
    rootFolder: required(rv, 'rootFolder'),
    propertyCollector: required(rv, 'propertyCollector'),
    viewManager: required(rv, 'viewManager'),
    sessionManager: required(rv, 'sessionManager'),
    about: {
      fullName: childText(about, 'fullName'),
      version: childText(about, 'version'),
      apiType: childText(about, 'apiType'),
      apiVersion: childText(about, 'apiVersion'),
      instanceUuid: childText(about, 'instanceUuid'),
    },
  };
}

/**
 * A logged-in vim25 session: RetrieveServiceContent + Login, the cookie kept by the {@link SoapClient},
 * a CurrentTime keep-alive, and one transparent re-login when a call meets NotAuthenticated (the
 * session expired or was terminated). Concurrent callers share one re-login.
 */
export class VsphereSession {
  /** Bumped by every successful login: session-scoped objects (views, tokens) from an older epoch are gone. */
  epoch = 0;
  private content: ServiceContent | undefined;
  private relogging: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly soap: SoapClient,
    private readonly credentials: { username: string; password: string },
    private readonly opts: SessionOptions = {},
  ) {}

  /** The ServiceContent; throws `NOT_LOGGED_IN` before {@link login}. */
  get serviceContent(): ServiceContent {
    if (!this.content) throw new VsphereError('NOT_LOGGED_IN', 'not logged in to vCenter');
    return this.content;
  }

  /** Logs in (again). Rejects with InvalidLoginFault for bad credentials. */
  async login(): Promise<ServiceContent> {
    this.soap.clearCookies();
    this.soap.apiVersion = BASELINE_API_VERSION;
    const content = parseServiceContent(await this.soap.invoke(vim.retrieveServiceContent()));
    const max = this.opts.maxApiVersion ?? MAX_API_VERSION;
    const server = content.about.apiVersion;
    this.soap.apiVersion = server && /^\d+(\.\d+)*$/.test(server) && compareVersions(server, max) < 0 ? server : max;
    await this.soap.invoke(vim.login(content.sessionManager, this.credentials.username, this.credentials.password));
    this.content = content;
    this.closed = false;
    this.epoch++;
    this.startKeepAlive();
    return content;
  }

  /**
   * Sends a request built from the current ServiceContent and parses its response. On
   * NotAuthenticated (also when `parse` raises it) logs in again once and retries; a second
   * NotAuthenticated is thrown.
   */
  async invoke<T>(build: (sc: ServiceContent) => VimRequest, parse: (response: XmlElement) => T): Promise<T> {
    const epoch = this.epoch;
    try {
      return parse(await this.soap.invoke(build(this.serviceContent)));
    } catch (err) {
      if (!isVsphereError(err, 'NOT_AUTHENTICATED') || this.closed || !this.content) throw err;
      await this.relogin(epoch);
      return parse(await this.soap.invoke(build(this.serviceContent)));
    }
  }

  /** The server's clock (also the keep-alive). */
  currentTime(): Promise<Date> {
    return this.invoke(() => vim.currentTime(), (r) => new Date(childText(r, 'returnval') ?? NaN));
  }

  /** Stops the keep-alive and ends the session. Idempotent; a session already gone is fine. */
  async logout(): Promise<void> {
    this.stopKeepAlive();
    if (this.closed || !this.content) return;
    this.closed = true;
    try {
      await this.soap.invoke(vim.logout(this.content.sessionManager));
    } catch (err) {
      if (!isVsphereError(err, 'NOT_AUTHENTICATED')) throw err;
    } finally {
      this.soap.clearCookies();
    }
  }

  private async relogin(seenEpoch: number): Promise<void> {
    if (this.epoch !== seenEpoch) return; // another caller already logged in again
    this.relogging ??= this.login().then(
      () => void (this.relogging = undefined),
      (err: unknown) => {
        this.relogging = undefined;
        throw err;
      },
    );
    await this.relogging;
  }

  private startKeepAlive(): void {
    this.stopKeepAlive();
    const every = this.opts.keepAliveMs ?? 10 * 60_000;
    if (every <= 0) return;
    this.timer = setInterval(() => {
      this.currentTime().catch((err: unknown) => this.opts.onKeepAliveError?.(err));
    }, every);
    this.timer.unref();
  }

  private stopKeepAlive(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
