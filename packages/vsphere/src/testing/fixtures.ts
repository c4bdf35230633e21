import { readFileSync } from 'node:fs';
import type { HttpRequest, HttpResponse, HttpTransport } from '../http-transport.js';

/** A recorded response of `style` (`vcsim`: captured from the harness; `vcenter`: vCenter's spelling). */
export function fixture(style: 'vcsim' | 'vcenter', name: string): string {
  return readFileSync(new URL(`../fixtures/${style}/${name}.xml`, import.meta.url), 'utf8');
}

/** A transport that answers every request with the next of the given replies (the last one repeats). */
export class ReplayTransport implements HttpTransport {
  readonly requests: HttpRequest[] = [];
  constructor(private readonly replies: Array<Partial<HttpResponse> & { body: string }>) {}
  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const r = this.replies[Math.min(this.requests.length - 1, this.replies.length - 1)]!;
    return { status: r.status ?? 200, headers: r.headers ?? {}, body: r.body };
  }
  close(): void {}
}
