import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NbdClient } from './nbd-client.js';
import { NbdDiskReader } from './nbd-disk-reader.js';
import { AllocationFlag, DirtyFlag } from './protocol/constants.js';
import { type NbdServer, runTool, startQemuNbd } from './testing/servers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// Integration against a real qemu-nbd (qemu-utils): whole reads against the file's sha256, holes, and
// qemu's persistent dirty bitmaps as a change-tracking oracle independent of VMware.
describe('nbd against qemu-nbd', function () {
  this.timeout(20_000);
  let dir: string;
  let raw: Buffer;
  const servers: NbdServer[] = [];
  const clients: Array<{ close(): Promise<void> }> = [];

  const serve = async (image: string, options: Parameters<typeof startQemuNbd>[1] = {}): Promise<NbdServer> => {
    const s = await startQemuNbd(join(dir, image), options);
    servers.push(s);
    return s;
  };
  const connect = async (s: NbdServer, metaContexts: string[] = [], extra = {}): Promise<NbdClient> => {
    const c = await NbdClient.connect({ address: { socketPath: s.socket }, exportName: s.exportName, metaContexts, ...extra });
    clients.push(c);
    return c;
  };
  const qemuIo = (image: string, ...commands: string[]): Promise<string> =>
    runTool('qemu-io', ['-f', 'qcow2', ...commands.flatMap((c) => ['-c', c]), join(dir, image)]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vaultflow-nbd-qemu-'));
    // 6 MiB + 25 sectors: random data, a 2 MiB zero run in the middle and a zero tail.
    raw = Buffer.concat([randomBytes(2 * MiB), Buffer.alloc(2 * MiB), randomBytes(2 * MiB - 100 * KiB), Buffer.alloc(100 * KiB + 12800)]);
    await writeFile(join(dir, 'data.raw'), raw);
    await runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', join(dir, 'data.raw'), join(dir, 'data.qcow2')]);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    for (const s of servers.splice(0)) await s.stop();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a raw image whole, matching the file sha256, in bounded pieces into a dirty buffer', async () => {
    const client = await connect(await serve('data.raw'), [], { maxRequestBytes: MiB, maxInFlight: 3 });
    expect(client.size).to.equal(raw.length);
    expect(client.readOnly).to.equal(true);
    const into = Buffer.alloc(raw.length, 0xff);
    await client.read(0, client.size, { buffer: into });
    expect(sha256(into)).to.equal(sha256(raw));
    for (const [offset, length] of [[1, 1], [2 * MiB - 7, 14], [1_234_567, 3 * MiB + 3], [raw.length - 513, 513]] as const) {
      expect((await client.read(offset, length)).equals(raw.subarray(offset, offset + length)), `at ${offset}`).to.equal(true);
    }
  });

  it('reads a qcow2 image whose zero runs come back as holes, matching the raw source', async () => {
    const client = await connect(await serve('data.qcow2'), ['base:allocation']);
    const zeroRuns = (await client.extents('base:allocation')).filter((e) => (e.flags & AllocationFlag.ZERO) !== 0);
    expect(zeroRuns.reduce((n, e) => n + e.length, 0)).to.be.at.least(2 * MiB);
    const into = Buffer.alloc(raw.length, 0xff);
    await client.read(0, client.size, { buffer: into });
    expect(sha256(into)).to.equal(sha256(raw));
  });

  it('reports exactly the written clusters as data through base:allocation on a sparse image', async () => {
    await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'sparse.qcow2'), '8M']);
    await qemuIo('sparse.qcow2', 'write -P 0x11 1M 64K', 'write -P 0x22 5M 128K', 'write -P 0x33 8128K 64K');
    const server = await serve('sparse.qcow2');
    const client = await connect(server, ['base:allocation']);
    const map = await client.extents('base:allocation');
    expect(map.filter((e) => e.flags === 0).map((e) => [e.offset, e.length])).to.deep.equal([[MiB, 64 * KiB], [5 * MiB, 128 * KiB], [8128 * KiB, 64 * KiB]]);
    for (const hole of map.filter((e) => e.flags !== 0)) expect(hole.flags).to.equal(AllocationFlag.HOLE | AllocationFlag.ZERO);
    expect(map.reduce((n, e) => n + e.length, 0)).to.equal(8 * MiB);

    const reader = await NbdDiskReader.open({ address: { socketPath: server.socket }, exportName: server.exportName });
    clients.push(reader);
    expect(await reader.allocatedExtents()).to.deep.equal([{ offset: MiB, length: 64 * KiB }, { offset: 5 * MiB, length: 128 * KiB }, { offset: 8128 * KiB, length: 64 * KiB }]);
    expect((await reader.read(5 * MiB, 128 * KiB)).equals(Buffer.alloc(128 * KiB, 0x22))).to.equal(true);
  });

  it('gives exactly the written 64 KiB extents of a dirty bitmap, enough to rebuild the new image from the old', async () => {
    await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'live.qcow2'), '8M']);
    await qemuIo('live.qcow2', 'write -P 0x11 0 300K', 'write -P 0x22 6M 70K');
    await runTool('qemu-img', ['convert', '-O', 'raw', join(dir, 'live.qcow2'), join(dir, 'gen1.raw')]);
    await runTool('qemu-img', ['bitmap', '--add', join(dir, 'live.qcow2'), 'b0']);
    // One write inside a cluster, one across a cluster boundary, one zero write (which counts as dirty).
    await qemuIo('live.qcow2', 'write -P 0x33 196708 10', 'write -P 0x44 4193304 5000', 'write -z 7M 4K');
    await runTool('qemu-img', ['convert', '-O', 'raw', join(dir, 'live.qcow2'), join(dir, 'gen2.raw')]);

    const client = await connect(await serve('live.qcow2', { bitmap: 'b0' }), ['base:allocation', 'qemu:dirty-bitmap:b0']);
    expect(client.contexts).to.have.members(['base:allocation', 'qemu:dirty-bitmap:b0']);
    const map = await client.extents('qemu:dirty-bitmap:b0');
    const dirty = map.filter((e) => (e.flags & DirtyFlag.DIRTY) !== 0);
    expect(dirty.map((e) => [e.offset, e.length])).to.deep.equal([[196608, 64 * KiB], [4128768, 128 * KiB], [7 * MiB, 64 * KiB]]);
    expect(map.reduce((n, e) => n + e.length, 0)).to.equal(8 * MiB);

    const restored = await readFile(join(dir, 'gen1.raw'));
    const gen2 = await readFile(join(dir, 'gen2.raw'));
    expect(sha256(restored)).to.not.equal(sha256(gen2));
    for (const e of dirty) await client.read(e.offset, e.length, { buffer: restored, offset: e.offset });
    expect(sha256(restored)).to.equal(sha256(gen2));
  });
});
