import { randomUUID } from 'node:crypto';
import { restoredImageName } from '@vaultflow/backup-repository';
import type { Db, RestoreRecord, RestoreTarget, Stores } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { AppError, conflict, notFound, unprocessable } from '@vaultflow/errors';
import type { BackupJobQueue } from '@vaultflow/queue';
import type { RestoreRequest, RestoreResponse } from '@vaultflow/schemas';
import type { BackupService } from './backup.service.js';
import { assertTargetFields, checkFileTarget } from './restore-target.js';
import { writeTx } from './write-tx.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toRestoreView(r: RestoreRecord): RestoreResponse {
  const { type, ...where } = r.target;
  const progress = r.status === 'success'
    ? { phase: 'done', disk: null, bytes_done: r.bytes_total, bytes_total: r.bytes_total }
    : { phase: r.phase ?? (r.status === 'pending' ? 'queued' : r.status), disk: r.progress_disk, bytes_done: r.bytes_done, bytes_total: r.bytes_total };
  return {
    id: r.id,
    backup_id: r.backup_id,
    target: { type, ...where },
    disk_keys: r.disk_keys,
    overwrite: r.overwrite,
    status: r.status,
    progress,
    attempts: r.attempts,
    disks: r.status === 'success' ? r.results : [],
    error_message: r.error_message,
    created_at: new Date(r.created_at).toISOString(),
    started_at: iso(r.started_at),
    completed_at: iso(r.completed_at),
    created_by: r.created_by,
  };
}

/**
 * Restores of restore points, run as `backup.restore` jobs by the backup workers: the request is
 * checked here (the point, the disks, the target), then the restore row is written and queued.
 */
export class RestoreService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly backups: BackupService,
    private readonly jobs: BackupJobQueue,
  ) {}

  async create(backupId: string, input: RestoreRequest, op: Operation): Promise<RestoreResponse> {
    const b = await this.backups.require(backupId);
    assertTargetFields(input);
    if (b.status !== 'success' || !b.manifest_ref) {
      throw conflict('BACKUP_NOT_RESTORABLE', `Backup ${backupId} is ${b.status}: only a successful backup has a restore point`);
    }
    const disks = await this.stores.backups.disks(backupId);
    const keys = input.disk_keys ?? disks.map((d) => d.disk_key);
    const unknown = keys.map((k, i) => ({ k, i })).filter(({ k }) => !disks.some((d) => d.disk_key === k));
    if (unknown.length) {
      throw unprocessable('DISK_NOT_FOUND', `Backup ${backupId} has no disk ${unknown.map((u) => u.k).join(', ')} (it has ${disks.map((d) => d.disk_key).join(', ')})`, unknown.map((u) => ({ field: `body.disk_keys.${u.i}`, message: `is not a disk of this backup` })));
    }
    const target = await this.target(b.vm_context_id, backupId, keys, input);
    const bytes = keys.reduce((n, k) => n + (disks.find((d) => d.disk_key === k)?.capacity_bytes ?? 0), 0);
    const id = randomUUID();
    await writeTx(this.db, 'restore', async (trx) => {
      const locked = await this.stores.backups.lockForUpdate(backupId, trx);
      if (!locked || locked.status !== 'success') throw conflict('BACKUP_NOT_RESTORABLE', `Backup ${backupId} was deleted meanwhile`);
      if (target.type === 'file') {
        // the same backup's disk into the same folder is the same file
        const clash = (await this.stores.restores.openFileRestores(trx)).find((r) => r.target.type === 'file' && r.target.path === target.path && r.backup_id === backupId && r.disk_keys.some((k) => keys.includes(k)));
        if (clash) throw conflict('RESTORE_RUNNING', `Restore ${clash.id} is writing the same image files: wait for it to end`, [{ field: 'body.path', message: `restore ${clash.id} writes there` }]);
      }
      await this.stores.restores.insert({ id, backup_id: backupId, target, disk_keys: keys, overwrite: input.overwrite ?? false, bytes_total: bytes, created_by: op.actor.username }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'backup.restore', entity_type: 'backup', entity_id: backupId, details: { restore_id: id, target, disk_keys: keys }, request_id: op.requestId }, trx);
    });
    const queued = await this.get(backupId, id); // as queued: a worker may take it the moment it is added
    try {
      await this.jobs.enqueueRestore({ restore_id: id, backup_id: backupId });
    } catch (err) {
      await this.stores.restores.fail(id, `could not be queued: ${(err as Error).message}`);
      const e = new AppError('unavailable', 'QUEUE_UNAVAILABLE', 'The restore could not be queued (Redis is unreachable): try again');
      e.retryAfter = 10;
      throw e;
    }
    return queued;
  }

  async list(backupId: string) {
    await this.backups.require(backupId);
    const rows = await this.stores.restores.ofBackup(backupId);
    return { restores: rows.map(toRestoreView), total: rows.length };
  }

  async get(backupId: string, restoreId: string): Promise<RestoreResponse> {
    const r = await this.stores.restores.get(restoreId);
    if (!r || r.backup_id !== backupId) throw notFound('RESTORE_NOT_FOUND', `Backup ${backupId} has no restore ${restoreId}`);
    return toRestoreView(r);
  }

  private async target(vmId: string, backupId: string, keys: number[], r: RestoreRequest): Promise<RestoreTarget> {
    if (r.target === 'file') {
      const names = keys.map((k) => restoredImageName(backupId, k));
      return { type: 'file', path: await checkFileTarget(this.stores, r.path!, names, r.overwrite ?? false) };
    }
    const vc = await this.stores.vcenters.get(r.vcenter_id!);
    if (!vc) throw unprocessable('REFERENCE_NOT_FOUND', `vCenter ${r.vcenter_id} does not exist`, [{ field: 'body.vcenter_id', message: 'does not exist' }]);
    if (!vc.enabled) throw unprocessable('REFERENCE_UNUSABLE', `vCenter "${vc.name}" is disabled`, [{ field: 'body.vcenter_id', message: 'is disabled' }]);
    const vm = await this.stores.vms.get(vmId);
    const datacenter = r.datacenter ?? (vm?.vcenter_id === vc.id ? vm.datacenter : null);
    if (!datacenter) throw unprocessable('DATACENTER_REQUIRED', `Name the datacenter of datastore "${r.datastore}" in vCenter "${vc.name}"`, [{ field: 'body.datacenter', message: 'is required: the VM of this backup is not in that vCenter, or its datacenter is unknown' }]);
    return { type: 'datastore', vcenter_id: vc.id, datacenter, datastore: r.datastore!, folder: r.folder! };
  }
}
