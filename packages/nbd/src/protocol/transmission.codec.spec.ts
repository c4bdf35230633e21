import { expect } from 'chai';
import { NbdError, errnoCode, isTransientErrno, serverError } from '../nbd-error.js';
import { ChunkType, Command, Errno } from './constants.js';
import {
  encodeRequest, isErrorChunk, mergeExtents, parseBlockStatusChunk, parseErrorChunk, parseHoleChunk,
  parseSimpleReplyHeader, parseStructuredReplyHeader, placeExtents,
} from './transmission.codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(NbdError);
    return (err as NbdError).code;
  }
  return undefined;
}

describe('nbd/protocol/transmission.codec', () => {
  it('encodes a request header byte for byte', () => {
    const buf = encodeRequest({ flags: 8, command: Command.BLOCK_STATUS, handle: 0x0102030405060708n, offset: 2 ** 33 + 1, length: 4096 });
    expect(buf.toString('hex')).to.equal('25609513 0008 0007 0102030405060708 0000000200000001 00001000'.replace(/ /g, ''));
  });

  it('parses simple and structured reply headers', () => {
    expect(parseSimpleReplyHeader(hex('67446698 00000005 00000000000000ff'))).to.deep.equal({ errno: 5, handle: 255n });
    expect(parseStructuredReplyHeader(hex('668e33ef 0001 0002 0000000000000009 0000000c')))
      .to.deep.equal({ flags: 1, type: ChunkType.OFFSET_HOLE, handle: 9n, length: 12 });
    expect(codeOf(() => parseSimpleReplyHeader(hex('668e33ef 00000005 00000000000000ff')))).to.equal('PROTOCOL');
  });

  it('parses OFFSET_HOLE and refuses empty holes or wrong sizes', () => {
    expect(parseHoleChunk(hex('0000000000100000 00010000'))).to.deep.equal({ offset: 1 << 20, length: 65536 });
    expect(codeOf(() => parseHoleChunk(hex('0000000000100000 00000000')))).to.equal('PROTOCOL');
    expect(codeOf(() => parseHoleChunk(hex('0000000000100000 0001')))).to.equal('PROTOCOL');
  });

  it('parses BLOCK_STATUS descriptors and refuses ragged payloads', () => {
    expect(parseBlockStatusChunk(hex('00000002 00010000 00000003 00020000 00000000'))).to.deep.equal({
      contextId: 2,
      extents: [{ length: 65536, flags: 3 }, { length: 131072, flags: 0 }],
    });
    expect(codeOf(() => parseBlockStatusChunk(hex('00000002')))).to.equal('PROTOCOL');
    expect(codeOf(() => parseBlockStatusChunk(hex('00000002 00010000 0000')))).to.equal('PROTOCOL');
  });

  it('parses ERROR and ERROR_OFFSET chunks', () => {
    const msg = Buffer.from('disk gone').toString('hex');
    expect(parseErrorChunk(ChunkType.ERROR, hex(`00000005 0009 ${msg}`))).to.deep.equal({ errno: 5, message: 'disk gone' });
    expect(parseErrorChunk(ChunkType.ERROR_OFFSET, hex(`00000016 0009 ${msg} 0000000000200000`)))
      .to.deep.equal({ errno: 22, message: 'disk gone', offset: 2 << 20 });
    expect(parseErrorChunk(0x8123, hex('00000005 0000'))).to.deep.equal({ errno: 5, message: '' });
    expect(isErrorChunk(0x8123)).to.equal(true);
    expect(isErrorChunk(ChunkType.OFFSET_DATA)).to.equal(false);
  });

  it('refuses error chunks that overrun, lack their offset or carry errno 0', () => {
    expect(codeOf(() => parseErrorChunk(ChunkType.ERROR, hex('00000005 0010 6869')))).to.equal('PROTOCOL');
    expect(codeOf(() => parseErrorChunk(ChunkType.ERROR_OFFSET, hex('00000005 0000')))).to.equal('PROTOCOL');
    expect(codeOf(() => parseErrorChunk(ChunkType.ERROR, hex('00000000 0000')))).to.equal('PROTOCOL');
  });

  it('places descriptors from the request offset and clips them to the range', () => {
    const placed = placeExtents(4096, [{ length: 4096, flags: 3 }, { length: 1 << 20, flags: 0 }, { length: 512, flags: 3 }], 65536);
    expect(placed).to.deep.equal([{ offset: 4096, length: 4096, flags: 3 }, { offset: 8192, length: 57344, flags: 0 }]);
    expect(codeOf(() => placeExtents(0, [{ length: 0, flags: 0 }], 10))).to.equal('PROTOCOL');
  });

  it('merges neighbours with equal flags only', () => {
    const merged = mergeExtents([
      { offset: 0, length: 10, flags: 1 }, { offset: 10, length: 5, flags: 1 }, { offset: 15, length: 5, flags: 0 }, { offset: 30, length: 5, flags: 0 },
    ]);
    expect(merged).to.deep.equal([{ offset: 0, length: 15, flags: 1 }, { offset: 15, length: 5, flags: 0 }, { offset: 30, length: 5, flags: 0 }]);
  });

  it('classifies server errnos: EIO, ENOMEM, ESHUTDOWN transient; EINVAL and the rest permanent', () => {
    expect([Errno.EIO, Errno.ENOMEM, Errno.ESHUTDOWN].map(isTransientErrno)).to.deep.equal([true, true, true]);
    expect([Errno.EINVAL, Errno.EPERM, Errno.ENOSPC, Errno.EOVERFLOW, Errno.ENOTSUP, 999].map(isTransientErrno))
      .to.deep.equal([false, false, false, false, false, false]);
    expect(errnoCode(22)).to.equal('EINVAL');
    expect(errnoCode(999)).to.equal('EUNKNOWN');
    const err = serverError('READ', Errno.EIO, { offset: 123456789, length: 4096 }, 'bad sector');
    expect(err).to.include({ code: 'EIO', transient: true, offset: 123456789, length: 4096, errno: 5 });
    expect(err.message).to.contain('offset 123456789').and.contain('bad sector');
  });
});
