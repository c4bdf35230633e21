import { vcenterEndpoints, vmEndpoints } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { DiscoveryService } from '../services/discovery.service.js';
import type { InventoryService } from '../services/inventory.service.js';
import type { VcenterService } from '../services/vcenter.service.js';

export function inventoryRoutes(r: Registrar, inventory: InventoryService, vcenters: VcenterService, discovery: DiscoveryService): void {
  r.handle(vmEndpoints.list, async (c) => ({ body: await inventory.listVms(c.query) }));
  r.handle(vmEndpoints.get, async (c) => ({ body: await inventory.getVm(c.params.id) }));
  const v = vcenterEndpoints;
  r.handle(v.list, async (c) => ({ body: await vcenters.list(c.query) }));
  r.handle(v.create, async (c) => ({ status: 201, body: await vcenters.create(c.body, c.op) }));
  r.handle(v.get, async (c) => ({ body: await vcenters.get(c.params.id) }));
  r.handle(v.update, async (c) => ({ body: await vcenters.update(c.params.id, c.body, c.op) }));
  r.handle(v.discover, async (c) => ({ body: await discovery.discover(c.params.id, { op: c.op }) }));
  r.handle(v.remove, async (c) => (await vcenters.remove(c.params.id, c.op), { status: 204 }));
}
