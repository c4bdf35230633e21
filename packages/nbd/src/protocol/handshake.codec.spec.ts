import { expect } from 'chai';
import { NbdError } from '../nbd-error.js';
import {
  encodeClientFlags, encodeGo, encodeMetaContextRequest, encodeOption, isOptionError, optionErrorName, parseGreeting,
  parseInfoReply, parseMetaContextReply, parseOptionReplyHeader,
} from './handshake.codec.js';
import { Info, Option, OptionReply } from './constants.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s).toString('hex');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(NbdError);
    return (err as NbdError).code;
  }
  return undefined;
}

describe('nbd/protocol/handshake.codec', () => {
  it('reads the handshake flags of a fixed newstyle greeting', () => {
    expect(parseGreeting(hex(`${ascii('NBDMAGIC')} ${ascii('IHAVEOPT')} 0003`))).to.equal(3);
    expect(parseGreeting(hex(`${ascii('NBDMAGIC')} ${ascii('IHAVEOPT')} 0001`))).to.equal(1);
  });

  it('refuses oldstyle, non-fixed and non-NBD greetings', () => {
    expect(codeOf(() => parseGreeting(hex(`${ascii('NBDMAGIC')} 0042028186125300 0000`)))).to.equal('NOT_NEWSTYLE');
    expect(codeOf(() => parseGreeting(hex(`${ascii('NBDMAGIC')} ${ascii('IHAVEOPT')} 0002`)))).to.equal('NOT_NEWSTYLE');
    expect(codeOf(() => parseGreeting(Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n')))).to.equal('NOT_NEWSTYLE');
    expect(codeOf(() => parseGreeting(hex(ascii('NBDMAGIC'))))).to.equal('PROTOCOL');
  });

  it('encodes client flags and options byte for byte', () => {
    expect(encodeClientFlags(3).toString('hex')).to.equal('00000003');
    expect(encodeOption(Option.STRUCTURED_REPLY).toString('hex')).to.equal(`${ascii('IHAVEOPT')}0000000800000000`);
    expect(encodeOption(Option.GO, Buffer.from([0xaa, 0xbb])).toString('hex')).to.equal(`${ascii('IHAVEOPT')}0000000700000002aabb`);
  });

  it('encodes SET_META_CONTEXT as export name, count and length-prefixed queries', () => {
    const data = encodeMetaContextRequest('disk', ['base:allocation', 'qemu:dirty-bitmap:b0']);
    expect(data.toString('hex')).to.equal(
      `00000004${ascii('disk')}00000002` +
      `0000000f${ascii('base:allocation')}00000014${ascii('qemu:dirty-bitmap:b0')}`,
    );
  });

  it('encodes GO with the export name and the info items requested', () => {
    expect(encodeGo('', [Info.BLOCK_SIZE]).toString('hex')).to.equal('0000000000010003');
    expect(encodeGo('vm-7', []).toString('hex')).to.equal(`00000004${ascii('vm-7')}0000`);
  });

  it('parses option reply headers and refuses a bad magic', () => {
    const header = parseOptionReplyHeader(hex('0003e889045565a9 00000007 80000006 00000005'));
    expect(header).to.deep.equal({ option: 7, type: OptionReply.ERR_UNKNOWN, length: 5 });
    expect(isOptionError(header.type)).to.equal(true);
    expect(isOptionError(OptionReply.ACK)).to.equal(false);
    expect(optionErrorName(header.type)).to.equal('NBD_REP_ERR_UNKNOWN');
    expect(optionErrorName(0x800000ff)).to.equal('NBD_REP_ERR_0x800000ff');
    expect(codeOf(() => parseOptionReplyHeader(hex('0003e889045565aa 00000007 00000001 00000000')))).to.equal('PROTOCOL');
  });

  it('parses NBD_INFO_EXPORT, NBD_INFO_BLOCK_SIZE and skips unknown items', () => {
    expect(parseInfoReply(hex('0000 0000010000000005 058b'))).to.deep.equal({ kind: 'export', size: 2 ** 40 + 5, transmissionFlags: 0x58b });
    expect(parseInfoReply(hex('0003 00000200 00001000 02000000'))).to.deep.equal({ kind: 'block-size', minimum: 512, preferred: 4096, maximum: 32 << 20 });
    expect(parseInfoReply(hex(`0001 ${ascii('disk')}`))).to.deep.equal({ kind: 'other', infoType: 1 });
  });

  it('refuses export sizes beyond 2^53 and inconsistent block sizes', () => {
    expect(codeOf(() => parseInfoReply(hex('0000 0020000000000000 0001')))).to.equal('PROTOCOL');
    expect(codeOf(() => parseInfoReply(hex('0000 00000000000005')))).to.equal('PROTOCOL');
    expect(codeOf(() => parseInfoReply(hex('0003 00000300 00001000 02000000')))).to.equal('PROTOCOL');
    expect(codeOf(() => parseInfoReply(hex('0003 00001000 00000200 02000000')))).to.equal('PROTOCOL');
  });

  it('parses NBD_REP_META_CONTEXT as id and name', () => {
    expect(parseMetaContextReply(hex(`00000007 ${ascii('base:allocation')}`))).to.deep.equal({ id: 7, name: 'base:allocation' });
    expect(codeOf(() => parseMetaContextReply(hex('0000')))).to.equal('PROTOCOL');
  });
});
