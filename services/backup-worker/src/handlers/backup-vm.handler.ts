import type { RunOutcome, VmJobRunner, VmProgress } from '@vaultflow/engine';
import { vmJobId, type BackupVmPayload } from '@vaultflow/queue';
import type { WorkerMetrics } from '../metrics.js';
import type { PolicySteps } from '../services/policy-steps.js';
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
    private readonly policy?: PolicySteps,
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
    if (status === 'success' && this.policy) {
      const p = job.data;
      await this.policy.run({ flow_id: p.flow_id, execution_id: p.execution_id, vm_context_id: p.vm_context_id, repository_id: p.repository_id, job_id: vmJobId(p.execution_id, p.vm_context_id) }, 'immediate');
    }
    return out;
  }
}
