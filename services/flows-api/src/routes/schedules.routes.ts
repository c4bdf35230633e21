import { scheduleEndpoints as e } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { ScheduleService } from '../services/schedule.service.js';

export function schedulesRoutes(r: Registrar, schedules: ScheduleService): void {
  r.handle(e.list, async (c) => ({ body: await schedules.list(c.query) }));
  r.handle(e.previewDraft, async (c) => ({ body: await schedules.previewDraft(c.body) }));
  r.handle(e.create, async (c) => ({ status: 201, body: await schedules.create(c.body, c.op) }));
  r.handle(e.get, async (c) => ({ body: await schedules.get(c.params.id) }));
  r.handle(e.update, async (c) => ({ body: await schedules.update(c.params.id, c.body, c.op) }));
  r.handle(e.remove, async (c) => (await schedules.remove(c.params.id, c.op), { status: 204 }));
  r.handle(e.preview, async (c) => ({ body: await schedules.preview(c.params.id, c.query.count) }));
  r.handle(e.executions, async (c) => ({ body: await schedules.executions(c.params.id, c.query) }));
}
