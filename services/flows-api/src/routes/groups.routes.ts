import { groupEndpoints as e } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { GroupService } from '../services/group.service.js';

export function groupsRoutes(r: Registrar, groups: GroupService): void {
  r.handle(e.list, async (c) => ({ body: await groups.list(c.query) }));
  r.handle(e.create, async (c) => ({ status: 201, body: await groups.create(c.body, c.op) }));
  r.handle(e.get, async (c) => ({ body: await groups.get(c.params.id) }));
  r.handle(e.update, async (c) => ({ body: await groups.update(c.params.id, c.body, c.op) }));
  r.handle(e.remove, async (c) => (await groups.remove(c.params.id, c.op), { status: 204 }));
  r.handle(e.members, async (c) => ({ body: await groups.members(c.params.id) }));
  r.handle(e.addMembers, async (c) => ({ body: await groups.addMembers(c.params.id, c.body, c.op) }));
  r.handle(e.updateMember, async (c) => ({ body: await groups.setMemberEnabled(c.params.id, c.params.vmId, c.body.enabled, c.op) }));
  r.handle(e.removeMember, async (c) => (await groups.removeMember(c.params.id, c.params.vmId, c.op), { status: 204 }));
}
