import { isRepositoryError, type PruneReport, type Repository } from '@vaultflow/backup-repository';
import type { BackupRecord, Db, Stores } from '@vaultflow/db';
import { lockDateOf, planRetention, type KeepReason, type RetentionPlan } from '@vaultflow/domain';
import type { JobLog } from '@vaultflow/engine';
import { formatBytes } from './capacity-check.js';
import type { FlowPolicy } from './flow-policy.js';

/** Where retention runs: after a flow's VM backup succeeded. */
export interface RetentionScope {
  flow_id: string;
  /** The execution of the backup that triggered it; null for the periodic copy pass. */
  execution_id: string | null;
  vm_context_id: string;
  repository_id: number;
  /** The VM job's log id, where the outcome is written. */
  job_id: string;
}

/** When a backup's point was taken: what retention's days and weeks count. */
export const takenAt = (b: BackupRecord): Date => new Date(b.started_at ?? b.created_at);

/** A flow's points of one VM in one repository, and what the flow's policy keeps of them. */
export interface PlannedPoints {
  points: BackupRecord[];
  plan: RetentionPlan;
}

export interface RetentionOutcome {
  policy: string;
  kept: number;
  removed: string[];
  /** Forgotten by the policy but left in place now: locked by immutability, being restored, or gone already. */
  held: Array<{ id: string; why: string }>;
}

/**
 * Applies a flow's retention policy to the restore points its runs made of one VM in its repository
 * (planRetention: keep_last, daily, weekly, monthly, yearly in the flow's schedule zone; the newest
 * point always stays). A point the policy lets go is removed like DELETE /backups/{id} removes it:
 * its row (and audit entry) in one transaction after checking it is not locked by an immutable
 * repository and not being restored, then its manifest. A point that cannot be removed now is
 * reported and tried again after the next backup. Space comes back with {@link reclaim}.
 */
export class RetentionService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly log: JobLog,
    private readonly repositoryAt: (root: string) => Promise<Repository>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The scope's points and the policy's plan for them. */
  async plan(scope: RetentionScope, { policy, timeZone }: FlowPolicy): Promise<PlannedPoints> {
    const points = await this.stores.backups.successfulOfFlow(scope.flow_id, scope.vm_context_id, scope.repository_id);
    return { points, plan: planRetention(points.map((b) => ({ id: b.id, at: takenAt(b) })), policy, timeZone) };
  }

  /** Removes what the plan forgets; `planned` when the caller planned this scope already (the copies did). */
  async apply(scope: RetentionScope, flowPolicy: FlowPolicy, planned?: PlannedPoints): Promise<RetentionOutcome> {
    const { points, plan } = planned ?? (await this.plan(scope, flowPolicy));
    const policy = flowPolicy.policy;
    const outcome: RetentionOutcome = { policy: policy.name, kept: plan.keep.size, removed: [], held: [] };
    const byId = new Map(points.map((b) => [b.id, b]));
    for (const id of plan.forget) {
      const why = await this.removeOne(byId.get(id)!);
      if (why) outcome.held.push({ id, why });
      else outcome.removed.push(id);
    }
    this.report(scope, outcome, plan.keep);
    return outcome;
  }

  /** Removes one backup the policy forgot; returns why it stays instead, or undefined once removed. */
  private async removeOne(b: BackupRecord): Promise<string | undefined> {
    const removed = await this.db.transaction(async (tx) => {
      const locked = await this.stores.backups.lockForUpdate(b.id, tx);
      if (!locked || locked.status !== 'success') return 'it is gone already';
      const until = lockDateOf(locked);
      if (until && until > this.now()) return `immutable until ${until.toISOString()}`;
      const restores = await this.stores.restores.openOf(b.id, tx);
      if (restores.length) return `being restored (${restores.map((r) => r.id).join(', ')})`;
      await this.stores.backups.remove(locked, tx);
      await this.stores.audit.record({ actor: 'retention', action: 'backup.delete', entity_type: 'backup', entity_id: b.id, details: { vm_context_id: b.vm_context_id, repository_id: b.repository_id, point: b.manifest_ref, reason: 'retention policy' } }, tx);
      return locked;
    });
    if (typeof removed === 'string') return removed;
    const row = await this.stores.repositories.get(b.repository_id);
    if (!row || !b.manifest_ref) return undefined;
    try {
      await (await this.repositoryAt(row.config.path)).deletePoint(b.manifest_ref);
    } catch (err) {
      if (!isRepositoryError(err, 'POINT_NOT_FOUND')) throw err;
    }
    return undefined;
  }

  /**
   * Prunes the repository (removes chunks no restore point uses any more) when points were deleted
   * since its last prune, by retention or through the API, and no backup is writing into it: a prune
   * holds the repository alone. A busy repository (a backup, restore or verify started meanwhile) is
   * left for the prune after a later backup.
   */
  async reclaim(scope: RetentionScope): Promise<PruneReport | undefined> {
    const row = await this.stores.repositories.get(scope.repository_id);
    if (!row) return undefined;
    const repo = await this.repositoryAt(row.config.path);
    if (!(await repo.pruneWanted()) || (await this.stores.backups.openIn(scope.repository_id)) > 0) return undefined;
    let report: PruneReport;
    try {
      report = await repo.prune();
    } catch (err) {
      if (isRepositoryError(err, 'LOCKED')) return undefined;
      throw err;
    }
    const ids = { flow_id: scope.flow_id, execution_id: scope.execution_id, job_id: scope.job_id };
    void this.log.info(ids, 'prune', `Repository "${row.name}" pruned: ${formatBytes(report.bytes_freed)} freed (${report.chunks_removed} chunk(s) no restore point uses; ${report.packs_deleted} pack(s) deleted, ${report.packs_rewritten} rewritten)`);
    return report;
  }

  /** Logs on the VM's job a copy, retention or prune pass that failed; the next backup tries again. */
  failed(scope: RetentionScope, err: unknown): void {
    const ids = { flow_id: scope.flow_id, execution_id: scope.execution_id, job_id: scope.job_id };
    void this.log.warn(ids, 'retention', `Copies, retention or prune could not finish: ${err instanceof Error ? err.message : String(err)}; nothing of the backup is lost, and the next backup tries again`);
  }

  private report(scope: RetentionScope, o: RetentionOutcome, keep: Map<string, KeepReason[]>): void {
    if (!o.removed.length && !o.held.length) return;
    const ids = { flow_id: scope.flow_id, execution_id: scope.execution_id, job_id: scope.job_id };
    const parts = [`policy "${o.policy}" keeps ${keep.size} restore point(s)`];
    if (o.removed.length) parts.push(`removed ${o.removed.length}: ${o.removed.join(', ')}`);
    if (o.held.length) parts.push(`left ${o.held.length} for now: ${o.held.map((h) => `${h.id} (${h.why})`).join(', ')}`);
    void this.log.info(ids, 'retention', `Retention: ${parts.join('; ')}`);
  }
}
