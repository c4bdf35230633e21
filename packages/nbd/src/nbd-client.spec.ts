import { expect } from 'chai';
import { NbdClient, type NbdClientOptions } from './nbd-client.js';
import { NbdError } from './nbd-error.js';
import { Command, Errno, Option } from './protocol/constants.js';
import {
  type FakeConnection, type FakeRequest, type FakeServer, type FakeServerScript, patternAt, replies, startFakeServer,
} from './testing/fake-nbd-server.js';

const MiB = 1024 * 1024;
let server: FakeServer | undefined;
const clients: NbdClient[] = [];

async function open(script: FakeServerScript, options: Partial<NbdClientOptions> = {}): Promise<{ client: NbdClient; conn: () => FakeConnection }> {
  server = await startFakeServer(script);
  const client = await NbdClient.connect({ address: server.address, exportName: 'disk', ...options });
  clients.push(client);
  return { client, conn: () => server!.connections[0]! };
}

/** Answers a READ with the pattern in one data chunk. */
function answerRead(req: FakeRequest, conn: FakeConnection): Promise<void> {
  return conn.send(replies.data(req.handle, req.offset, patternAt(req.offset, req.length), true));
}

async function rejection(p: Promise<unknown>): Promise<NbdError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(NbdError);
    return err as NbdError;
  }
  throw new Error('expected a rejection');
}

describe('nbd/NbdClient against a scripted server', () => {
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    await server?.close();
    server = undefined;
  });

  it('negotiates NO_ZEROES, structured replies, meta contexts and GO in that order', async () => {
    const { client, conn } = await open(
      { size: 5 * MiB, transmissionFlags: 0x10b, contexts: { 'base:allocation': 4 }, blockSize: { minimum: 1, preferred: 4096, maximum: 8 * MiB }, onRequest: answerRead },
      { metaContexts: ['base:allocation', 'qemu:dirty-bitmap:nope'] },
    );
    expect(conn().clientFlags).to.equal(3);
    expect(conn().options.map((o) => o.option)).to.deep.equal([Option.STRUCTURED_REPLY, Option.SET_META_CONTEXT, Option.GO]);
    expect(conn().options[2]!.data.subarray(4, 8).toString()).to.equal('disk');
    expect(client.size).to.equal(5 * MiB);
    expect(client.flags).to.equal(0x10b);
    expect(client.readOnly).to.equal(true);
    expect(client.contexts).to.deep.equal(['base:allocation']);
    expect(client.blockSize).to.deep.equal({ minimum: 1, preferred: 4096, maximum: 8 * MiB });
  });

  it('does not ask for NO_ZEROES when the server does not offer it', async () => {
    const { conn } = await open({ size: MiB, handshakeFlags: 1, onRequest: answerRead });
    expect(conn().clientFlags).to.equal(1);
  });

  it('fails permanently with EXPORT_NOT_FOUND for an unknown export', async () => {
    server = await startFakeServer({ size: MiB, exports: ['other'], onRequest: answerRead });
    const err = await rejection(NbdClient.connect({ address: server.address, exportName: 'disk' }));
    expect(err).to.include({ code: 'EXPORT_NOT_FOUND', transient: false });
    expect(err.message).to.contain('"disk"');
  });

  it('fails transiently when nothing listens', async () => {
    const err = await rejection(NbdClient.connect({ address: { socketPath: '/nonexistent/nbd.sock' } }));
    expect(err).to.include({ code: 'CONNECTION_FAILED', transient: true });
  });

  it('reassembles a reply whose header and data arrive in odd-sized TCP pieces', async () => {
    const { client } = await open({
      size: MiB,
      onRequest: (req, conn) => conn.send(Buffer.concat([
        replies.hole(req.handle, req.offset, 1000),
        replies.data(req.handle, req.offset + 1000, patternAt(req.offset + 1000, req.length - 1000), true),
      ]), [1, 3, 7, 2, 19, 700]),
    });
    const got = await client.read(4096, 3000);
    expect(got.subarray(0, 1000).equals(Buffer.alloc(1000))).to.equal(true);
    expect(got.subarray(1000).equals(patternAt(5096, 2000))).to.equal(true);
  });

  it('matches interleaved chunks of two reads by handle, even when the later one completes first', async () => {
    const held: FakeRequest[] = [];
    const { client } = await open({
      size: MiB,
      onRequest: async (req, conn) => {
        held.push(req);
        if (held.length < 2) return;
        const [a, b] = held as [FakeRequest, FakeRequest];
        await conn.send(Buffer.concat([
          replies.data(b.handle, b.offset + 2048, patternAt(b.offset + 2048, 2048)),
          replies.data(a.handle, a.offset, patternAt(a.offset, 2048)),
          replies.hole(b.handle, b.offset, 2048, true),
        ]), [5, 4000]);
        await new Promise((r) => setTimeout(r, 30));
        await conn.send(replies.hole(a.handle, a.offset + 2048, 2048, true), [3]);
      },
    });
    const order: string[] = [];
    const [a, b] = await Promise.all([
      client.read(0, 4096).then((buf) => { order.push('a'); return buf; }),
      client.read(8192, 4096).then((buf) => { order.push('b'); return buf; }),
    ]);
    expect(order).to.deep.equal(['b', 'a']);
    expect(a.equals(Buffer.concat([patternAt(0, 2048), Buffer.alloc(2048)]))).to.equal(true);
    expect(b.equals(Buffer.concat([Buffer.alloc(2048), patternAt(8192 + 2048, 2048)]))).to.equal(true);
  });

  it('splits a read into bounded requests, several in flight, into a caller buffer at an index', async () => {
    let outstanding = 0;
    let peak = 0;
    const { client, conn } = await open({
      size: 16 * MiB,
      onRequest: async (req, c) => {
        peak = Math.max(peak, ++outstanding);
        await new Promise((r) => setTimeout(r, 5));
        outstanding--;
        await answerRead(req, c);
      },
    }, { maxRequestBytes: MiB, maxInFlight: 3 });
    const target = Buffer.alloc(10 * MiB + 10, 0xaa);
    const got = await client.read(3 * MiB + 5, 10 * MiB, { buffer: target, offset: 10 });
    const reads = conn().requests.filter((r) => r.command === Command.READ);
    expect(reads.length).to.equal(10);
    expect(Math.max(...reads.map((r) => r.length))).to.equal(MiB);
    expect(peak).to.equal(3);
    expect(target.subarray(0, 10).equals(Buffer.alloc(10, 0xaa))).to.equal(true);
    expect(got.buffer === target.buffer && got.byteOffset === target.byteOffset + 10).to.equal(true);
    expect(got.equals(patternAt(3 * MiB + 5, 10 * MiB))).to.equal(true);
  });

  it('widens unaligned reads to the minimum block size the server sets', async () => {
    const { client, conn } = await open({ size: MiB, blockSize: { minimum: 512, preferred: 4096, maximum: MiB }, onRequest: answerRead });
    const got = await client.read(1000, 100);
    expect(conn().requests.map((r) => [r.offset, r.length])).to.deep.equal([[512, 1024]]);
    expect(got.equals(patternAt(1000, 100))).to.equal(true);
  });

  it('turns error chunks into NbdErrors at the offset they name, and keeps the connection usable', async () => {
    const { client } = await open({
      size: MiB,
      onRequest: (req, conn) => {
        if (req.offset === 0) return conn.send(Buffer.concat([replies.data(req.handle, 0, patternAt(0, 100)), replies.error(req.handle, Errno.EIO, 'sector 7', true, 3584)]));
        if (req.offset === 4096) return conn.send(replies.simple(req.handle, Errno.EINVAL));
        return answerRead(req, conn);
      },
    });
    const eio = await rejection(client.read(0, 4096));
    expect(eio).to.include({ code: 'EIO', transient: true, offset: 3584, errno: 5 });
    expect(eio.message).to.contain('offset 3584').and.contain('sector 7');
    const einval = await rejection(client.read(4096, 512));
    expect(einval).to.include({ code: 'EINVAL', transient: false, offset: 4096 });
    expect((await client.read(8192, 16)).equals(patternAt(8192, 16))).to.equal(true);
  });

  it('loops BLOCK_STATUS until the range is covered when the server answers less', async () => {
    const { client, conn } = await open({
      size: 4 * MiB,
      contexts: { 'base:allocation': 9, 'qemu:dirty-bitmap:b': 3 },
      onRequest: (req, c) => c.send(Buffer.concat([
        replies.blockStatus(req.handle, 3, [[65536, 0]]),
        replies.blockStatus(req.handle, 9, [[MiB / 2, req.offset < 2 * MiB ? 0 : 3], [MiB / 2, req.offset < 2 * MiB ? 0 : 3]], true),
      ])),
    }, { metaContexts: ['base:allocation', 'qemu:dirty-bitmap:b'] });
    const extents = await client.blockStatus('base:allocation', MiB / 4, 3 * MiB);
    expect(conn().requests.map((r) => r.offset)).to.deep.equal([MiB / 4, MiB + MiB / 4, 2 * MiB + MiB / 4]);
    expect(extents).to.deep.equal([
      { offset: MiB / 4, length: 2 * MiB, flags: 0 },
      { offset: 2 * MiB + MiB / 4, length: MiB, flags: 3 },
    ]);
    const whole = await client.extents('qemu:dirty-bitmap:b');
    expect(whole.reduce((n, e) => n + e.length, 0)).to.equal(4 * MiB);
    expect(conn().requests.length).to.equal(3 + 64);
  });

  it('aligns block status requests to the minimum block size and clips the answer to the range asked', async () => {
    const { client, conn } = await open({
      size: MiB,
      contexts: { 'base:allocation': 1 },
      blockSize: { minimum: 512, preferred: 4096, maximum: MiB },
      onRequest: (req, c) => c.send(replies.blockStatus(req.handle, 1, [[1024, 3], [65536, 0]], true)),
    }, { metaContexts: ['base:allocation'] });
    const extents = await client.blockStatus('base:allocation', 1000, 3000);
    expect(conn().requests.map((r) => [r.offset, r.length])).to.deep.equal([[512, 3584]]);
    expect(extents).to.deep.equal([{ offset: 1000, length: 536, flags: 3 }, { offset: 1536, length: 2464, flags: 0 }]);
  });

  it('refuses block status for a context that was not negotiated', async () => {
    const { client } = await open({ size: MiB, onRequest: answerRead });
    expect(await rejection(client.extents('base:allocation'))).to.include({ code: 'CONTEXT_NOT_NEGOTIATED', transient: false });
  });

  it('reads through simple replies when the server refuses structured replies', async () => {
    const { client } = await open(
      { size: MiB, structuredReplies: false, contexts: { 'base:allocation': 1 }, onRequest: (req, c) => c.send(replies.simple(req.handle, 0, patternAt(req.offset, req.length)), [9, 1000]) },
      { metaContexts: ['base:allocation'] },
    );
    expect(client.structuredReplies).to.equal(false);
    expect((await client.read(777, 5000)).equals(patternAt(777, 5000))).to.equal(true);
    expect(await rejection(client.extents('base:allocation'))).to.include({ code: 'CONTEXT_NOT_NEGOTIATED' });
  });

  it('treats a data chunk outside the request as a permanent protocol error that breaks the connection', async () => {
    const { client } = await open({ size: MiB, onRequest: (req, c) => c.send(replies.data(req.handle, req.offset + req.length, Buffer.alloc(10), true)) });
    expect(await rejection(client.read(0, 4096))).to.include({ code: 'PROTOCOL', transient: false });
    expect(client.isOpen).to.equal(false);
    expect(await rejection(client.read(0, 1))).to.include({ code: 'PROTOCOL' });
  });

  it('treats a READ reply that leaves a gap as a protocol error', async () => {
    const { client } = await open({ size: MiB, onRequest: (req, c) => c.send(Buffer.concat([replies.data(req.handle, req.offset, Buffer.alloc(100)), replies.none(req.handle)])) });
    const err = await rejection(client.read(0, 4096));
    expect(err).to.include({ code: 'PROTOCOL', transient: false });
    expect(err.message).to.contain('short of 4096');
  });

  it('fails every read in flight, each at its own offset, when the connection drops mid-reply', async () => {
    const { client } = await open({
      size: MiB,
      onRequest: (req, c) => {
        if (req.offset === 0) void c.send(replies.data(req.handle, 0, patternAt(0, 100))).then(() => setTimeout(() => c.destroy(), 20));
      },
    });
    const [a, b] = await Promise.all([rejection(client.read(0, 4096)), rejection(client.read(65536, 4096))]);
    expect(a).to.include({ code: 'CONNECTION_CLOSED', transient: true, offset: 0 });
    expect(b).to.include({ code: 'CONNECTION_CLOSED', transient: true, offset: 65536 });
    expect(b.message).to.contain('offset 65536');
  });

  it('times out a request the server never answers, as a transient error', async () => {
    const { client } = await open({ size: MiB, onRequest: () => undefined }, { requestTimeoutMs: 50 });
    expect(await rejection(client.read(4096, 10))).to.include({ code: 'TIMEOUT', transient: true, offset: 4096 });
  });

  it('refuses ranges outside the export without sending anything', async () => {
    const { client, conn } = await open({ size: MiB, onRequest: answerRead });
    const err = await rejection(client.read(MiB - 10, 11));
    expect(err).to.include({ code: 'OUT_OF_RANGE', transient: false, offset: MiB - 10 });
    expect(conn().requests.length).to.equal(0);
  });

  it('waits for reads in flight, then sends NBD_CMD_DISC on close', async () => {
    const { client, conn } = await open({ size: MiB, onRequest: async (req, c) => { await new Promise((r) => setTimeout(r, 20)); await answerRead(req, c); } });
    const reading = client.read(0, 100);
    await client.close();
    expect((await reading).equals(patternAt(0, 100))).to.equal(true);
    expect(conn().requests.map((r) => r.command)).to.deep.equal([Command.READ, Command.DISC]);
    expect(client.isOpen).to.equal(false);
    expect(await rejection(client.read(0, 1))).to.include({ code: 'CLOSED', transient: false });
  });
});
