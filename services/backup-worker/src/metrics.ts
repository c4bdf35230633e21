import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The backup worker's metrics, on a registry of its own (several workers may share a process in tests). */
export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'vaultflow_vm_job_duration_seconds',
    help: 'Time one backup.vm job took, by outcome (success, failed, cancelled, retry, dropped)',
    labelNames: ['status'] as const,
    buckets: [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600],
    registers: [registry],
  });
  const bytes = new Counter({ name: 'vaultflow_backup_bytes_total', help: 'Bytes read from VM disks into restore points', registers: [registry] });
  return {
    registry,
    jobDone: (status: string, seconds: number) => duration.observe({ status }, seconds),
    bytesRead: (n: number) => n > 0 && bytes.inc(n),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
