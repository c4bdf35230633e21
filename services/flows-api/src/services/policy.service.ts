import type { CopyRuleWrite, Db, PolicyWrite, Stores } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { badRequest, conflict, notFound, unprocessable, type ErrorDetail } from '@vaultflow/errors';
import type { CreatePolicyRequest, PolicyListQuery, PolicyResponse, UpdatePolicyRequest } from '@vaultflow/schemas';
import { toPolicyResponse } from '../mappers/resources.mapper.js';
import { writeTx } from './write-tx.js';

const KEEPS = ['keep_last', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_yearly'] as const;

function retentionWrite(r: CreatePolicyRequest['retention']): PolicyWrite {
  const w: PolicyWrite = {};
  for (const k of KEEPS) w[k] = r[k] ?? null;
  if (KEEPS.every((k) => !w[k])) {
    throw badRequest('VALIDATION_FAILED', 'A retention policy must keep something: set at least one of keep_last, keep_daily, keep_weekly, keep_monthly, keep_yearly', [
      { field: 'body.retention', message: 'must set at least one keep_* value' },
    ]);
  }
  return w;
}

/** Backup policies: retention and copy rules to other repositories. */
export class PolicyService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
  ) {}

  async get(id: number): Promise<PolicyResponse> {
    return toPolicyResponse(await this.require(id));
  }

  async list(q: PolicyListQuery) {
    const { rows, total } = await this.stores.policies.list(q);
    return { policies: rows.map(toPolicyResponse), total };
  }

  async create(input: CreatePolicyRequest, op: Operation): Promise<PolicyResponse> {
    const w = retentionWrite(input.retention);
    const rules = await this.checkRules(input.copy_rules ?? []);
    const id = await writeTx(this.db, 'policy', async (trx) => {
      if (await this.stores.policies.nameTaken(input.name, undefined, trx)) throw this.nameTaken(input.name);
      const newId = await this.stores.policies.insert({ ...w, name: input.name, description: input.description ?? null, created_by: op.actor.username }, trx);
      await this.stores.policies.replaceCopyRules(newId, rules, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'policy.create', entity_type: 'policy', entity_id: newId, details: { name: input.name }, request_id: op.requestId }, trx);
      return newId;
    }, () => this.nameTaken(input.name));
    return this.get(id);
  }

  /** `retention`, when given, replaces the whole retention; `copy_rules`, when given, replace all rules. */
  async update(id: number, input: UpdatePolicyRequest, op: Operation): Promise<PolicyResponse> {
    const current = await this.require(id);
    const w: PolicyWrite = input.retention ? retentionWrite(input.retention) : {};
    if (input.description !== undefined) w.description = input.description;
    if (input.name !== undefined) w.name = input.name;
    const rules = input.copy_rules ? await this.checkRules(input.copy_rules) : undefined;
    await writeTx(this.db, 'policy', async (trx) => {
      if (input.name !== undefined && input.name !== current.name && (await this.stores.policies.nameTaken(input.name, id, trx))) throw this.nameTaken(input.name);
      await this.stores.policies.update(id, w, trx);
      if (rules) await this.stores.policies.replaceCopyRules(id, rules, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'policy.update', entity_type: 'policy', entity_id: id, details: { fields: Object.keys(input) }, request_id: op.requestId }, trx);
    }, () => this.nameTaken(input.name ?? ''));
    return this.get(id);
  }

  /** Flows that used the policy keep running without one (their policy_id becomes null). */
  async remove(id: number, op: Operation): Promise<void> {
    const p = await this.require(id);
    await writeTx(this.db, 'policy', async (trx) => {
      await this.stores.policies.delete(id, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'policy.delete', entity_type: 'policy', entity_id: id, details: { name: p.name }, request_id: op.requestId }, trx);
    });
  }

  private async checkRules(rules: NonNullable<CreatePolicyRequest['copy_rules']>): Promise<CopyRuleWrite[]> {
    const bad: ErrorDetail[] = [];
    const seen = new Set<number>();
    for (const [i, r] of rules.entries()) {
      const field = `body.copy_rules.${i}.destination_repository_id`;
      if (seen.has(r.destination_repository_id)) {
        throw badRequest('VALIDATION_FAILED', `Repository ${r.destination_repository_id} appears in two copy rules`, [{ field, message: 'is used by another copy rule' }]);
      }
      seen.add(r.destination_repository_id);
      if (!(await this.stores.repositories.get(r.destination_repository_id))) bad.push({ field, message: `repository ${r.destination_repository_id} does not exist` });
    }
    if (bad.length) throw unprocessable('REFERENCE_NOT_FOUND', `Copy rules refer to repositories that do not exist`, bad);
    return rules.map((r) => ({ destination_repository_id: r.destination_repository_id, copy_mode: r.copy_mode ?? 'immediate', priority: r.priority ?? 0, verify_after_copy: r.verify_after_copy ?? false, enabled: r.enabled ?? true }));
  }

  private async require(id: number) {
    const p = await this.stores.policies.get(id);
    if (!p) throw notFound('POLICY_NOT_FOUND', `Policy ${id} does not exist`);
    return p;
  }

  private nameTaken(name: string) {
    return conflict('POLICY_NAME_TAKEN', `A policy named "${name}" already exists`, [{ field: 'body.name', message: 'is already used' }]);
  }
}
