import type { Stores, Tx } from '@vaultflow/db';
import { finalMessage, finalStatus, flowStatusOf, type ExecutionStatus } from '@vaultflow/domain';

/**
 * Ends an execution exactly once, inside the transaction that holds its row lock: final status
 * from the counters, completed_at, duration, created_job_ids, and the flow's statistics in the
 * same transaction. Returns the status it set, or undefined when the execution was final already.
 */
export async function finalizeLocked(
  stores: Pick<Stores, 'executions' | 'flows' | 'vmRuns'>,
  trx: Tx,
  e: { id: string; flow_id: string; cancelled: boolean; flowError?: string | null },
): Promise<ExecutionStatus | undefined> {
  const c = await stores.executions.counters(e.id, trx);
  const outcome = { ...c, cancelled: e.cancelled, flowError: e.flowError ?? null };
  const status = finalStatus(outcome);
  const done = await stores.executions.finalize(e.id, { status, error_message: finalMessage(outcome), created_job_ids: await stores.vmRuns.backupJobIds(e.id, trx) }, trx);
  if (!done) return undefined;
  await stores.flows.recordFinish(e.flow_id, e.id, flowStatusOf(status), trx);
  return status;
}
