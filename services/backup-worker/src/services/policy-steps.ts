import type { Stores } from '@vaultflow/db';
import type { CopyService } from './copy.service.js';
import { loadFlowPolicy, type FlowPolicy } from './flow-policy.js';
import type { PlannedPoints, RetentionScope, RetentionService } from './retention.service.js';

/**
 * What a flow's policy asks for once a VM's backup is recorded, in one place for both triggers: the
 * copy rules of the mode at hand (`immediate` after each backup, `scheduled` from the periodic pass),
 * then retention and prune in every repository that holds the flow's points: after a backup its own
 * repository and the copies', in the pass the copies'. A problem is logged on the job and stops
 * nothing else; the next run tries again.
 */
export class PolicySteps {
  constructor(
    private readonly stores: Stores,
    private readonly copies: CopyService,
    private readonly retention: RetentionService,
  ) {}

  /** `policy` when the caller loaded it already (the pass, once per flow); undefined: loaded here. */
  async run(scope: RetentionScope, mode: 'immediate' | 'scheduled', policy?: FlowPolicy | null): Promise<void> {
    let loaded: FlowPolicy | undefined;
    try {
      loaded = policy === undefined ? await loadFlowPolicy(this.stores, scope.flow_id) : policy ?? undefined;
    } catch (err) {
      this.retention.failed(scope, err);
      return;
    }
    let copies: number[] = [];
    let source: PlannedPoints | undefined; // the scope's points, planned once for the copies and its own retention
    if (loaded) {
      try {
        source = await this.retention.plan(scope, loaded);
        copies = await this.copies.copyAll(scope, loaded, mode, source);
      } catch (err) {
        this.retention.failed(scope, err);
      }
    }
    // without a policy there is nothing to keep or copy, but deletions by hand still wait for a prune
    for (const repository_id of mode === 'immediate' ? [scope.repository_id, ...copies] : copies) {
      const there = { ...scope, repository_id };
      try {
        if (loaded) await this.retention.apply(there, loaded, repository_id === scope.repository_id ? source : undefined);
        await this.retention.reclaim(there);
      } catch (err) {
        this.retention.failed(there, err);
      }
    }
  }
}
