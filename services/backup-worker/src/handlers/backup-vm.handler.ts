import type { RunOutcome, VmJobRunner, VmProgress } from '@vaultflow/engine';
import type { BackupVmPayload } from '@vaultflow/queue';
import type { WorkerMetrics } from '../metrics.js';
import type { CopyService } from '../services/copy.service.js';
import type { RetentionService } from '../services/retention.service.js';
import type { VmBackupService } from '../services/vm-backup.service.js';

/** What the handler needs of a queue job (a BullMQ Job fits, but the handler never sees one). */
export interface VmJobInput {
  data: BackupVmPayload;
  /** Attempts made before this one. */
  attemptsMade: number;
  /** Times the job was taken back from a worker that stopped answering (BullMQ's stalled counter). */
  stalledCounter: number;
  maxAttempts: number;
  reportProgress(p: VmProgress): void;
}

/**
 * `backup.vm`: the engine's VM lifecycle around one VM backup, with its duration measured; once the
 * VM's success is recorded, the flow policy's copy rules run, then its retention in every repository
 * that holds the flow's points, each followed by a prune when points were deleted (a problem there is
 * logged on the VM's job and never changes the VM's result).
 */
export class BackupVmHandler {
  constructor(
    private readonly runner: VmJobRunner,
    private readonly backups: VmBackupService,
    private readonly metrics: WorkerMetrics,
    private readonly workerId: string,
    private readonly checkEveryMs = 2000,
    private readonly retention?: RetentionService,
    private readonly copies?: CopyService,
  ) {}

  async handle(job: VmJobInput): Promise<RunOutcome> {
    const t0 = process.hrtime.bigint();
    const out = await this.runner.run(
      job.data,
      { workerId: this.workerId, attempt: job.attemptsMade + 1, maxAttempts: job.maxAttempts, firstDelivery: job.attemptsMade === 0 && job.stalledCounter === 0, checkEveryMs: this.checkEveryMs, onProgress: (p) => job.reportProgress(p) },
      (ctx) => this.backups.backup(ctx),
    );
    const status = out.state === 'recorded' ? out.status : out.state;
    this.metrics.jobDone(status, Number(process.hrtime.bigint() - t0) / 1e9);
    if (status === 'success' && this.retention) await this.afterSuccess(job.data);
    return out;
  }

  /** Copies (the policy's immediate copy rules), then retention and prune in the flow's repository and in every repository that holds copies. */
  private async afterSuccess(p: BackupVmPayload): Promise<void> {
    const scope = { flow_id: p.flow_id, execution_id: p.execution_id, vm_context_id: p.vm_context_id, repository_id: p.repository_id, job_id: `vm-${p.execution_id}-${p.vm_context_id}` };
    let copies: number[] = [];
    try {
      copies = (await this.copies?.copyAll(scope)) ?? [];
    } catch (err) {
      this.retention!.failed(scope, err);
    }
    for (const repository_id of [p.repository_id, ...copies]) {
      const there = { ...scope, repository_id };
      try {
        await this.retention!.apply(there);
        await this.retention!.reclaim(there);
      } catch (err) {
        this.retention!.failed(there, err);
      }
    }
  }
}
