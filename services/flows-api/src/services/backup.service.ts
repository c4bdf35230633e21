import { randomBytes } from 'node:crypto';
import { isRepositoryError } from '@vaultflow/backup-repository';
import type { BackupRecord, Db, JobLogPage, Stores } from '@vaultflow/db';
import { lockDateOf, type Operation } from '@vaultflow/domain';
import { AppError, conflict, notFound, unprocessable, type ErrorDetail } from '@vaultflow/errors';
import { adhocBackupJobId, vmJobId, type BackupJobQueue } from '@vaultflow/queue';
import type { BackupListQuery, BackupResponse, CreateBackupRequest } from '@vaultflow/schemas';
import { toJobLog } from '../mappers/flow.mapper.js';
import { toBackupSummary } from '../mappers/resources.mapper.js';
import { repositoryProblem, type BackupRepositories } from './backup-repositories.service.js';
import { writeTx } from './write-tx.js';

/** Where an open backup is, or where an ended one stopped. */
export function backupProgress(b: BackupRecord) {
  if (b.status === 'success') return { phase: 'done', disk: null, bytes_done: b.bytes_transferred, bytes_total: b.bytes_transferred };
  return { phase: b.phase ?? (b.status === 'pending' ? 'queued' : b.status), disk: b.progress_disk, bytes_done: b.bytes_done, bytes_total: b.bytes_to_read };
}

export function toBackupView(b: BackupRecord) {
  const lock = lockDateOf(b);
  return { ...toBackupSummary(b), locked_until: lock ? lock.toISOString() : null, progress: backupProgress(b), attempts: b.attempts };
}

/** A backup id: `backup-<vm>-<millis>-<random>`, usable in snapshot and file names. */
function newBackupId(vmContextId: string): string {
  return `backup-${vmContextId.slice(0, 8).replace(/[^A-Za-z0-9]/g, 'x')}-${Date.now()}-${randomBytes(2).toString('hex')}`;
}

/** Restore points: listing, one VM backed up on demand (POST /backups), and deletion. */
export class BackupService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly jobs: BackupJobQueue,
    private readonly repositories: BackupRepositories,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(q: BackupListQuery) {
    const { rows, total } = await this.stores.backups.list(q);
    return { backups: rows.map(toBackupView), total };
  }

  /** The backup's job log: its flow's VM job, or the job of a backup started through the API. */
  async logs(id: string, page: JobLogPage) {
    const b = await this.require(id);
    const jobId = b.flow_execution_id ? vmJobId(b.flow_execution_id, b.vm_context_id) : adhocBackupJobId(b.id);
    return { logs: (await this.stores.jobLogs.forJob(jobId, page)).map(toJobLog) };
  }

  async get(id: string): Promise<BackupResponse> {
    const b = await this.require(id);
    return { ...toBackupView(b), disks: await this.stores.backups.disks(id) };
  }

  /**
   * Queues a backup of one VM (202): the references are checked (422 naming each bad field), the VM
   * must be free (409 VM_BUSY: a VM is never backed up twice at once; the check and the insert hold
   * the VM's inventory row lock, as flow releases do), then the row is written and its job queued.
   */
  async create(input: CreateBackupRequest, op: Operation): Promise<BackupResponse> {
    const type = input.backup_type ?? 'auto';
    const { vm, repo } = await this.usable(input);
    if (type === 'incremental' && !(await this.stores.backups.lastSuccessfulDisks(vm.context_id, repo.id))) {
      throw unprocessable('NO_PREVIOUS_POINT', `VM "${vm.vm_name}" has no restore point in repository "${repo.name}" for an incremental to build on: ask for auto or full`, [
        { field: 'body.backup_type', message: 'incremental needs a previous restore point of the VM in this repository' },
      ]);
    }
    const id = newBackupId(vm.context_id);
    await writeTx(this.db, 'backup', async (trx) => {
      await this.stores.vmRuns.lockVms([vm.context_id], trx);
      const runs = await this.stores.backupRuns.activeFlowRuns(vm.context_id, trx);
      const others = await this.stores.backupRuns.openOutsideFlows(vm.context_id, trx);
      if (runs.length || others.length) {
        const what = [...runs.map((r) => `flow execution ${r.execution_id} (${r.status})`), ...others.map((b) => `backup ${b.id} (${b.status}, by ${b.created_by})`)];
        throw conflict('VM_BUSY', `VM "${vm.vm_name}" is being backed up by ${what.join(', ')}: a VM is never backed up twice at once; try again when that ends`, [
          { field: 'body.vm_context_id', message: `busy: ${what.join(', ')}` },
        ]);
      }
      await this.stores.backupRuns.insertQueued({ id, vm_context_id: vm.context_id, repository_id: repo.id, requested_type: type, created_by: op.actor.username }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'backup.start', entity_type: 'backup', entity_id: id, details: { vm_context_id: vm.context_id, repository_id: repo.id, backup_type: type }, request_id: op.requestId }, trx);
    });
    const queued = await this.get(id); // as queued: a worker may take it the moment it is added
    try {
      await this.jobs.enqueueBackup({ backup_id: id, vm_context_id: vm.context_id, repository_id: repo.id, backup_type: type });
    } catch (err) {
      // no job: end the row now, so the VM is not held by a backup that never runs
      await this.stores.backups.fail(id, 'failed', `could not be queued: ${(err as Error).message}`);
      const e = new AppError('unavailable', 'QUEUE_UNAVAILABLE', 'The backup could not be queued (Redis is unreachable): try again');
      e.retryAfter = 10;
      throw e;
    }
    return queued;
  }

  /**
   * Deletes a restore point: refused while it is open (409 BACKUP_RUNNING), locked by an immutable
   * repository (409 BACKUP_IMMUTABLE, the date in the details) or being restored (409
   * BACKUP_IN_USE). The record goes first (in one transaction with its checks), then the manifest:
   * a crash in between leaves a point no record names (space, never a record without its point).
   */
  async remove(id: string, op: Operation): Promise<void> {
    const found = await this.require(id);
    const repo = await this.stores.repositories.get(found.repository_id);
    const b = await writeTx(this.db, 'backup', async (trx) => {
      const locked = await this.stores.backups.lockForUpdate(id, trx);
      if (!locked) throw this.notFound(id);
      if (locked.status === 'pending' || locked.status === 'running') {
        throw conflict('BACKUP_RUNNING', `Backup ${id} is ${locked.status === 'pending' ? 'queued' : 'running'}: it can be deleted once it ends`);
      }
      const until = lockDateOf(locked);
      if (until && until > this.now()) {
        throw conflict('BACKUP_IMMUTABLE', `Backup ${id} is locked by immutable repository "${repo?.name}" until ${until.toISOString()}: it cannot be deleted before then`, [
          { field: 'locked_until', message: until.toISOString() },
        ]);
      }
      const restores = await this.stores.restores.openOf(id, trx);
      if (restores.length) {
        throw conflict('BACKUP_IN_USE', `Backup ${id} is being restored (${restores.map((r) => r.id).join(', ')}): it can be deleted once the restore ends`, restores.map((r) => ({ field: 'restore', message: r.id })));
      }
      await this.stores.backups.remove(locked, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'backup.delete', entity_type: 'backup', entity_id: id, details: { vm_context_id: locked.vm_context_id, repository_id: locked.repository_id, point: locked.manifest_ref }, request_id: op.requestId }, trx);
      return locked;
    });
    if (!b.manifest_ref || !repo) return;
    try {
      await (await this.repositories.of(repo))?.deletePoint(b.manifest_ref);
    } catch (err) {
      if (isRepositoryError(err, 'POINT_NOT_FOUND')) return;
      throw repositoryProblem(repo, err, `The record of backup ${id} is deleted, but its restore point ${b.manifest_ref}`);
    }
  }

  async require(id: string): Promise<BackupRecord> {
    const b = await this.stores.backups.get(id);
    if (!b) throw this.notFound(id);
    return b;
  }

  /** The VM and repository of a request, or 422 naming every field that cannot be used. */
  private async usable(input: CreateBackupRequest) {
    const missing: ErrorDetail[] = [];
    const unusable: ErrorDetail[] = [];
    const vm = await this.stores.vms.get(input.vm_context_id);
    if (!vm) missing.push({ field: 'body.vm_context_id', message: `VM ${input.vm_context_id} does not exist in the inventory` });
    else if (vm.inventory_status === 'missing') unusable.push({ field: 'body.vm_context_id', message: `VM "${vm.vm_name}" is missing from its vCenter` });
    else if (!vm.vcenter_id) unusable.push({ field: 'body.vm_context_id', message: `VM "${vm.vm_name}" belongs to no vCenter` });
    else {
      const vc = await this.stores.vcenters.get(vm.vcenter_id);
      if (!vc?.enabled) unusable.push({ field: 'body.vm_context_id', message: `the vCenter of VM "${vm.vm_name}" is ${vc ? 'disabled' : 'gone'}` });
    }
    const repo = await this.stores.repositories.get(input.repository_id);
    if (!repo) missing.push({ field: 'body.repository_id', message: `repository ${input.repository_id} does not exist` });
    else if (!repo.enabled) unusable.push({ field: 'body.repository_id', message: `repository "${repo.name}" is disabled` });
    else if (repo.repository_type === 's3') unusable.push({ field: 'body.repository_id', message: `repository "${repo.name}" is of type s3, which this version cannot write` });
    const all = [...missing, ...unusable];
    if (all.length || !vm || !repo) {
      throw unprocessable(missing.length ? 'REFERENCE_NOT_FOUND' : 'REFERENCE_UNUSABLE', `The backup cannot start: ${all.map((d) => d.message).join('; ')}`, all);
    }
    return { vm, repo };
  }

  private notFound(id: string) {
    return notFound('BACKUP_NOT_FOUND', `Backup ${id} does not exist`);
  }
}
