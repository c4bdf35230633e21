import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpFolderReader, type HttpFolderReaderOptions, type HttpRetryEvent } from './http-folder-reader.js';
import { rejection } from './testing/rejection.js';

const KiB = 1024;
const MiB = 1024 * KiB;

type Fault = 'status-503' | 'status-404' | 'reset' | 'stall' | 'stall-body' | 'ignore-range' | 'extra-bytes' | 'wrong-range';

/** A real HTTP server over an in-memory file: Range support like Go's http.FileServer, plus injected faults. */
class FolderServer {
  readonly server: http.Server;
  faults: Fault[] = [];
  /** When set, requests without this cookie get 401. */
  cookie: string | undefined;
  ranges: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  delayMs = 0;

  constructor(private readonly file: Buffer) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/folder/vm/disk-flat.vmdk?dcPath=DC0&dsName=ds`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);
    const range = req.headers.range ?? '';
    this.ranges.push(range);
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.cookie !== undefined && req.headers.cookie !== this.cookie) return void res.writeHead(401).end('no session');
    const m = /^bytes=(\d+)-(\d+)$/.exec(range);
    const fault = this.faults.shift();
    if (fault === 'status-503') return void res.writeHead(503).end('busy');
    if (fault === 'status-404') return void res.writeHead(404).end('not found');
    if (fault === 'stall') return; // never answers
    if (fault === 'ignore-range' || !m) return void res.writeHead(200, { 'content-length': this.file.length }).end(this.file);
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), this.file.length - 1);
    if (start >= this.file.length) return void res.writeHead(416, { 'content-range': `bytes */${this.file.length}` }).end();
    const body = this.file.subarray(start, end + 1);
    const contentRange = fault === 'wrong-range' ? `bytes ${start + 1}-${end + 1}/${this.file.length}` : `bytes ${start}-${end}/${this.file.length}`;
    if (fault === 'extra-bytes') {
      res.writeHead(206, { 'content-range': contentRange });
      return void res.end(Buffer.concat([body, Buffer.from('junk')]));
    }
    res.writeHead(206, { 'content-range': contentRange, 'content-length': body.length });
    if (fault === 'stall-body') return void res.write(body.subarray(0, 3)); // then silence
    if (fault === 'reset') {
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }
}

describe('HttpFolderReader', function () {
  this.timeout(20_000);
  const file = randomBytes(3 * MiB + 12345);
  let server: FolderServer;
  let url: string;
  const readers: HttpFolderReader[] = [];
  const retries: HttpRetryEvent[] = [];

  const open = async (opts: Partial<HttpFolderReaderOptions> = {}): Promise<HttpFolderReader> => {
    const r = await HttpFolderReader.open({
      url, disk: '[ds] vm/disk.vmdk', baseDelayMs: 1, jitter: 0, timeoutMs: 2000, onRetry: (e) => retries.push(e), ...opts,
    });
    readers.push(r);
    return r;
  };

  beforeEach(async () => {
    server = new FolderServer(file);
    url = await server.start();
    retries.length = 0;
  });
  afterEach(async () => {
    for (const r of readers.splice(0)) await r.close();
    await server.stop();
  });

  it('learns the size from a one-byte range request and reads exact ranges', async () => {
    const r = await open();
    expect(r.size).to.equal(file.length);
    expect(server.ranges).to.deep.equal(['bytes=0-0']);
    expect((await r.read(1000, 5000)).equals(file.subarray(1000, 6000))).to.equal(true);
    expect((await r.read(file.length - 7, 7)).equals(file.subarray(file.length - 7))).to.equal(true);
    expect(server.ranges.slice(1)).to.deep.equal(['bytes=1000-5999', `bytes=${file.length - 7}-${file.length - 1}`]);
  });

  it('reads into the caller buffer at an index, in parallel range requests bounded by maxInFlight', async () => {
    const r = await open({ maxRequestBytes: 256 * KiB, maxInFlight: 3 });
    server.delayMs = 20;
    const into = Buffer.alloc(2 * MiB + 10, 0xee);
    const got = await r.read(100, 2 * MiB, { buffer: into, offset: 10 });
    expect(got.buffer).to.equal(into.buffer);
    expect(got.byteOffset).to.equal(into.byteOffset + 10);
    expect(got.equals(file.subarray(100, 100 + 2 * MiB))).to.equal(true);
    expect(into.subarray(0, 10).every((b) => b === 0xee)).to.equal(true);
    expect(server.ranges.length).to.equal(1 + 8);
    expect(server.maxInFlight).to.equal(3);
  });

  it('retries 5xx with growing delays, then succeeds', async () => {
    const r = await open({ baseDelayMs: 5 });
    server.faults = ['status-503', 'status-503'];
    expect((await r.read(0, 1000)).equals(file.subarray(0, 1000))).to.equal(true);
    expect(retries.map((e) => [e.attempt, e.delayMs, e.error.code, e.error.status])).to.deep.equal([[1, 5, 'HTTP_STATUS', 503], [2, 10, 'HTTP_STATUS', 503]]);
  });

  it('retries a connection reset in the middle of the body', async () => {
    const r = await open();
    server.faults = ['reset'];
    expect((await r.read(MiB, MiB)).equals(file.subarray(MiB, 2 * MiB))).to.equal(true);
    expect(retries).to.have.length(1);
    expect(retries[0]!.error.transient).to.equal(true);
    expect(['SHORT_READ', 'NETWORK']).to.include(retries[0]!.error.code);
  });

  it('retries a request that times out, before or during the body', async () => {
    const r = await open({ timeoutMs: 150 });
    server.faults = ['stall', 'stall-body'];
    expect((await r.read(10, 10)).equals(file.subarray(10, 20))).to.equal(true);
    expect(retries).to.have.length(2);
    expect(retries[0]!.error.code).to.equal('TIMEOUT');
    expect(retries[1]!.error.transient).to.equal(true);
  });

  it('gives up after `attempts` with a final error naming the disk and offset', async () => {
    const r = await open({ attempts: 3 });
    server.faults = ['status-503', 'status-503', 'status-503'];
    const err = await rejection(r.read(4096, 512));
    expect(err.message).to.equal('disk [ds] vm/disk.vmdk: reading 512 bytes at offset 4096 failed after 3 attempts: HTTP 503');
    expect([err.code, err.disk, err.offset, err.length, err.status]).to.deep.equal(['HTTP_STATUS', '[ds] vm/disk.vmdk', 4096, 512, 503]);
    expect(retries).to.have.length(2);
  });

  it('fails at once, without retrying, on 404, a server that ignores Range, a wrong Content-Range or extra bytes', async () => {
    const r = await open();
    for (const [fault, code] of [['status-404', 'NOT_FOUND'], ['ignore-range', 'BAD_RESPONSE'], ['wrong-range', 'BAD_RESPONSE'], ['extra-bytes', 'BAD_RESPONSE']] as const) {
      server.faults = [fault];
      const err = await rejection(r.read(MiB, 1000));
      expect(err.code, fault).to.equal(code);
      expect(err.message, fault).to.match(/^disk \[ds\] vm\/disk\.vmdk: reading 1000 bytes at offset 1048576 failed: /);
    }
    expect(retries).to.deep.equal([]);
    expect((await r.read(MiB, 1000)).equals(file.subarray(MiB, MiB + 1000))).to.equal(true); // still usable
  });

  it('refuses ranges outside the file without asking the server', async () => {
    const r = await open();
    const err = await rejection(r.read(file.length - 10, 11));
    expect(err.code).to.equal('OUT_OF_RANGE');
    expect(server.ranges).to.have.length(1);
  });

  it('renews the session once on 401 and retries with the new cookie; fails UNAUTHORIZED when that does not help', async () => {
    let cookie = 'vmware_soap_session=old';
    let renewals = 0;
    server.cookie = 'vmware_soap_session=old';
    const r = await open({ headers: () => ({ cookie }), onUnauthorized: async () => { renewals++; cookie = 'vmware_soap_session=new'; } });
    server.cookie = 'vmware_soap_session=new'; // the old session expired
    expect((await r.read(0, 100)).equals(file.subarray(0, 100))).to.equal(true);
    expect(renewals).to.equal(1);
    server.cookie = 'vmware_soap_session=other';
    const err = await rejection(r.read(0, 100));
    expect([err.code, err.status, renewals]).to.deep.equal(['UNAUTHORIZED', 401, 2]);
    expect(retries).to.deep.equal([]);
  });

  it('without a session renewer, 401 fails at once', async () => {
    server.cookie = 'vmware_soap_session=x';
    const err = await rejection(open());
    expect([err.code, err.offset]).to.deep.equal(['UNAUTHORIZED', 0]);
  });

  it('close() aborts reads in flight with CLOSED and refuses new ones', async () => {
    const r = await open();
    server.faults = ['stall'];
    const pending = r.read(0, 1000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await r.close();
    const err = await rejection(pending);
    expect([err.code, err.message]).to.deep.equal(['CLOSED', 'disk [ds] vm/disk.vmdk: reading 1000 bytes at offset 0 failed: the reader was closed']);
    expect((await rejection(r.read(0, 10))).code).to.equal('CLOSED');
  });

  it('reports the size of an empty file from a 416', async () => {
    await server.stop();
    server = new FolderServer(Buffer.alloc(0));
    url = await server.start();
    const r = await open();
    expect(r.size).to.equal(0);
    expect((await r.read(0, 0)).length).to.equal(0);
  });
});
