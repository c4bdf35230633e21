import type { PolicyRecord, Stores } from '@vaultflow/db';

/** A flow's policy as the post-backup steps read it: retention rules, copy rules, and the zone its days are in. */
export interface FlowPolicy {
  policy: PolicyRecord;
  /** The flow's schedule zone (UTC without a schedule): where retention's days, weeks and months begin. */
  timeZone: string;
}

/** The policy of a flow, or undefined when the flow is gone or has none. */
export async function loadFlowPolicy(stores: Stores, flowId: string): Promise<FlowPolicy | undefined> {
  const flow = await stores.flows.get(flowId);
  const policy = flow?.policy_id ? await stores.policies.get(flow.policy_id) : undefined;
  return flow && policy ? { policy, timeZone: flow.schedule_timezone ?? 'UTC' } : undefined;
}
