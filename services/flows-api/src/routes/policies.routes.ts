import { policyEndpoints as e } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { PolicyService } from '../services/policy.service.js';

export function policiesRoutes(r: Registrar, policies: PolicyService): void {
  r.handle(e.list, async (c) => ({ body: await policies.list(c.query) }));
  r.handle(e.create, async (c) => ({ status: 201, body: await policies.create(c.body, c.op) }));
  r.handle(e.get, async (c) => ({ body: await policies.get(c.params.id) }));
  r.handle(e.update, async (c) => ({ body: await policies.update(c.params.id, c.body, c.op) }));
  r.handle(e.remove, async (c) => (await policies.remove(c.params.id, c.op), { status: 204 }));
}
