import { randomUUID } from 'node:crypto';
import type { Db, FlowRecord, FlowWrite, Stores } from '@vaultflow/db';
import { flowShapeProblems, isValidTimeZone, startOfDay, type Operation } from '@vaultflow/domain';
import { badRequest, conflict, notFound, unprocessable } from '@vaultflow/errors';
import type { BulkFlowResponse, CreateFlowRequest, FlowListQuery, FlowResponse, FlowSummary, UpdateFlowRequest } from '@vaultflow/schemas';
import { toFlowResponse } from '../mappers/flow.mapper.js';
import type { FlowScheduleSync } from './flow-schedule-sync.js';
import { writeTx } from './write-tx.js';
import type { ReferenceChecker, RefKind } from './references.js';

const WRITABLE = ['name', 'description', 'flow_type', 'target_type', 'target_id', 'repository_id', 'policy_id', 'destination_type', 'destination_config', 'schedule_id', 'enabled', 'vm_start_window_minutes'] as const;

/** Pick the writable fields a request sent (undefined = not sent; null = clear). */
function writeOf(input: UpdateFlowRequest): FlowWrite {
  const w: Record<string, unknown> = {};
  for (const k of WRITABLE) if (input[k] !== undefined) w[k] = input[k];
  return w as FlowWrite;
}

/** The rules of protection flows: validation, references, names, enable/disable, bulk changes. */
export class FlowService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly refs: ReferenceChecker,
    private readonly sync: FlowScheduleSync,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(id: string): Promise<FlowResponse> {
    return toFlowResponse(await this.require(id));
  }

  async require(id: string): Promise<FlowRecord> {
    const f = await this.stores.flows.get(id);
    if (!f) throw notFound('FLOW_NOT_FOUND', `Protection flow ${id} does not exist`);
    return f;
  }

  async list(q: FlowListQuery): Promise<{ flows: FlowResponse[]; total: number }> {
    const { rows, total } = await this.stores.flows.list(q);
    return { flows: rows.map(toFlowResponse), total };
  }

  async create(input: CreateFlowRequest, op: Operation): Promise<FlowResponse> {
    const shape = flowShapeProblems(input);
    if (shape.length) throw badRequest('FLOW_INVALID', `Invalid flow: ${shape[0]!.field} ${shape[0]!.message}`, shape);
    const id = randomUUID();
    await writeTx(this.db, 'flow', async (trx) => {
      if (await this.stores.flows.nameTaken(input.name, undefined, trx)) throw this.nameTaken(input.name);
      await this.refs.assertValid(input, trx);
      await this.stores.flows.insert(id, { ...writeOf(input), created_by: op.actor.username }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'flow.create', entity_type: 'protection_flow', entity_id: id, details: { name: input.name }, request_id: op.requestId }, trx);
      await this.sync.flowsChanged([id], trx, { rearm: true });
    }, () => this.nameTaken(input.name));
    await this.sync.apply([id]);
    return this.get(id);
  }

  /** Partial update: fields left out keep their value; the merged flow must be valid as a whole. */
  async update(id: string, input: UpdateFlowRequest, op: Operation): Promise<FlowResponse> {
    const patch = writeOf(input);
    await writeTx(this.db, 'flow', async (trx) => {
      const current = await this.stores.flows.get(id, trx);
      if (!current) throw notFound('FLOW_NOT_FOUND', `Protection flow ${id} does not exist`);
      const merged = { ...current, ...patch };
      const shape = flowShapeProblems(merged);
      if (shape.length) throw badRequest('FLOW_INVALID', `Invalid flow: ${shape[0]!.field} ${shape[0]!.message}`, shape);
      if (patch.name !== undefined && patch.name !== current.name && (await this.stores.flows.nameTaken(patch.name, id, trx))) throw this.nameTaken(patch.name);
      // Only references that change are re-checked: an existing flow may point at a repository
      // that was disabled since, and renaming it must still work.
      const changed = (k: keyof FlowWrite) => patch[k] !== undefined && patch[k] !== current[k as keyof FlowRecord];
      const recheck = new Set<RefKind>();
      if (changed('target_type') || changed('target_id')) recheck.add('target');
      for (const k of ['repository_id', 'policy_id', 'schedule_id'] as const) if (changed(k)) recheck.add(k);
      await this.refs.assertValid(merged, trx, recheck);
      await this.stores.flows.update(id, patch, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'flow.update', entity_type: 'protection_flow', entity_id: id, details: { fields: Object.keys(patch) }, request_id: op.requestId }, trx);
      await this.sync.flowsChanged([id], trx, { rearm: changed('schedule_id') || changed('enabled') });
    }, () => this.nameTaken(patch.name ?? ''));
    await this.sync.apply([id]);
    return this.get(id);
  }

  async remove(id: string, op: Operation): Promise<void> {
    await this.db.transaction(async (trx) => {
      const flow = await this.stores.flows.get(id, trx);
      if (!flow) throw notFound('FLOW_NOT_FOUND', `Protection flow ${id} does not exist`);
      await this.stores.flows.delete([id], trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'flow.delete', entity_type: 'protection_flow', entity_id: id, details: { name: flow.name }, request_id: op.requestId }, trx);
    });
    await this.sync.flowsDeleted([id]);
  }

  async setEnabled(id: string, enabled: boolean, op: Operation): Promise<FlowResponse> {
    await this.bulkSetEnabled([id], enabled, op, true);
    return this.get(id);
  }

  /** All or nothing: every id must exist, or nothing changes (422 naming the missing ones). */
  async bulkSetEnabled(ids: string[], enabled: boolean, op: Operation, single = false): Promise<BulkFlowResponse> {
    await this.db.transaction(async (trx) => {
      await this.lockAll(ids, trx, single);
      await this.stores.flows.setEnabled(ids, enabled, trx);
      for (const id of ids) {
        await this.stores.audit.record({ actor: op.actor.username, action: enabled ? 'flow.enable' : 'flow.disable', entity_type: 'protection_flow', entity_id: id, request_id: op.requestId }, trx);
      }
      await this.sync.flowsChanged(ids, trx, { rearm: enabled });
    });
    await this.sync.apply(ids);
    return { affected: ids.length, flow_ids: ids };
  }

  async bulkDelete(ids: string[], op: Operation): Promise<BulkFlowResponse> {
    await this.db.transaction(async (trx) => {
      await this.lockAll(ids, trx, false);
      await this.stores.flows.delete(ids, trx);
      for (const id of ids) {
        await this.stores.audit.record({ actor: op.actor.username, action: 'flow.delete', entity_type: 'protection_flow', entity_id: id, details: { bulk: true }, request_id: op.requestId }, trx);
      }
    });
    await this.sync.flowsDeleted(ids);
    return { affected: ids.length, flow_ids: ids };
  }

  async summary(timezone = 'UTC'): Promise<FlowSummary> {
    if (!isValidTimeZone(timezone)) throw badRequest('VALIDATION_FAILED', `Unknown time zone "${timezone}"`, [{ field: 'query.timezone', message: 'must be an IANA time zone such as Europe/Berlin' }]);
    const since = startOfDay(this.now(), timezone);
    const [f, e] = await Promise.all([this.stores.flows.counts(), this.stores.executions.countsSince(since)]);
    return {
      total_flows: f.total,
      enabled_flows: f.enabled,
      disabled_flows: f.total - f.enabled,
      backup_flows: f.backup,
      replication_flows: f.replication,
      total_executions_today: e.total,
      successful_executions_today: e.success,
      failed_executions_today: e.failed,
      running_executions: e.running,
      flows_last_failed: f.last_failed,
      bytes_transferred_today: e.bytes,
      day_start: since.toISOString(),
    };
  }

  private async lockAll(ids: string[], trx: Parameters<Parameters<Db['transaction']>[0]>[0], single: boolean): Promise<void> {
    const found = new Set(await this.stores.flows.lockExisting(ids, trx));
    const missing = ids.filter((id) => !found.has(id));
    if (!missing.length) return;
    if (single) throw notFound('FLOW_NOT_FOUND', `Protection flow ${missing[0]} does not exist`);
    throw unprocessable(
      'FLOWS_NOT_FOUND',
      `${missing.length} of the flows do not exist; nothing was changed`,
      missing.map((id) => ({ field: `body.flow_ids.${ids.indexOf(id)}`, message: `flow ${id} does not exist` })),
    );
  }

  private nameTaken(name: string) {
    return conflict('FLOW_NAME_TAKEN', `A protection flow named "${name}" already exists`, [{ field: 'body.name', message: 'is already used by another flow' }]);
  }

}
