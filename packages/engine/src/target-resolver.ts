import type { FlowRecord, NewVmRun, Queryable, Stores, VmRecord } from '@vaultflow/db';

export interface ResolvedTarget {
  /** One row per VM, without execution_id. Skipped VMs carry their reason in error_message. */
  rows: Omit<NewVmRun, 'execution_id'>[];
  /** A failure of the flow itself: nothing can run. */
  flowError?: string;
}

function skipReason(vm: { inventory_status: string; vcenter_id: string | null }): string | undefined {
  if (vm.inventory_status === 'missing') return 'missing from its vCenter';
  if (!vm.vcenter_id) return 'its vCenter is unknown';
  return undefined;
}

/**
 * Turns flows' targets into VM rows at the moment their executions start: the VM itself, or the
 * group's members then. A VM that is missing, disabled in the group, or whose vCenter is unknown
 * is skipped with its reason. Several flows are resolved with a handful of queries.
 */
export class TargetResolver {
  constructor(private readonly stores: Pick<Stores, 'vms' | 'groups' | 'repositories'>) {}

  async resolve(flow: FlowRecord, q: Queryable): Promise<ResolvedTarget> {
    return (await this.resolveMany([flow], q)).get(flow.id)!;
  }

  async resolveMany(flows: FlowRecord[], q: Queryable): Promise<Map<string, ResolvedTarget>> {
    const out = new Map<string, ResolvedTarget>();
    const repos = new Map<number, { name: string; enabled: boolean } | undefined>();
    for (const f of flows) if (f.repository_id !== null && !repos.has(f.repository_id)) repos.set(f.repository_id, await this.stores.repositories.state(f.repository_id, q));
    const vms: Map<string, VmRecord> = await this.stores.vms.getMany(flows.filter((f) => f.target_type === 'vm').map((f) => f.target_id), q);
    const groups = new Map<string, ResolvedTarget>();
    for (const flow of flows) {
      if (flow.flow_type === 'replication') {
        out.set(flow.id, { rows: [], flowError: `Replication to ${flow.destination_type} is not supported by this version of Vaultflow; only backup flows run` });
        continue;
      }
      const repo = flow.repository_id === null ? undefined : repos.get(flow.repository_id);
      if (!repo) { out.set(flow.id, { rows: [], flowError: `Repository ${flow.repository_id} does not exist any more` }); continue; }
      if (!repo.enabled) { out.set(flow.id, { rows: [], flowError: `Repository "${repo.name}" is disabled` }); continue; }
      if (flow.target_type === 'vm') {
        const vm = vms.get(flow.target_id);
        if (!vm) { out.set(flow.id, { rows: [], flowError: `VM ${flow.target_id} is not in the inventory any more` }); continue; }
        const reason = skipReason(vm);
        out.set(flow.id, { rows: [{ flow_id: flow.id, vm_context_id: vm.context_id, vm_name: vm.vm_name, group_id: null, priority: 50, status: reason ? 'skipped' : 'waiting', error_message: reason ?? null }] });
        continue;
      }
      let members = groups.get(flow.target_id);
      if (!members) {
        members = await this.groupRows(flow.target_id, q);
        groups.set(flow.target_id, members);
      }
      out.set(flow.id, { ...members, rows: members.rows.map((r) => ({ ...r, flow_id: flow.id })) });
    }
    return out;
  }

  private async groupRows(groupId: string, q: Queryable): Promise<ResolvedTarget> {
    const group = await this.stores.groups.get(groupId, q);
    if (!group) return { rows: [], flowError: `Protection group ${groupId} does not exist any more` };
    const rows: ResolvedTarget['rows'] = (await this.stores.groups.members(group.id, q)).map((m) => {
      const reason = !m.enabled ? `disabled in group "${group.name}"` : skipReason(m);
      return { flow_id: '', vm_context_id: m.vm_context_id, vm_name: m.vm_name, group_id: group.id, priority: group.priority, status: reason ? 'skipped' : 'waiting', error_message: reason ?? null };
    });
    return { rows };
  }
}
