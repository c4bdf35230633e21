import { Repository, type PointWriter } from '@vaultflow/backup-repository';
import type { BackupRecord, Stores, VmRecord } from '@vaultflow/db';
import type { JobLog, VmWorkContext, VmWorkResult } from '@vaultflow/engine';
import type { Logger } from '@vaultflow/logging';
import {
  DEFAULT_MAX_READ, HttpFolderReader, planReads, planVmDisks, queryPlannedAreas, transferDisk,
  type PlannedDisk, type PreviousDiskRecord, type TransferResult,
} from '@vaultflow/transfer';
import {
  SNAPSHOT_PREFIX, VsphereClient, sdkUrlOfTarget, snapshotName, tlsPolicyOf,
  type MoRef, type VcenterTarget, type VirtualDiskInfo, type VmInfo,
} from '@vaultflow/vsphere';
import type { WorkerMetrics } from '../metrics.js';
import { mapLimit } from '@vaultflow/engine';
import { PermanentError } from './permanent-error.js';

/** What the service needs to log in to a vCenter; a test may hand in its own. */
export type VsphereConnect = (target: VcenterTarget) => Promise<VsphereClient>;

/** Decrypts a stored vCenter password (SecretBox fits). */
export interface PasswordOpener {
  decrypt(sealed: string): string;
}

export interface VmBackupDeps {
  stores: Stores;
  secrets: PasswordOpener;
  log: JobLog;
  logger: Logger;
  metrics: WorkerMetrics;
  connect?: VsphereConnect;
  /** Disks of one VM transferred at once; default 2. */
  diskConcurrency?: number;
  /** Reads in flight per disk; default 4. */
  readConcurrency?: number;
}

/** The default connection: our vim25 client with the vCenter row's TLS policy, no keep-alive (a job is one session). */
export const connectVsphere: VsphereConnect = (t) =>
  VsphereClient.connect({ url: sdkUrlOfTarget(t), username: t.username, password: t.password, tls: tlsPolicyOf(t), keepAliveMs: 0 });

interface DiskOutcome {
  planned: PlannedDisk;
  disk: VirtualDiskInfo;
  mode: 'full' | 'incremental';
  changeId: string | null;
  result: TransferResult;
}

/**
 * Backs up one VM into a restore point: ensure CBT, remove orphan Vaultflow snapshots, snapshot, plan
 * each disk (full or incremental against the previous successful backup in the same repository), read
 * only the changed areas, commit the point, then record the new change IDs; the snapshot is removed in
 * every case. vSphere and transfer errors keep their `transient` flag, so the runner retries those.
 */
export class VmBackupService {
  private readonly repos = new Map<string, Promise<Repository>>();
  private readonly connect: VsphereConnect;

  constructor(private readonly deps: VmBackupDeps) {
    this.connect = deps.connect ?? connectVsphere;
  }

  async backup(ctx: VmWorkContext): Promise<VmWorkResult> {
    const p = ctx.payload;
    const ids = { flow_id: p.flow_id, execution_id: p.execution_id, job_id: `vm-${p.execution_id}-${p.vm_context_id}` };
    const warn = (step: string, message: string) => void this.deps.log.warn(ids, step, message);
    const { vm, target, repoPath } = await this.load(p.vm_context_id, p.repository_id);

    const client = await this.connect(target);
    try {
      const live = await client.getVm(vm.moref);
      if (!live.changeTrackingEnabled) {
        await client.reconfigureCbt(vm.moref, true);
        void this.deps.log.info(ids, 'cbt-enabled', `Changed block tracking enabled on ${vm.vm_name}; it activates with the next snapshot`);
      }
      const orphans = await client.removeSnapshotsByPrefix(vm.moref, SNAPSHOT_PREFIX);
      if (orphans.length) warn('orphan-snapshots', `Removed ${orphans.length} snapshot(s) left by an earlier run: ${orphans.map((s) => s.name).join(', ')}`);
      if (ctx.signal.aborted) throw new Error('cancelled');

      const snap = await client.createSnapshot(vm.moref, snapshotName(p.execution_id), 'Vaultflow backup', true);
      if (snap.warning) warn('snapshot', snap.warning);
      try {
        return await this.transfer(ctx, client, vm, live, snap.snapshot, snap.consistency, repoPath, warn);
      } finally {
        await client.removeSnapshot(snap.snapshot).catch((err: Error) => {
          warn('snapshot-remove', `Could not remove snapshot ${snap.snapshot.value}: ${err.message}; the next run removes it`);
        });
      }
    } finally {
      await client.logout().catch(() => undefined);
    }
  }

  private async load(vmId: string, repositoryId: number) {
    const { stores } = this.deps;
    const vm = await stores.vms.get(vmId);
    if (!vm) throw new PermanentError(`VM ${vmId} does not exist`);
    if (!vm.vcenter_id) throw new PermanentError(`VM ${vm.vm_name} belongs to no vCenter`);
    const vc = await stores.vcenters.get(vm.vcenter_id);
    if (!vc) throw new PermanentError(`vCenter ${vm.vcenter_id} of VM ${vm.vm_name} does not exist`);
    const repo = await stores.repositories.get(repositoryId);
    if (!repo) throw new PermanentError(`Repository ${repositoryId} does not exist`);
    let password: string;
    try {
      password = this.deps.secrets.decrypt(vc.password_encrypted);
    } catch {
      throw new PermanentError(`The stored password of vCenter "${vc.name}" cannot be decrypted with this hub's VAULTFLOW_SECRET_KEY`);
    }
    const target: VcenterTarget = { host: vc.host, port: vc.port, protocol: vc.protocol, username: vc.username, password, tls_thumbprint: vc.tls_thumbprint, insecure: vc.insecure };
    return { vm, target, repoPath: repo.config.path };
  }

  private async transfer(
    ctx: VmWorkContext, client: VsphereClient, vm: VmRecord, live: VmInfo, snapshot: MoRef, consistency: 'quiesced' | 'crash',
    repoPath: string, warn: (step: string, message: string) => void,
  ): Promise<VmWorkResult> {
    const { stores } = this.deps;
    const p = ctx.payload;
    // getVm does not walk the inventory; discovery stored the datacenter (the /folder URL needs its name)
    const datacenter = live.datacenter ?? vm.datacenter;
    if (!datacenter) throw new PermanentError(`VM ${vm.vm_name} has no known datacenter: run discovery of its vCenter`);
    const previous = await stores.backups.lastSuccessfulDisks(vm.context_id, p.repository_id);
    const records: PreviousDiskRecord[] = previous?.manifest_ref
      ? previous.disks.map((d) => ({ diskUuid: d.disk_uuid, deviceKey: d.disk_key, capacity: d.capacity_bytes, changeId: d.change_id }))
      : [];

    const liveByKey = new Map(live.disks.map((d) => [d.key, d]));
    const disks: VirtualDiskInfo[] = [];
    for (const d of await client.snapshotDisks(snapshot)) {
      if (d.skipReason) warn('disk-skipped', `Disk ${d.key} (${d.label ?? d.fileName ?? '?'}) skipped: ${d.skipReason}`);
      else if (!d.fileName) throw new PermanentError(`Disk ${d.key} of the snapshot has no file name`);
      else disks.push(d);
    }
    const { disks: plans } = planVmDisks(records, disks.map((d) => ({
      uuid: d.uuid ?? liveByKey.get(d.key)?.uuid, key: String(d.key), capacity: d.capacityBytes, changeId: d.changeId, requested: p.backup_type,
    })));

    const backupId = `backup-${vm.context_id.slice(0, 8)}-${Date.now()}`;
    const initialType: BackupRecord['backup_type'] = plans.some((x) => x.plan.mode === 'incremental') ? 'incremental' : 'full';
    await stores.backups.insertRunning({
      id: backupId, vm_context_id: vm.context_id, repository_id: p.repository_id, flow_execution_id: p.execution_id,
      backup_type: initialType, requested_type: p.backup_type, consistency, created_by: 'backup-worker',
    });

    let writer: PointWriter | undefined;
    try {
      const repo = await this.repository(repoPath);
      const parent = previous?.manifest_ref && records.length ? previous.manifest_ref : undefined;
      writer = await repo.beginPoint({ vm: vm.context_id, ...(parent ? { parent } : {}), meta: { backup_id: backupId, execution_id: p.execution_id, vm_name: vm.vm_name } });
      const w = writer;
      const done = new Map<string, { bytes_done: number; bytes_total: number }>();
      const report = (disk: number) => {
        let bytes_done = 0;
        let bytes_total = 0;
        for (const x of done.values()) {
          bytes_done += x.bytes_done;
          bytes_total += x.bytes_total;
        }
        ctx.progress({ phase: 'transfer', disk, bytes_done, bytes_total });
      };

      const outcomes = await mapLimit(plans, this.deps.diskConcurrency ?? 2, async (planned, i): Promise<DiskOutcome> => {
        const disk = disks[i]!;
        const key = String(disk.key);
        const { plan, areas } = await queryPlannedAreas(planned.plan, key, (changeId) => client.changedDiskAreas(vm.moref, snapshot, disk.key, changeId, disk.capacityBytes));
        if (plan.warning) warn('disk-plan', plan.warning);
        w.addDisk({ key, capacity: disk.capacityBytes, uuid: planned.disk.uuid ?? null, change_id: plan.recordChangeId, mode: plan.mode });
        const { reads, bytes } = planReads(areas, DEFAULT_MAX_READ, disk.capacityBytes);
        done.set(key, { bytes_done: 0, bytes_total: bytes });
        const reader = await HttpFolderReader.forDisk(client, { fileName: disk.fileName!, capacityBytes: disk.capacityBytes }, datacenter);
        const onAbort = () => void reader.close();
        ctx.signal.addEventListener('abort', onAbort);
        try {
          const result = await transferDisk({
            reader, reads, writer: w, diskKey: key, diskName: disk.fileName!, concurrency: this.deps.readConcurrency ?? 4, signal: ctx.signal,
            onProgress: (pr) => {
              done.set(key, pr);
              report(disk.key);
            },
          });
          return { planned, disk, mode: plan.mode, changeId: plan.recordChangeId, result };
        } finally {
          ctx.signal.removeEventListener('abort', onAbort);
          await reader.close();
        }
      });
      if (ctx.signal.aborted) throw new Error('cancelled');
      const point = await w.commit();
      writer = undefined;

      // only after the commit: the change IDs the next incremental starts from
      const bytesRead = outcomes.reduce((n, o) => n + o.result.bytesRead, 0);
      await stores.backups.complete(backupId, {
        backup_type: outcomes.some((o) => o.mode === 'incremental') ? 'incremental' : 'full',
        bytes_total: disks.reduce((n, d) => n + d.capacityBytes, 0),
        bytes_transferred: bytesRead,
        bytes_stored: point.stats.bytes_stored,
        manifest_ref: point.id,
        disks: outcomes.map((o) => ({
          disk_key: o.disk.key, disk_uuid: o.planned.disk.uuid ?? null, capacity_bytes: o.disk.capacityBytes, backup_mode: o.mode,
          change_id: o.changeId, previous_change_id: o.planned.previous?.changeId ?? null, bytes_transferred: o.result.bytesRead,
        })),
      });
      this.deps.metrics.bytesRead(bytesRead);
      return { bytes_transferred: bytesRead, backup_job_id: backupId };
    } catch (err) {
      await writer?.abort().catch(() => undefined);
      const message = err instanceof Error ? err.message : String(err);
      await stores.backups.fail(backupId, ctx.signal.aborted ? 'cancelled' : 'failed', message).catch(() => undefined);
      throw err;
    }
  }

  /** One Repository per path for this process (so two VMs never race to init the same one). */
  private repository(root: string): Promise<Repository> {
    let r = this.repos.get(root);
    if (!r) {
      r = Repository.open(root).catch(async (err: { code?: string }) => {
        if (err.code !== 'NOT_A_REPOSITORY') throw err;
        return Repository.init(root).catch((e: { code?: string }) => {
          if (e.code === 'ALREADY_EXISTS') return Repository.open(root);
          throw e;
        });
      });
      r.catch(() => this.repos.delete(root));
      this.repos.set(root, r);
    }
    return r;
  }
}
