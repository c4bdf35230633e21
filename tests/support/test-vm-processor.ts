import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import { createStores, type Db } from '@vaultflow/db';
import { createEngine } from '@vaultflow/engine';
import { TransientError } from '@vaultflow/errors';
import { createLogger } from '@vaultflow/logging';
import { JOBS, QUEUES, VmBackupQueue, createRedis, openQueue, type BackupVmPayload } from '@vaultflow/queue';

/**
 * A stand-in for the backup worker in engine tests: the real VM job lifecycle (VmJobRunner, result
 * recording, cancellation, retries) around scripted work with controllable delays and failures.
 * It is a test double for the data path only; every engine part it drives is the product's.
 */
export interface VmBehaviour {
  delayMs?: number;
  bytes?: number;
  /** Fail permanently. */
  fail?: boolean;
  /** Fail with a transient error on the first N attempts. */
  transientFailures?: number;
}

export interface TestProcessorOptions {
  db: Db;
  redisUrl: string;
  prefix: string;
  concurrency?: number;
  /** Behaviour by VM name prefix; the first matching entry wins. */
  behaviours?: [string, VmBehaviour][];
  defaults?: VmBehaviour;
  workerId?: string;
}

export async function startTestProcessor(o: TestProcessorOptions) {
  const stores = createStores(o.db);
  const connection = createRedis(o.redisUrl);
  const queue = openQueue(QUEUES.vmBackups, connection, o.prefix);
  const logger = createLogger('test-processor', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');
  const engine = createEngine({ db: o.db, stores, vmJobs: new VmBackupQueue(queue), logger });
  const workerId = o.workerId ?? `test-${randomUUID().slice(0, 8)}`;
  const spec = JOBS['backup.vm'];
  const behaviourOf = async (p: BackupVmPayload): Promise<VmBehaviour> => {
    if (!o.behaviours?.length) return { ...(o.defaults ?? {}) };
    const run = await stores.vmRuns.get(p.vm_run_id);
    const name = run?.vm_name ?? '';
    return { ...(o.defaults ?? {}), ...((o.behaviours ?? []).find(([prefix]) => name.startsWith(prefix))?.[1] ?? {}) };
  };
  const worker = new Worker(
    QUEUES.vmBackups,
    async (job) => {
      const payload = job.data as BackupVmPayload;
      const b = await behaviourOf(payload);
      const out = await engine.runner.run(payload, { workerId, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? spec.attempts, firstDelivery: job.attemptsMade === 0 && job.stalledCounter === 0, checkEveryMs: 250, onProgress: (p) => void job.updateProgress(p) }, async (ctx) => {
        const total = b.bytes ?? 1024 * 1024;
        const steps = 5;
        for (let i = 1; i <= steps; i++) {
          if (ctx.signal.aborted) throw new Error('cancelled');
          const ms = (b.delayMs ?? 50) / steps;
          if (ms > 0) await new Promise((r) => setTimeout(r, ms));
          ctx.progress({ phase: 'transfer', bytes_done: Math.round((total * i) / steps), bytes_total: total });
        }
        if (b.fail) throw new Error('simulated permanent failure');
        if ((b.transientFailures ?? 0) >= ctx.attempt) throw new TransientError(`simulated transient failure on attempt ${ctx.attempt}`);
        return { bytes_transferred: total, backup_job_id: `backup-${payload.vm_context_id.slice(0, 8)}-${payload.execution_id.slice(0, 8)}` };
      });
      if (out.state === 'retry') throw out.error;
      if (out.state === 'recorded' && out.status === 'failed') throw new UnrecoverableError(out.error ?? 'failed');
      return out;
    },
    { connection: createRedis(o.redisUrl), prefix: o.prefix, concurrency: o.concurrency ?? 10, lockDuration: spec.lockMs, stalledInterval: spec.stalledCheckMs, maxStalledCount: 2 },
  );
  worker.on('error', () => undefined);
  return {
    worker,
    workerId,
    async close() {
      await worker.close();
      await engine.log.flush();
      await queue.close();
      connection.disconnect();
    },
  };
}
