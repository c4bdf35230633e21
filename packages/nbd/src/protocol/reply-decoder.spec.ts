import { expect } from 'chai';
import { NbdError } from '../nbd-error.js';
import { patternAt, replies } from '../testing/fake-nbd-server.js';
import { ReplyDecoder, type ReadDestination, type ReplyChunk, type ReplyRouter } from './reply-decoder.js';

/** Router over a fixed table of requests, logging what the decoder reports. */
class Recorder implements ReplyRouter {
  readonly log: string[] = [];
  constructor(readonly table: Map<bigint, ReadDestination | null>) {}
  destination(handle: bigint): ReadDestination | null | undefined {
    return this.table.get(handle);
  }
  simpleReply(handle: bigint, errno: number): void {
    this.log.push(`simple ${handle} errno=${errno}`);
  }
  chunk(handle: bigint, c: ReplyChunk, done: boolean): void {
    const detail = c.type === 'data' || c.type === 'hole' ? `${c.offset}+${c.length}`
      : c.type === 'block-status' ? `ctx${c.contextId} ${c.extents.map((e) => `${e.length}/${e.flags}`).join(',')}`
      : c.type === 'error' ? `errno=${c.errno} "${c.message}" at=${c.offset ?? '-'}` : '';
    this.log.push(`${handle} ${c.type} ${detail}${done ? ' DONE' : ''}`);
  }
}

function setup(): { recorder: Recorder; a: Buffer; b: Buffer; c: Buffer } {
  const a = Buffer.alloc(512, 0xee);
  const b = Buffer.alloc(256, 0xee);
  const c = Buffer.alloc(100, 0xee);
  const table = new Map<bigint, ReadDestination | null>([
    [1n, { buffer: a, bufferOffset: 0, offset: 65536, length: 512 }],
    [2n, { buffer: b, bufferOffset: 0, offset: 0, length: 256 }],
    [3n, null],
    [4n, { buffer: c, bufferOffset: 10, offset: 5000, length: 90 }],
  ]);
  return { recorder: new Recorder(table), a, b, c };
}

// Replies of handles 1 (read 64K+8K) and 2 (read 0+4K) interleaved, a block status, an error chunk and a
// simple reply carrying read data (as a server without structured replies sends).
const stream = Buffer.concat([
  replies.data(1n, 65536 + 256, patternAt(65536 + 256, 256)),
  replies.hole(2n, 0, 64),
  replies.hole(1n, 65536, 256),
  replies.blockStatus(3n, 7, [[65536, 3], [4096, 0]], true),
  replies.data(2n, 64, patternAt(64, 192), true),
  replies.error(1n, 5, 'media error', false, 65536 + 100),
  replies.none(1n),
  replies.simple(4n, 0, patternAt(5000, 90)),
  replies.simple(3n, 22),
]);

const expectedLog = [
  '1 data 65792+256',
  '2 hole 0+64',
  '1 hole 65536+256',
  '3 block-status ctx7 65536/3,4096/0 DONE',
  '2 data 64+192 DONE',
  '1 error errno=5 "media error" at=65636',
  '1 none  DONE',
  'simple 4 errno=0',
  'simple 3 errno=22',
];

function checkBuffers(a: Buffer, b: Buffer, c: Buffer): void {
  expect(a.subarray(0, 256).equals(Buffer.alloc(256))).to.equal(true);
  expect(a.subarray(256).equals(patternAt(65536 + 256, 256))).to.equal(true);
  expect(b.subarray(0, 64).equals(Buffer.alloc(64))).to.equal(true);
  expect(b.subarray(64).equals(patternAt(64, 192))).to.equal(true);
  expect(c.subarray(0, 10).equals(Buffer.alloc(10, 0xee))).to.equal(true);
  expect(c.subarray(10).equals(patternAt(5000, 90))).to.equal(true);
}

function protocolCode(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(NbdError);
    return (err as NbdError).code;
  }
  return undefined;
}

describe('nbd/protocol/reply-decoder', () => {
  it('decodes interleaved simple and structured replies fed at once', () => {
    const { recorder, a, b, c } = setup();
    const decoder = new ReplyDecoder(recorder);
    decoder.push(stream);
    expect(recorder.log).to.deep.equal(expectedLog);
    expect(decoder.idle).to.equal(true);
    checkBuffers(a, b, c);
  });

  it('gives the same result however the stream is cut in two', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { recorder, a, b, c } = setup();
      const decoder = new ReplyDecoder(recorder);
      decoder.push(stream.subarray(0, cut));
      decoder.push(stream.subarray(cut));
      expect(recorder.log, `cut at ${cut}`).to.deep.equal(expectedLog);
      checkBuffers(a, b, c);
    }
  });

  it('gives the same result byte by byte, reusing one input buffer as a socket reader does', () => {
    const { recorder, a, b, c } = setup();
    const decoder = new ReplyDecoder(recorder);
    const scratch = Buffer.alloc(3);
    for (let at = 0; at < stream.length; at += 3) {
      const n = stream.copy(scratch, 0, at, Math.min(at + 3, stream.length));
      decoder.push(scratch.subarray(0, n));
      scratch.fill(0x5a);
    }
    expect(recorder.log).to.deep.equal(expectedLog);
    checkBuffers(a, b, c);
    expect(decoder.idle).to.equal(true);
  });

  it('reports a partial reply as not idle', () => {
    const decoder = new ReplyDecoder(setup().recorder);
    decoder.push(stream.subarray(0, 30));
    expect(decoder.idle).to.equal(false);
  });

  const violations: Array<[string, Buffer]> = [
    ['bad magic', Buffer.from('deadbeef00000000000000000000000000000000', 'hex')],
    ['unknown handle', replies.hole(99n, 0, 10, true)],
    ['data outside the request', replies.data(2n, 200, Buffer.alloc(100), true)],
    ['hole outside the request', replies.hole(1n, 0, 256, true)],
    ['data for a request without data', replies.data(3n, 0, Buffer.alloc(8), true)],
    ['unknown non-error chunk type', Buffer.concat([replies.none(3n).subarray(0, 6), Buffer.from([0x00, 0x09]), replies.none(3n).subarray(8)])],
    ['NONE with a payload', replies.blockStatus(3n, 1, [[1, 1]], true).fill(0, 6, 8)],
  ];
  for (const [name, bytes] of violations) {
    it(`refuses ${name} as a protocol violation and stays failed`, () => {
      const decoder = new ReplyDecoder(setup().recorder);
      expect(protocolCode(() => decoder.push(bytes))).to.equal('PROTOCOL');
      expect(protocolCode(() => decoder.push(replies.none(3n)))).to.equal('PROTOCOL');
    });
  }

  it('refuses a non-data payload beyond its ceiling before buffering it', () => {
    const decoder = new ReplyDecoder(setup().recorder, 64);
    expect(protocolCode(() => decoder.push(replies.blockStatus(3n, 1, Array.from({ length: 10 }, () => [1, 0] as [number, number]), true).subarray(0, 20)))).to.equal('PROTOCOL');
  });

  it('passes unknown error chunk types on as errors', () => {
    const { recorder } = setup();
    const bytes = replies.error(3n, 5, 'odd', true);
    bytes.writeUInt16BE(0x8077, 6);
    new ReplyDecoder(recorder).push(bytes);
    expect(recorder.log).to.deep.equal(['3 error errno=5 "odd" at=- DONE']);
  });
});
