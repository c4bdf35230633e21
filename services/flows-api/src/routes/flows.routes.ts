import { flowEndpoints as e } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { FlowCheckService } from '../services/flow-check.service.js';
import type { FlowRunService } from '../services/flow-run.service.js';
import type { FlowService } from '../services/flow.service.js';

export function flowsRoutes(r: Registrar, flows: FlowService, runs: FlowRunService, checks: FlowCheckService): void {
  r.handle(e.list, async (c) => ({ body: await flows.list(c.query) }));
  r.handle(e.summary, async (c) => ({ body: await flows.summary(c.query.timezone) }));
  r.handle(e.create, async (c) => ({ status: 201, body: await flows.create(c.body, c.op) }));
  r.handle(e.bulkEnable, async (c) => ({ body: await flows.bulkSetEnabled(c.body.flow_ids, true, c.op) }));
  r.handle(e.bulkDisable, async (c) => ({ body: await flows.bulkSetEnabled(c.body.flow_ids, false, c.op) }));
  r.handle(e.bulkDelete, async (c) => ({ body: await flows.bulkDelete(c.body.flow_ids, c.op) }));
  r.handle(e.get, async (c) => ({ body: await flows.get(c.params.id) }));
  r.handle(e.update, async (c) => ({ body: await flows.update(c.params.id, c.body, c.op) }));
  r.handle(e.remove, async (c) => (await flows.remove(c.params.id, c.op), { status: 204 }));
  r.handle(e.enable, async (c) => ({ body: await flows.setEnabled(c.params.id, true, c.op) }));
  r.handle(e.disable, async (c) => ({ body: await flows.setEnabled(c.params.id, false, c.op) }));
  r.handle(e.execute, async (c) => ({ status: 202, body: await runs.execute(c.params.id, c.op) }));
  r.handle(e.executions, async (c) => ({ body: await runs.executions(c.params.id, c.query) }));
  r.handle(e.execution, async (c) => ({ body: await runs.execution(c.params.id, c.params.execId) }));
  r.handle(e.cancel, async (c) => ({ status: 202, body: await runs.cancel(c.params.id, c.params.execId, c.op) }));
  r.handle(e.logs, async (c) => ({ body: await runs.logs(c.params.id, c.params.execId, c.query) }));
  r.handle(e.status, async (c) => ({ body: await runs.status(c.params.id) }));
  r.handle(e.test, async (c) => ({ body: await checks.check(await flows.require(c.params.id)) }));
}
