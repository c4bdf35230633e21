import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository, RepositoryError, type RestoreSink } from '@vaultflow/backup-repository';
import { DirtyFlag, NbdDiskReader, type ReadInto } from '@vaultflow/nbd';
import { runTool, startNbdkit, startQemuNbd, type NbdServer } from '../../nbd/src/testing/servers.js';
import { planReads } from './cbt-planner.js';
import { transferDisk, type ExtentReader, type ExtentWriter } from './disk-transfer.js';
import { TransferError } from './transfer-error.js';

// transferDisk over the other transport: NbdDiskReader against qemu-nbd (base:allocation for a full, a
// qemu dirty bitmap as the change oracle of an incremental) and against nbdkit slowed by its delay
// filter, to cancel a transfer midway.

const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function restored(repo: Repository, pointId: string, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink: RestoreSink = { async write(data) { parts.push(Buffer.from(data)); } };
  await repo.restoreDisk(pointId, key, sink);
  return Buffer.concat(parts);
}

describe('disk transfer through NbdDiskReader (integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let repo: Repository;
  const servers: NbdServer[] = [];
  const readers: NbdDiskReader[] = [];

  const open = async (server: NbdServer, metaContexts: string[] = []): Promise<NbdDiskReader> => {
    const r = await NbdDiskReader.open({ address: { socketPath: server.socket }, exportName: server.exportName, metaContexts });
    readers.push(r);
    return r;
  };
  const qemuIo = (image: string, ...commands: string[]): Promise<string> =>
    runTool('qemu-io', ['-f', 'qcow2', ...commands.flatMap((c) => ['-c', c]), join(dir, image)]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vaultflow-transfer-nbd-'));
    repo = await Repository.init(join(dir, 'repo'));
  });
  afterEach(async () => {
    for (const r of readers.splice(0)) await r.close().catch(() => undefined);
    for (const s of servers.splice(0)) await s.stop();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a full from base:allocation and an incremental from a qemu dirty bitmap restore bit-identical', async () => {
    // 8 MiB: random, a 2 MiB zero run, random, a zero tail; qcow2 keeps the zero runs unallocated
    const gen1 = Buffer.concat([randomBytes(2 * MiB), Buffer.alloc(2 * MiB), randomBytes(1 * MiB + 320 * KiB), Buffer.alloc(2 * MiB + 704 * KiB)]);
    await writeFile(join(dir, 'gen1.raw'), gen1);
    await runTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', join(dir, 'gen1.raw'), join(dir, 'live.qcow2')]);

    let server = await startQemuNbd(join(dir, 'live.qcow2'));
    servers.push(server);
    let reader = await open(server);
    const allocated = await reader.allocatedExtents();
    const full = planReads(allocated, MiB, reader.size);
    expect(full.bytes).to.equal(3 * MiB + 320 * KiB); // the zero runs are not read
    const w1 = await repo.beginPoint({ vm: 'vm-nbd' });
    w1.addDisk({ key: '2000', capacity: reader.size, mode: 'full' });
    const r1 = await transferDisk({ reader, reads: full.reads, writer: w1, diskKey: '2000', concurrency: 4 });
    expect(r1).to.deep.equal({ bytesRead: full.bytes, bytesData: full.bytes, bytesZero: 0, bytesHoles: 0, reads: full.reads.length });
    const p1 = await w1.commit();
    expect(sha256(await restored(repo, p1.id, '2000'))).to.equal(sha256(gen1));
    for (const s of servers.splice(0)) await s.stop();
    readers.length = 0;

    // changes tracked by a persistent dirty bitmap: inside a cluster, across clusters, a zero write over data
    await runTool('qemu-img', ['bitmap', '--add', join(dir, 'live.qcow2'), 'b0']);
    await qemuIo('live.qcow2', 'write -P 0x33 196708 10', 'write -P 0x44 4193304 5000', 'write -z 1M 64K', 'write -P 0x55 8388607 1');
    await runTool('qemu-img', ['convert', '-q', '-O', 'raw', join(dir, 'live.qcow2'), join(dir, 'gen2.raw')]);
    const gen2 = await readFile(join(dir, 'gen2.raw'));

    server = await startQemuNbd(join(dir, 'live.qcow2'), { bitmap: 'b0' });
    servers.push(server);
    reader = await open(server, ['qemu:dirty-bitmap:b0']);
    const dirty = (await reader.extents('qemu:dirty-bitmap:b0')).filter((e) => (e.flags & DirtyFlag.DIRTY) !== 0);
    const incr = planReads(dirty, MiB, reader.size);
    expect(incr.extents).to.deep.equal([
      { offset: 192 * KiB, length: 64 * KiB }, { offset: MiB, length: 64 * KiB }, { offset: 4032 * KiB, length: 128 * KiB }, { offset: 8128 * KiB, length: 64 * KiB },
    ]);
    const w2 = await repo.beginPoint({ vm: 'vm-nbd', parent: p1.id });
    w2.addDisk({ key: '2000', capacity: reader.size, mode: 'incremental' });
    const r2 = await transferDisk({ reader, reads: incr.reads, writer: w2, diskKey: '2000' });
    // only the dirty clusters were read (the extent across 4 MiB in two reads); the zeroed one was recorded, not stored
    expect(r2).to.deep.equal({ bytesRead: 320 * KiB, bytesData: 256 * KiB, bytesZero: 64 * KiB, bytesHoles: 0, reads: 5 });
    const p2 = await w2.commit();
    expect(sha256(await restored(repo, p2.id, '2000'))).to.equal(sha256(gen2));
    expect(sha256(await restored(repo, p1.id, '2000'))).to.equal(sha256(gen1));
  });

  it('an abort mid-transfer stops reading within a second; the aborted point leaves nothing behind', async () => {
    const image = randomBytes(8 * MiB);
    await writeFile(join(dir, 'slow.raw'), image);
    const server = await startNbdkit(['file', `file=${join(dir, 'slow.raw')}`, 'rdelay=100ms'], { filters: ['delay'], readonly: true });
    servers.push(server);
    const nbd = await open(server);
    const plan = planReads([{ offset: 0, length: nbd.size }], 256 * KiB);
    expect(plan.reads).to.have.length(32);

    let abortedAt = 0;
    const readsAfterAbort: number[] = [];
    const reader: ExtentReader = {
      read(offset: number, length: number, into?: ReadInto) {
        if (abortedAt) readsAfterAbort.push(offset);
        return nbd.read(offset, length, into);
      },
    };
    const own = await mkdtemp(join(dir, 'cancel-'));
    const cancelRepo = await Repository.init(own);
    const writer = await cancelRepo.beginPoint({ vm: 'vm-cancel' });
    writer.addDisk({ key: '2000', capacity: nbd.size, mode: 'full' });
    let written = 0;
    const counting: ExtentWriter = {
      async writeExtent(key, offset, data) {
        await writer.writeExtent(key, offset, data);
        written++;
      },
      zeroExtent: (key, offset, length) => writer.zeroExtent(key, offset, length),
    };

    const ac = new AbortController();
    const run = transferDisk({ reader, reads: plan.reads, writer: counting, diskKey: '2000', concurrency: 2, signal: ac.signal });
    setTimeout(() => {
      abortedAt = Date.now();
      ac.abort(new Error('backup cancelled'));
    }, 450);
    const err = await run.then(() => undefined, (e: unknown) => e);
    const stoppedAfterMs = Date.now() - abortedAt;
    expect(err).to.be.instanceOf(TransferError);
    expect((err as TransferError).code).to.equal('ABORTED');
    expect(stoppedAfterMs).to.be.below(1000);
    expect(readsAfterAbort).to.deep.equal([]);
    expect(written).to.be.within(1, 16); // about 2 reads per 100 ms until the abort, far from the 32 planned

    await writer.abort();
    expect(await cancelRepo.listPoints()).to.deep.equal([]);
    const commit = await writer.commit().then(() => undefined, (e: unknown) => e);
    expect(commit).to.be.instanceOf(RepositoryError);
    expect((commit as RepositoryError).code).to.equal('WRITER_CLOSED');
    expect(await readdir(join(own, 'points'))).to.deep.equal([]);
    expect(await readdir(join(own, 'packs'))).to.deep.equal([]); // the open pack's temp file was removed
  });
});
