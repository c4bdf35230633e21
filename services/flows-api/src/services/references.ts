import type { Stores } from '@vaultflow/db';
import type { Queryable } from '@vaultflow/db';
import type { TargetType } from '@vaultflow/domain';
import { unprocessable, type ErrorDetail } from '@vaultflow/errors';

/** What a flow refers to. */
export interface FlowRefs {
  target_type: TargetType;
  target_id: string;
  repository_id?: number | null;
  policy_id?: number | null;
  schedule_id?: string | null;
}

export type RefKind = 'target' | 'repository_id' | 'policy_id' | 'schedule_id';
const ALL: ReadonlySet<RefKind> = new Set(['target', 'repository_id', 'policy_id', 'schedule_id']);

/**
 * Checks that every object a flow refers to exists (and a repository is enabled). Collects all
 * problems, so the client learns about every bad field at once.
 */
export class ReferenceChecker {
  constructor(private readonly stores: Pick<Stores, 'vms' | 'groups' | 'repositories' | 'policies' | 'schedules'>) {}

  async problems(r: FlowRefs, q?: Queryable, only: ReadonlySet<RefKind> = ALL): Promise<ErrorDetail[]> {
    const out: ErrorDetail[] = [];
    if (only.has('target')) {
      const exists = r.target_type === 'vm' ? await this.stores.vms.get(r.target_id, q) : await this.stores.groups.get(r.target_id, q);
      if (!exists) {
        const what = r.target_type === 'vm' ? `VM ${r.target_id} does not exist in the inventory` : `protection group ${r.target_id} does not exist`;
        out.push({ field: 'body.target_id', message: what });
      }
    }
    if (only.has('repository_id') && r.repository_id !== null && r.repository_id !== undefined) {
      const repo = await this.stores.repositories.get(r.repository_id, q);
      if (!repo) out.push({ field: 'body.repository_id', message: `repository ${r.repository_id} does not exist` });
      else if (!repo.enabled) out.push({ field: 'body.repository_id', message: `repository "${repo.name}" is disabled` });
    }
    if (only.has('policy_id') && r.policy_id !== null && r.policy_id !== undefined && !(await this.stores.policies.get(r.policy_id, q))) {
      out.push({ field: 'body.policy_id', message: `policy ${r.policy_id} does not exist` });
    }
    if (only.has('schedule_id') && r.schedule_id && !(await this.stores.schedules.get(r.schedule_id, q))) {
      out.push({ field: 'body.schedule_id', message: `schedule ${r.schedule_id} does not exist` });
    }
    return out;
  }

  /** Throws 422 REFERENCE_NOT_FOUND naming every bad reference. */
  async assertValid(r: FlowRefs, q?: Queryable, only: ReadonlySet<RefKind> = ALL): Promise<void> {
    const p = await this.problems(r, q, only);
    if (p.length) throw unprocessable('REFERENCE_NOT_FOUND', `The flow refers to something that cannot be used: ${p.map((x) => x.message).join('; ')}`, p);
  }
}
