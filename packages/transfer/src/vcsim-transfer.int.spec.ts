import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository, type PointInfo } from '@vaultflow/backup-repository';
import { snapshotName, VsphereClient, type VirtualDiskInfo } from '@vaultflow/vsphere';
import { startVcsim, type Vcsim, type VcsimVm } from '../../testing/src/vcsim.js';
import { planReads, planVmDisks, queryPlannedAreas, type DiskPlan, type PreviousDiskRecord } from './cbt-planner.js';
import { transferDisk, type TransferProgress, type TransferResult } from './disk-transfer.js';
import { HttpFolderReader } from './http-folder-reader.js';
import { restoredSha256 } from '../../backup-repository/src/testing/restored-sha.js';

// The transfer pieces composed the way the backup worker will: snapshot, plan, changed areas (with the
// FileFault fallback), /folder range reads, a restore point; each restore compared with the simulator's
// frozen snapshot file.

const KiB = 1024;
const MiB = 1024 * KiB;
const B = 64 * KiB; // the harness's change-tracking block
const DISK_MB = 6;
const CAPACITY = DISK_MB * MiB;

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic non-zero text, so every block it touches counts as allocated/changed. */
function text(n: number, seed: number): Buffer {
  const line = Buffer.from(`vaultflow guest block ${seed}: lorem ipsum dolor sit amet\n`);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = line[(i + seed) % line.length]!;
  return b;
}

/** Random bytes without any zero, so a block is never all zero by chance. */
function noise(n: number): Buffer {
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) if (b[i] === 0) b[i] = 1;
  return b;
}

/** The blocks of `image` holding a non-zero byte. */
function nonZeroBlocks(image: Buffer): number[] {
  const out: number[] = [];
  for (let b = 0; b * B < image.length; b++) if (image.subarray(b * B, (b + 1) * B).some((x) => x !== 0)) out.push(b);
  return out;
}

const restoredSha = (repo: Repository, pointId: string, key: string) => restoredSha256(repo, pointId, key, CAPACITY);

interface DiskOutcome {
  disk: VirtualDiskInfo;
  plan: DiskPlan;
  queried: string[];
  areas: Array<{ start: number; length: number }>;
  result: TransferResult;
  progress: TransferProgress[];
}

describe('disk transfer against vcsim (integration)', function () {
  this.timeout(60_000);
  let vc: Vcsim;
  let client: VsphereClient;
  let vm: VcsimVm;
  let dir: string;
  let repo: Repository;
  const records = new Map<string, PreviousDiskRecord>(); // by disk key: what the worker stores after commit
  const points: PointInfo[] = [];
  const frozen: Array<Map<string, Buffer>> = []; // per generation: disk key -> frozen snapshot bytes
  let keyA: string;
  let keyB: string;

  /** One generation of a VM backup: snapshot, plan, query, transfer both disks in parallel, commit. */
  async function backup(opts: { afterSnapshot?: () => Promise<void> } = {}): Promise<Map<string, DiskOutcome>> {
    const snap = (await client.createSnapshot(vm.ref, snapshotName(`transfer-${points.length + 1}`), '', false)).snapshot;
    try {
      await opts.afterSnapshot?.();
      const disks = await client.snapshotDisks(snap);
      const live = new Map((await client.getVm(vm.ref)).disks.map((d) => [d.key, d]));
      const harness = (await vc.info()).vms[0]!.snapshots.find((s) => s.ref === snap.value)!;
      frozen.push(new Map(await Promise.all(harness.disks.map(async (d) => [String(d.key), await readFile(d.flatPath)] as const))));

      const parent = points[points.length - 1];
      const writer = await repo.beginPoint({ vm: vm.ref, ...(parent ? { parent: parent.id } : {}) });
      const outcomes = new Map<string, DiskOutcome>();
      try {
        const current = disks.map((d) => ({
          uuid: d.uuid ?? live.get(d.key)?.uuid, key: String(d.key), capacity: d.capacityBytes, changeId: d.changeId, requested: 'auto' as const,
        }));
        const { disks: plans, removed } = planVmDisks([...records.values()], current);
        expect(removed).to.deep.equal([]);
        await Promise.all(disks.map(async (disk, i) => {
          const key = String(disk.key);
          const { plan: planned, disk: { uuid } } = plans[i]!;
          const queried: string[] = [];
          const { plan, areas } = await queryPlannedAreas(planned, key, (changeId) => {
            queried.push(changeId);
            return client.changedDiskAreas(vm.ref, snap, disk.key, changeId, disk.capacityBytes);
          });
          writer.addDisk({ key, capacity: disk.capacityBytes, uuid: uuid ?? null, change_id: plan.recordChangeId, mode: plan.mode });
          const reader = await HttpFolderReader.forDisk(client, { fileName: disk.fileName!, capacityBytes: disk.capacityBytes }, vc.datacenter, { maxRequestBytes: 256 * KiB });
          const progress: TransferProgress[] = [];
          try {
            const reads = planReads(areas, MiB, disk.capacityBytes).reads;
            const result = await transferDisk({ reader, reads, writer, diskKey: key, diskName: disk.fileName!, concurrency: 3, onProgress: (p) => progress.push(p) });
            outcomes.set(key, { disk, plan, queried, areas, result, progress });
          } finally {
            await reader.close();
          }
        }));
        points.push(await writer.commit());
      } catch (err) {
        await writer.abort();
        throw err;
      }
      // only after the commit: the new change ids
      for (const [key, o] of outcomes) {
        records.set(key, { diskUuid: o.disk.uuid ?? live.get(o.disk.key)?.uuid ?? null, deviceKey: key, capacity: o.disk.capacityBytes, changeId: o.plan.recordChangeId });
      }
      return outcomes;
    } finally {
      await client.removeSnapshot(snap);
    }
  }

  before(async () => {
    vc = await startVcsim({ vms: 1, disks: 2, diskMb: DISK_MB, pageBytes: MiB });
    vm = (await vc.info()).vms[0]!;
    [keyA, keyB] = vm.disks.map((d) => String(d.key)) as [string, string];
    client = await VsphereClient.connect({ url: vc.sdkUrl, username: vc.username, password: vc.password, keepAliveMs: 0 });
    await client.reconfigureCbt(vm.ref, true);
    dir = await mkdtemp(join(tmpdir(), 'vaultflow-transfer-'));
    repo = await Repository.init(join(dir, 'repo'));
  });
  after(async () => {
    await client?.logout();
    await vc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a full reads only the allocated 64 KiB blocks of the snapshot and restores bit-identical', async () => {
    const a = Number(keyA);
    const b = Number(keyB);
    await vc.write(vm.ref, a, 0, noise(MiB + 512 * KiB));
    await vc.write(vm.ref, a, 2 * MiB, text(200 * KiB, 1));
    await vc.write(vm.ref, a, 3 * MiB, Buffer.alloc(B)); // written zeros: not allocated content
    await vc.write(vm.ref, a, 4 * MiB - 10, text(20, 2)); // crosses a block boundary
    await vc.write(vm.ref, a, CAPACITY - 1, Buffer.from([0x7f])); // the last byte
    await vc.write(vm.ref, b, MiB, Buffer.concat([noise(MiB), Buffer.alloc(2 * B), noise(MiB - 2 * B)]));

    const out = await backup({
      // guest writes after the snapshot must not reach the backup (they are generation 2's changes)
      afterSnapshot: async () => {
        await vc.write(vm.ref, a, 100 * KiB, text(10, 3)); // block 1
        await vc.write(vm.ref, a, 5 * B, Buffer.alloc(B)); // block 5 was noise, now zero
        await vc.write(vm.ref, a, 2 * MiB + 62 * KiB, text(4 * KiB, 4)); // blocks 32 and 33
        await vc.write(vm.ref, a, CAPACITY - 1, Buffer.from([0x80])); // block 95
        await vc.write(vm.ref, b, 5 * MiB, Buffer.from([1])); // block 80, was zero
      },
    });
    const point = points[0]!;
    for (const key of [keyA, keyB]) {
      const o = out.get(key)!;
      const image = frozen[0]!.get(key)!;
      expect([o.plan.mode, o.plan.reason, o.queried]).to.deep.equal(['full', 'no-previous-point', ['*']]);
      expect(o.plan.recordChangeId).to.match(/^[0-9a-f-]{36}\/1$/);
      const allocated = nonZeroBlocks(image);
      expect(o.result.bytesRead, key).to.equal(allocated.length * B);
      expect(o.result.bytesRead).to.be.below(CAPACITY);
      expect(o.progress[o.progress.length - 1]).to.deep.equal({ bytes_done: o.result.bytesRead, bytes_total: o.result.bytesRead });
      expect(await restoredSha(repo, point.id, key), key).to.equal(sha256(image));
    }
    // disk A: 24 blocks of noise, 4 of text, blocks 63 and 64 around 4 MiB, the last block
    expect(nonZeroBlocks(frozen[0]!.get(keyA)!)).to.deep.equal([...Array(24).keys(), 32, 33, 34, 35, 63, 64, 95]);
    // the snapshot, not the live disk, was read
    const liveA = await readFile(vm.disks[0]!.flatPath);
    expect(sha256(liveA)).to.not.equal(sha256(frozen[0]!.get(keyA)!));
    const byKey = [...point.disks].sort((x, y) => Number(x.key) - Number(y.key));
    expect(byKey.map((d) => [d.key, d.mode, d.change_id])).to.deep.equal([keyA, keyB].map((k) => [k, 'full', records.get(k)!.changeId]));
  });

  it('an incremental reads exactly the changed blocks and its point restores the new snapshot', async () => {
    const previousA = records.get(keyA)!.changeId!;
    const out = await backup();
    const a = out.get(keyA)!;
    const b = out.get(keyB)!;
    expect([a.plan.mode, a.plan.reason, a.queried]).to.deep.equal(['incremental', 'changed-since-previous', [previousA]]);
    expect(a.areas).to.deep.equal([{ start: B, length: B }, { start: 5 * B, length: B }, { start: 32 * B, length: 2 * B }, { start: 95 * B, length: B }]);
    expect(a.result).to.deep.equal({ bytesRead: 5 * B, bytesData: 4 * B, bytesZero: B, bytesHoles: 0, reads: 4 });
    expect([b.plan.mode, b.result.bytesRead]).to.deep.equal(['incremental', B]);
    for (const key of [keyA, keyB]) {
      expect(await restoredSha(repo, points[1]!.id, key), key).to.equal(sha256(frozen[1]!.get(key)!));
      // the first point still restores on its own to the first snapshot
      expect(await restoredSha(repo, points[0]!.id, key), key).to.equal(sha256(frozen[0]!.get(key)!));
    }
    expect(points[1]!.disks.map((d) => d.mode)).to.deep.equal(['incremental', 'incremental']);
    expect(records.get(keyA)!.changeId).to.match(/\/2$/);
  });

  it('a CBT reset before the snapshot (new epoch) and after it (FileFault) both fall back to a full', async () => {
    const oldA = records.get(keyA)!.changeId!;
    const oldB = records.get(keyB)!.changeId!;
    await vc.write(vm.ref, Number(keyA), 3 * MiB + B, text(B, 5));
    await vc.write(vm.ref, Number(keyB), 0, text(100, 6));
    await vc.resetCbt(vm.ref, Number(keyA));
    const out = await backup({ afterSnapshot: () => vc.resetCbt(vm.ref, Number(keyB)) });

    const a = out.get(keyA)!;
    expect([a.plan.mode, a.plan.reason, a.queried]).to.deep.equal(['full', 'change-id-epoch-changed', ['*']]);
    expect(a.plan.recordChangeId!.split('/')[0]).to.not.equal(oldA.split('/')[0]);
    const b = out.get(keyB)!;
    expect([b.plan.mode, b.plan.reason, b.queried]).to.deep.equal(['full', 'change-id-refused', [oldB, '*']]);
    expect(b.plan.warning).to.match(/refused the recorded change ID/);
    for (const key of [keyA, keyB]) {
      const image = frozen[2]!.get(key)!;
      expect(out.get(key)!.result.bytesRead, key).to.equal(nonZeroBlocks(image).length * B);
      expect(await restoredSha(repo, points[2]!.id, key), key).to.equal(sha256(image));
    }
    expect(points[2]!.disks.map((d) => d.mode)).to.deep.equal(['full', 'full']);
  });

  it('left no snapshot behind', async () => {
    expect((await vc.info()).vms[0]!.snapshots).to.deep.equal([]);
    expect((await repo.listPoints(vm.ref)).map((p) => p.id)).to.deep.equal(points.map((p) => p.id));
  });
});
