import { expect } from 'chai';
import { NbdDiskReader, type NbdDiskReaderOptions, type NbdSession, type RetryEvent } from './nbd-disk-reader.js';
import { NbdError } from './nbd-error.js';
import type { Extent } from './protocol/transmission.codec.js';
import { patternAt, replies, startFakeServer } from './testing/fake-nbd-server.js';

const MiB = 1024 * 1024;

/** In-memory session whose reads fail as `fault` decides (by call number, from 1). */
class FakeSession implements NbdSession {
  isOpen = true;
  calls = 0;
  closed = false;
  constructor(
    readonly size: number,
    private readonly fault: (call: number, offset: number) => NbdError | undefined = () => undefined,
    readonly contexts: string[] = ['base:allocation'],
    private readonly map: Extent[] = [],
  ) {}
  async read(offset: number, length: number): Promise<Buffer> {
    const err = this.fault(++this.calls, offset);
    if (err) {
      if (err.code === 'CONNECTION_CLOSED') this.isOpen = false;
      throw err;
    }
    return patternAt(offset, length);
  }
  async extents(): Promise<Extent[]> {
    return this.map;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.isOpen = false;
  }
}

const eio = (offset: number): NbdError => new NbdError(`EIO at offset ${offset}`, { code: 'EIO', transient: true, offset, errno: 5 });
const einval = (offset: number): NbdError => new NbdError(`EINVAL at offset ${offset}`, { code: 'EINVAL', transient: false, offset, errno: 22 });
const dropped = (offset: number): NbdError => new NbdError('connection lost', { code: 'CONNECTION_CLOSED', transient: true, offset });

function harness(options: NbdDiskReaderOptions = {}): { delays: number[]; retries: RetryEvent[]; options: NbdDiskReaderOptions } {
  const delays: number[] = [];
  const retries: RetryEvent[] = [];
  return {
    delays,
    retries,
    options: { baseDelayMs: 100, maxDelayMs: 300, jitter: 0, sleep: async (ms) => { delays.push(ms); }, onRetry: (e) => retries.push(e), ...options },
  };
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

const noConnect = (): Promise<NbdSession> => Promise.reject(new Error('no reconnect expected'));

describe('nbd/NbdDiskReader', () => {
  it('retries transient errors with exponential backoff and returns the data', async () => {
    const { delays, retries, options } = harness({ attempts: 5 });
    const session = new FakeSession(8 * MiB, (call, offset) => (call <= 2 ? eio(offset) : undefined));
    const reader = new NbdDiskReader(session, noConnect, options);
    const data = await reader.read(MiB, 4096);
    expect(data.equals(patternAt(MiB, 4096))).to.equal(true);
    expect(session.calls).to.equal(3);
    expect(delays).to.deep.equal([100, 200]);
    expect(retries.map((r) => [r.attempt, r.offset, r.error.code])).to.deep.equal([[1, MiB, 'EIO'], [2, MiB, 'EIO']]);
  });

  it('gives up after the configured attempts with a message naming the offset', async () => {
    const { delays, options } = harness({ attempts: 4 });
    const session = new FakeSession(8 * MiB, (_call, offset) => eio(offset));
    const err = await rejection(new NbdDiskReader(session, noConnect, options).read(MiB, 4096));
    expect(session.calls).to.equal(4);
    expect(delays).to.deep.equal([100, 200, 300]);
    expect(err).to.include({ code: 'EIO', transient: true, offset: MiB, errno: 5 });
    expect(err.message).to.contain('at offset 1048576').and.contain('after 4 attempts');
    expect(err.cause).to.be.instanceOf(NbdError);
  });

  it('fails at once on a permanent error, naming the offset', async () => {
    const { retries, options } = harness({ attempts: 5 });
    const session = new FakeSession(8 * MiB, (_call, offset) => einval(offset));
    const err = await rejection(new NbdDiskReader(session, noConnect, options).read(2 * MiB, 512));
    expect(session.calls).to.equal(1);
    expect(retries).to.have.length(0);
    expect(err).to.include({ code: 'EINVAL', transient: false, offset: 2 * MiB });
    expect(err.message).to.match(/^NBD read of 512 bytes at offset 2097152 failed: /);
  });

  it('reconnects once for concurrent reads when the connection drops, and closes the old one', async () => {
    const { options } = harness();
    const first = new FakeSession(8 * MiB, (_call, offset) => dropped(offset));
    const second = new FakeSession(8 * MiB);
    let connects = 0;
    const reader = new NbdDiskReader(first, async () => { connects++; await new Promise((r) => setTimeout(r, 5)); return second; }, options);
    const [a, b] = await Promise.all([reader.read(0, 100), reader.read(MiB, 100)]);
    expect(a.equals(patternAt(0, 100)) && b.equals(patternAt(MiB, 100))).to.equal(true);
    expect(connects).to.equal(1);
    expect(first.closed).to.equal(true);
    expect(second.calls).to.equal(2);
  });

  it('reconnects over a real socket after the server drops the connection mid-read', async () => {
    let served = 0;
    const server = await startFakeServer({
      size: 4 * MiB,
      onRequest: (req, conn) => {
        if (++served === 1) return conn.destroy();
        return conn.send(replies.data(req.handle, req.offset, patternAt(req.offset, req.length), true));
      },
    });
    const { retries, options } = harness();
    const reader = await NbdDiskReader.open({ address: server.address }, options);
    try {
      expect((await reader.read(MiB, 8192)).equals(patternAt(MiB, 8192))).to.equal(true);
      expect(server.connections.length).to.equal(2);
      expect(retries.map((r) => r.error.code)).to.deep.equal(['CONNECTION_CLOSED']);
    } finally {
      await reader.close();
      await server.close();
    }
  });

  it('refuses a new connection whose disk size differs', async () => {
    const { options } = harness();
    const first = new FakeSession(8 * MiB, (_call, offset) => dropped(offset));
    const err = await rejection(new NbdDiskReader(first, async () => new FakeSession(9 * MiB), options).read(0, 100));
    expect(err).to.include({ transient: false });
    expect(err.message).to.contain('disk size changed');
  });

  it('takes a random share off each delay when jitter is set', async () => {
    const { delays, options } = harness({ attempts: 3, jitter: 0.5, random: () => 1 });
    const session = new FakeSession(MiB, (call, offset) => (call <= 2 ? eio(offset) : undefined));
    await new NbdDiskReader(session, noConnect, options).read(0, 1);
    expect(delays).to.deep.equal([50, 100]);
  });

  it('lets errors that are not NbdErrors through untouched', async () => {
    const boom = new TypeError('bug');
    const session = new FakeSession(MiB);
    session.read = async () => { throw boom; };
    const { retries, options } = harness();
    try {
      await new NbdDiskReader(session, noConnect, options).read(0, 1);
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.equal(boom);
    }
    expect(retries).to.have.length(0);
  });

  it('reports allocated extents as all but the zero-reading ones, merged', async () => {
    const map: Extent[] = [
      { offset: 0, length: 4096, flags: 0 }, { offset: 4096, length: 4096, flags: 1 }, { offset: 8192, length: 4096, flags: 3 },
      { offset: 12288, length: 4096, flags: 2 }, { offset: 16384, length: 16384, flags: 0 },
    ];
    const reader = new NbdDiskReader(new FakeSession(32768, undefined, ['base:allocation'], map), noConnect);
    expect(await reader.allocatedExtents()).to.deep.equal([{ offset: 0, length: 8192 }, { offset: 16384, length: 16384 }]);
    const blind = new NbdDiskReader(new FakeSession(32768, undefined, []), noConnect);
    expect(await blind.allocatedExtents()).to.deep.equal([{ offset: 0, length: 32768 }]);
  });

  it('refuses reads after close', async () => {
    const session = new FakeSession(MiB);
    const reader = new NbdDiskReader(session, noConnect);
    await reader.close();
    expect(session.closed).to.equal(true);
    expect(await rejection(reader.read(0, 1))).to.include({ code: 'CLOSED', transient: false });
  });
});
