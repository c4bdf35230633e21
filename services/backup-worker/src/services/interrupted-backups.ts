import type { Stores } from '@vaultflow/db';

/**
 * Fails the backup rows of one VM in one flow execution that a previous attempt left `running`: a
 * worker killed mid-transfer (SIGKILL, a crash, a lost host) never ended its row, and its restore point
 * was never committed. Only one attempt of a VM job runs at a time (the queue's lock), so when the
 * retry starts, any such row belongs to a dead attempt. Returns their ids.
 */
export async function failInterruptedBackups(
  backups: Stores['backups'], vmContextId: string, executionId: string, attempt: number, warn: (step: string, message: string) => void,
): Promise<string[]> {
  const { rows } = await backups.list({ vm_context_id: vmContextId, flow_execution_id: executionId, status: 'running', limit: 100, offset: 0 });
  for (const b of rows) {
    await backups.fail(b.id, 'failed', `interrupted: the worker running this backup stopped before it ended; attempt ${attempt} backs the VM up again`);
    warn('interrupted', `Backup ${b.id} of an earlier attempt was interrupted (its worker stopped); nothing of it was committed, this attempt starts over`);
  }
  return rows.map((b) => b.id);
}
