import { Repository, type PointWriter } from '@vaultflow/backup-repository';
import type { BackupRecord, Stores, VmRecord } from '@vaultflow/db';
import type { JobLog, VmWorkContext, VmWorkResult } from '@vaultflow/engine';
import type { Logger } from '@vaultflow/logging';
import {
  DEFAULT_MAX_READ, DEFAULT_READ_CONCURRENCY, planDiskReads, planReads, planVmDisks, queryPlannedAreas, transferDisk,
  type PlannedDisk, type PreviousDiskRecord, type TransferResult,
} from '@vaultflow/transfer';
import {
  SNAPSHOT_PREFIX, VsphereClient, sdkUrlOfTarget, snapshotName, tlsPolicyOf,
  type MoRef, type VcenterTarget, type VirtualDiskInfo, type VmInfo,
} from '@vaultflow/vsphere';
import { adhocBackupJobId, vmJobId } from '@vaultflow/queue';
import type { WorkerMetrics } from '../metrics.js';
import { mapLimit } from '@vaultflow/engine';
import type { CapacityGuard, RepositoryRef } from './capacity-check.js';
import { DiskReaderFactory } from './disk-reader-factory.js';
import { failInterruptedBackups } from './interrupted-backups.js';
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
  /** Reads in flight per disk; default DEFAULT_READ_CONCURRENCY (16 reads of at most DEFAULT_MAX_READ). */
  readConcurrency?: number;
  /** Checks, once every disk is planned and before anything is written, that the backup fits its repository. */
  capacity?: Pick<CapacityGuard, 'assertFits'>;
  /** Opens snapshot disks through the configured transport; default `https`. */
  readers?: DiskReaderFactory;
}

/**
 * A backup outside any flow execution (POST /backups): its backups row exists already (pending or
 * running) and is filled instead of inserting one; the caller records a failure on it (it decides
 * whether the job is retried). `payload.backup_type` `full` forces a full of every disk.
 */
export interface BackupRun {
  backupId: string;
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
  private readonly readers: DiskReaderFactory;

  constructor(private readonly deps: VmBackupDeps) {
    this.connect = deps.connect ?? connectVsphere;
    this.readers = deps.readers ?? new DiskReaderFactory();
  }

  async backup(ctx: VmWorkContext, run?: BackupRun): Promise<VmWorkResult> {
    const p = ctx.payload;
    const ids = run
      ? { flow_id: null, execution_id: null, job_id: adhocBackupJobId(run.backupId) }
      : { flow_id: p.flow_id, execution_id: p.execution_id, job_id: vmJobId(p.execution_id, p.vm_context_id) };
    const warn = (step: string, message: string) => void this.deps.log.warn(ids, step, message);
    const { vm, target, repo } = await this.load(p.vm_context_id, p.repository_id);

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

      const snap = await client.createSnapshot(vm.moref, snapshotName(run?.backupId ?? p.execution_id), 'Vaultflow backup', true);
      if (snap.warning) warn('snapshot', snap.warning);
      try {
        return await this.transfer(ctx, client, target, vm, live, snap.snapshot, snap.consistency, repo, warn, run);
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
    return { vm, target, repo: { id: repo.id, name: repo.name, path: repo.config.path } satisfies RepositoryRef };
  }

  private async transfer(
    ctx: VmWorkContext, client: VsphereClient, target: VcenterTarget, vm: VmRecord, live: VmInfo, snapshot: MoRef, consistency: 'quiesced' | 'crash',
    repoRef: RepositoryRef, warn: (step: string, message: string) => void, run: BackupRun | undefined,
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

    const backupId = run?.backupId ?? `backup-${vm.context_id.slice(0, 8)}-${Date.now()}`;
    const initialType: BackupRecord['backup_type'] = plans.some((x) => x.plan.mode === 'incremental') ? 'incremental' : 'full';
    if (run) await stores.backupRuns.planned(backupId, { backup_type: initialType, consistency });
    else {
      await failInterruptedBackups(stores.backups, vm.context_id, p.execution_id, ctx.attempt, warn);
      await stores.backups.insertRunning({
        id: backupId, vm_context_id: vm.context_id, repository_id: p.repository_id, flow_execution_id: p.execution_id,
        backup_type: initialType, requested_type: p.backup_type, consistency, created_by: 'backup-worker',
      });
    }

    let writer: PointWriter | undefined;
    try {
      // every disk's areas first, so the capacity check sees the whole backup before anything is written
      ctx.progress({ phase: 'planning', bytes_done: 0, bytes_total: 0 });
      const areasOf = await mapLimit(plans, this.deps.diskConcurrency ?? 2, async (planned, i) => {
        const disk = disks[i]!;
        const { plan, areas } = await queryPlannedAreas(planned.plan, String(disk.key), (changeId) => client.changedDiskAreas(vm.moref, snapshot, disk.key, changeId, disk.capacityBytes));
        if (plan.warning) warn('disk-plan', plan.warning);
        return { plan, ...planReads(areas, DEFAULT_MAX_READ, disk.capacityBytes) };
      });
      await this.deps.capacity?.assertFits(repoRef, areasOf.map((a, i) => ({ disk: disks[i]!.key, mode: a.plan.mode, bytes: a.bytes })));
      const repo = await this.repository(repoRef.path);
      const parent = previous?.manifest_ref && records.length ? previous.manifest_ref : undefined;
      writer = await repo.beginPoint({ vm: vm.context_id, ...(parent ? { parent } : {}), meta: { backup_id: backupId, execution_id: run ? null : p.execution_id, vm_name: vm.vm_name } });
      const w = writer;
      const done = new Map<string, { bytes_done: number; bytes_total: number }>(disks.map((d, i) => [String(d.key), { bytes_done: 0, bytes_total: areasOf[i]!.bytes }]));
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
        const { plan, extents } = areasOf[i]!;
        w.addDisk({ key, capacity: disk.capacityBytes, uuid: planned.disk.uuid ?? null, change_id: plan.recordChangeId, mode: plan.mode });
        const reader = await this.readers.open({
          client, target, vm: vm.moref, snapshot, datacenter, signal: ctx.signal, onRetry: (m) => warn('read-retry', m),
          disk: { key: disk.key, fileName: disk.fileName!, capacityBytes: disk.capacityBytes, datastore: disk.datastore },
        });
        const onAbort = () => void reader.close();
        ctx.signal.addEventListener('abort', onAbort);
        try {
          // the transport's block status (nbd) takes the holes out: recorded as zeroes, never read
          const { reads, holes, bytes } = await planDiskReads(reader, extents, disk.capacityBytes, DEFAULT_MAX_READ, (e) => {
            if (!ctx.signal.aborted) warn('block-status', `Disk ${key}: block status failed, reading every changed byte: ${e.message}`);
          });
          done.set(key, { bytes_done: 0, bytes_total: bytes });
          const result = await transferDisk({
            reader, reads, holes, writer: w, diskKey: key, diskName: disk.fileName!, concurrency: this.deps.readConcurrency ?? DEFAULT_READ_CONCURRENCY, signal: ctx.signal,
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
      if (!run) await stores.backups.fail(backupId, ctx.signal.aborted ? 'cancelled' : 'failed', message).catch(() => undefined);
      throw err;
    }
  }

  /** One Repository per path for this process (so two VMs never race to init the same one). */
  repository(root: string): Promise<Repository> {
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
