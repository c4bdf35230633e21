import type { Repository } from '@vaultflow/backup-repository';
import type { BackupRecord, CopyRuleRecord, Stores } from '@vaultflow/db';
import type { JobLog } from '@vaultflow/engine';
import { formatBytes } from './capacity-check.js';
import type { FlowPolicy } from './flow-policy.js';
import { takenAt, type PlannedPoints, type RetentionScope } from './retention.service.js';

/** The record of a backup's copy in another repository. */
export const copyBackupId = (backupId: string, repositoryId: number) => `${backupId}-c${repositoryId}`;

/**
 * A policy's copy rules (3-2-1: the same restore points in other repositories), run by the backup
 * worker after a flow's VM backup succeeded, for every enabled rule whose mode is `immediate`, in
 * priority order (highest first). A copy takes only the chunks the destination lacks, checks every
 * chunk it copies, and writes the manifest last (Repository.copyPointFrom); with verify_after_copy the
 * copied point is then re-read and re-hashed in the destination. Each copy is a successful backup of
 * the destination repository, with the original's execution, type and disks.
 *
 * A copy that fails is logged on the VM's job and never changes the VM's result; the next backup of
 * the flow catches up: it copies every point of the flow and VM that the policy keeps and that the
 * destination does not have yet, oldest first. Rules of the `scheduled` mode run the same way from the
 * worker's periodic pass instead (ScheduledCopies).
 */
export class CopyService {
  constructor(
    private readonly stores: Stores,
    private readonly log: JobLog,
    private readonly repositoryAt: (root: string) => Promise<Repository>,
  ) {}

  /**
   * Runs the flow's copy rules of one mode for one VM (`immediate` after each backup, `scheduled` from
   * the periodic pass) over the points `source` plans in the scope's repository (what the policy keeps
   * is what is copied); returns the repositories that hold every wanted copy now.
   */
  async copyAll(scope: RetentionScope, { policy }: FlowPolicy, mode: CopyRuleRecord['copy_mode'], { points, plan }: PlannedPoints): Promise<number[]> {
    const rules = policy.copy_rules
      .filter((r) => r.enabled && r.copy_mode === mode && r.destination_repository_id !== scope.repository_id)
      .sort((x, y) => y.priority - x.priority);
    if (!rules.length) return [];
    const sourceRow = await this.stores.repositories.get(scope.repository_id);
    if (!sourceRow) return [];
    const wanted = points.filter((b) => plan.keep.has(b.id)).sort((x, y) => takenAt(x).getTime() - takenAt(y).getTime());
    const source = await this.repositoryAt(sourceRow.config.path);
    const done: number[] = [];
    for (const rule of rules) {
      if (await this.copyRule(scope, rule, source, wanted)) done.push(rule.destination_repository_id);
    }
    return done;
  }

  /** Copies what `rule`'s repository lacks of `wanted`; false (logged) when it could not. */
  private async copyRule(scope: RetentionScope, rule: CopyRuleRecord, source: Repository, wanted: BackupRecord[]): Promise<boolean> {
    const ids = { flow_id: scope.flow_id, execution_id: scope.execution_id, job_id: scope.job_id };
    const dest = await this.stores.repositories.get(rule.destination_repository_id);
    const name = dest?.name ?? rule.destination_repository_name ?? String(rule.destination_repository_id);
    try {
      if (!dest) throw new Error('the repository does not exist any more');
      if (!dest.enabled) throw new Error('the repository is disabled');
      const target = await this.repositoryAt(dest.config.path);
      const there = new Set((await this.stores.backups.successfulOfFlow(scope.flow_id, scope.vm_context_id, dest.id)).map((b) => b.id));
      for (const b of wanted) {
        const copyId = copyBackupId(b.id, dest.id);
        if (!b.manifest_ref || there.has(copyId)) continue;
        const r = await target.copyPointFrom(source, b.manifest_ref);
        if (rule.verify_after_copy) {
          const v = await target.verify({ pointId: b.manifest_ref });
          if (!v.ok) throw new Error(`the copy of restore point ${b.manifest_ref} failed its verification (${v.damaged_chunks.length} damaged chunk(s)); it is not recorded`);
        }
        await this.stores.backups.insertCopy(b, { id: copyId, repository_id: dest.id, bytes_stored: r.bytes_copied, created_by: 'copy-rule' });
        void this.log.info(ids, 'copy', `Copied backup ${b.id} to repository "${name}" as ${copyId}: ${r.chunks_copied} of ${r.chunks} chunk(s) were new there (${formatBytes(r.bytes_copied)})${rule.verify_after_copy ? ', verified' : ''}`);
      }
      return true;
    } catch (err) {
      void this.log.warn(ids, 'copy', `Copy to repository "${name}" failed: ${err instanceof Error ? err.message : String(err)}; the backup itself is complete, and the next backup of this flow copies what is missing`);
      return false;
    }
  }
}
