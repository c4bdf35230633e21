import type { JobLogEntry, JobLogStore } from '@vaultflow/db';
import type { Logger } from '@vaultflow/logging';

/**
 * Writes a step of an execution or VM job to job_logs (what users read in the GUI) and to the
 * service's pino log with the same ids. A failing log write never fails the job.
 */
export class JobLog {
  constructor(
    private readonly store: JobLogStore,
    private readonly logger: Logger,
  ) {}

  async write(e: JobLogEntry): Promise<void> {
    const fields = { flowId: e.flow_id, executionId: e.execution_id, jobId: e.job_id, step: e.step, ...(e.context ?? {}) };
    this.logger[e.level](fields, e.message);
    await this.store.write(e).catch((err: Error) => this.logger.warn({ err: err.message }, 'job log write failed'));
  }

  info(execution: { flow_id: string; execution_id: string; job_id?: string }, step: string, message: string, context?: Record<string, unknown>) {
    return this.write({ ...execution, level: 'info', step, message, context });
  }

  warn(execution: { flow_id: string; execution_id: string; job_id?: string }, step: string, message: string, context?: Record<string, unknown>) {
    return this.write({ ...execution, level: 'warn', step, message, context });
  }

  error(execution: { flow_id: string; execution_id: string; job_id?: string }, step: string, message: string, context?: Record<string, unknown>) {
    return this.write({ ...execution, level: 'error', step, message, context });
  }
}
