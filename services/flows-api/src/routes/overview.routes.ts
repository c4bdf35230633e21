import { executionEndpoints, vmEndpoints } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { ExecutionHistoryService } from '../services/execution-history.service.js';
import type { UnprotectedVmsService } from '../services/unprotected-vms.service.js';

/**
 * Views across resources: executions of every flow and the VMs left unprotected. Mounted before the
 * inventory routes so /vms/unprotected is not taken for a VM id.
 */
export function overviewRoutes(r: Registrar, history: ExecutionHistoryService, unprotected: UnprotectedVmsService): void {
  r.handle(executionEndpoints.list, async (c) => ({ body: await history.list(c.query) }));
  r.handle(vmEndpoints.unprotected, async () => ({ body: await unprotected.list() }));
}
