import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExecutionStore } from '@vaultflow/db';
import type { Queue } from 'bullmq';

/** The orchestrator's metrics; queue depth and executions by status are read at scrape time. */
export function createOrchestratorMetrics(executions: ExecutionStore, queues: Queue[]) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const lag = new Histogram({
    name: 'vaultflow_scheduler_lag_seconds',
    help: 'Start of a scheduled execution minus its scheduled_for',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const fires = new Counter({ name: 'vaultflow_schedule_fires_total', help: 'Scheduler fires by outcome (run, skipped, missed, inactive)', labelNames: ['outcome'] as const, registers: [registry] });
  const repairs = new Counter({ name: 'vaultflow_reconciler_repairs_total', help: 'Repairs made by the reconciler', labelNames: ['kind'] as const, registers: [registry] });
  new Gauge({
    name: 'vaultflow_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of queues) {
        const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
        for (const [state, n] of Object.entries(counts)) this.set({ queue: q.name, state }, n);
      }
    },
  });
  new Gauge({
    name: 'vaultflow_executions',
    help: 'Protection flow executions by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await executions.countByStatus()) this.set({ status: r.status }, r.n);
    },
  });
  return {
    registry,
    lag,
    fire: (outcome: string) => fires.inc({ outcome }),
    repaired: (kind: string, n = 1) => n > 0 && repairs.inc({ kind }, n),
  };
}
export type OrchestratorMetrics = ReturnType<typeof createOrchestratorMetrics>;
