import { randomUUID } from 'node:crypto';
import type { Db, ScheduleWrite, Stores } from '@vaultflow/db';
import { canonicalTimeZone, cronProblem, formatInZone, nextFire, nextFires, type Operation } from '@vaultflow/domain';
import { badRequest, conflict, notFound, type ErrorDetail } from '@vaultflow/errors';
import type { CreateScheduleRequest, ScheduleDraftPreviewRequest, ScheduleDraftPreviewResponse, ScheduleListQuery, ScheduleResponse, SchedulePreviewResponse, UpdateScheduleRequest } from '@vaultflow/schemas';
import { toScheduleExecution, toScheduleResponse } from '../mappers/resources.mapper.js';
import type { FlowScheduleSync } from './flow-schedule-sync.js';
import { writeTx } from './write-tx.js';

/** Cron schedules: validation of cron and zone, previews, and keeping their flows in step. */
export class ScheduleService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly sync: FlowScheduleSync,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private respond(s: Parameters<typeof toScheduleResponse>[0]): ScheduleResponse {
    return toScheduleResponse(s, s.enabled ? (nextFire(s.cron_expression, s.timezone, this.now()) ?? null) : null);
  }

  async get(id: string): Promise<ScheduleResponse> {
    return this.respond(await this.require(id));
  }

  async list(q: ScheduleListQuery) {
    const { rows, total } = await this.stores.schedules.list(q);
    return { schedules: rows.map((s) => this.respond(s)), total };
  }

  async create(input: CreateScheduleRequest, op: Operation): Promise<ScheduleResponse> {
    const tz = this.assertValid(input.cron_expression, input.timezone ?? 'UTC');
    const id = randomUUID();
    await writeTx(this.db, 'schedule', async (trx) => {
      if (await this.stores.schedules.nameTaken(input.name, undefined, trx)) throw this.nameTaken(input.name);
      await this.stores.schedules.insert(id, { ...input, cron_expression: input.cron_expression.trim(), timezone: tz, created_by: op.actor.username }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'schedule.create', entity_type: 'schedule', entity_id: id, details: { name: input.name, cron: input.cron_expression, timezone: tz }, request_id: op.requestId }, trx);
    }, () => this.nameTaken(input.name));
    return this.get(id);
  }

  async update(id: string, input: UpdateScheduleRequest, op: Operation): Promise<ScheduleResponse> {
    const affected = await writeTx(this.db, 'schedule', async (trx) => {
      const current = await this.stores.schedules.get(id, trx);
      if (!current) throw this.notFound(id);
      const tz = this.assertValid(input.cron_expression ?? current.cron_expression, input.timezone ?? current.timezone);
      if (input.name !== undefined && input.name !== current.name && (await this.stores.schedules.nameTaken(input.name, id, trx))) throw this.nameTaken(input.name);
      const w: ScheduleWrite = { ...input };
      if (w.timezone !== undefined) w.timezone = tz;
      if (w.cron_expression) w.cron_expression = w.cron_expression.trim();
      await this.stores.schedules.update(id, w, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'schedule.update', entity_type: 'schedule', entity_id: id, details: { fields: Object.keys(input) }, request_id: op.requestId }, trx);
      const timing = ['cron_expression', 'timezone', 'enabled'].some((k) => k in input);
      const flows = await this.stores.flows.scheduledFlows(id, trx);
      await this.sync.flowsChanged(flows.map((f) => f.id), trx, { rearm: timing });
      return flows.map((f) => f.id);
    }, () => this.nameTaken(input.name ?? ''));
    await this.sync.apply(affected);
    return this.get(id);
  }

  /** Deletes the schedule; its flows stay and run on demand only (schedule_id NULL, no next run). */
  async remove(id: string, op: Operation): Promise<void> {
    const affected = await this.db.transaction(async (trx) => {
      const current = await this.stores.schedules.get(id, trx);
      if (!current) throw this.notFound(id);
      const flows = await this.stores.flows.scheduledFlows(id, trx);
      await this.stores.schedules.delete(id, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'schedule.delete', entity_type: 'schedule', entity_id: id, details: { name: current.name, flows: flows.map((f) => f.id) }, request_id: op.requestId }, trx);
      await this.sync.flowsChanged(flows.map((f) => f.id), trx);
      return flows.map((f) => f.id);
    });
    await this.sync.apply(affected);
  }

  async preview(id: string, count: number): Promise<SchedulePreviewResponse> {
    const s = await this.require(id);
    return { schedule_id: s.id, ...this.firesOf(s.cron_expression, s.timezone, count) };
  }

  /** The next fires of a cron and zone not saved yet, checked exactly as a create checks them; writes nothing. */
  async previewDraft(input: ScheduleDraftPreviewRequest): Promise<ScheduleDraftPreviewResponse> {
    const tz = this.assertValid(input.cron_expression, input.timezone ?? 'UTC');
    return this.firesOf(input.cron_expression.trim(), tz, input.count ?? 5);
  }

  private firesOf(cron: string, tz: string, count: number): ScheduleDraftPreviewResponse {
    const fires = nextFires(cron, tz, count, this.now());
    return { cron_expression: cron, timezone: tz, fires: fires.map((d) => ({ at: d.toISOString(), local: formatInZone(d, tz) })) };
  }

  async executions(id: string, q: { limit: number; offset: number; status?: string; flow_id?: string }) {
    await this.require(id);
    const { rows, total } = await this.stores.schedules.listExecutions(id, q);
    return { executions: rows.map(toScheduleExecution), total };
  }

  /** Throws 400 naming each bad field; returns the zone under its canonical IANA name (as stored). */
  private assertValid(cron: string, tz: string): string {
    const details: ErrorDetail[] = [];
    const zone = canonicalTimeZone(tz);
    if (!zone) details.push({ field: 'body.timezone', message: `"${tz}" is not an IANA time zone (e.g. UTC, Europe/Berlin)` });
    const problem = cronProblem(cron, zone ?? 'UTC');
    if (problem) details.push({ field: 'body.cron_expression', message: problem });
    if (details.length || !zone) throw badRequest('VALIDATION_FAILED', `Invalid schedule: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`, details);
    return zone;
  }

  private async require(id: string) {
    const s = await this.stores.schedules.get(id);
    if (!s) throw this.notFound(id);
    return s;
  }

  private notFound(id: string) {
    return notFound('SCHEDULE_NOT_FOUND', `Schedule ${id} does not exist`);
  }

  private nameTaken(name: string) {
    return conflict('SCHEDULE_NAME_TAKEN', `A schedule named "${name}" already exists`, [{ field: 'body.name', message: 'is already used' }]);
  }

}
