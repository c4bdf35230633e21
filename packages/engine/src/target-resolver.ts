import type { FlowRecord, NewVmRun, Queryable, Stores } from '@vaultflow/db';

export interface ResolvedTarget {
  /** One row per VM, without execution_id. Skipped VMs carry their reason in error_message. */
  rows: Omit<NewVmRun, 'execution_id'>[];
  /** A failure of the flow itself: nothing can run. */
  flowError?: string;
}

/**
 * Turns a flow's target into VM rows at the moment the execution starts: the VM itself, or the
 * group's members then. A VM that is missing, disabled in the group, or whose vCenter is unknown
 * is skipped with its reason.
 */
export class TargetResolver {
  constructor(private readonly stores: Pick<Stores, 'vms' | 'groups' | 'repositories'>) {}

  async resolve(flow: FlowRecord, q: Queryable): Promise<ResolvedTarget> {
    if (flow.flow_type === 'replication') {
      return { rows: [], flowError: `Replication to ${flow.destination_type} is not supported by this version of Vaultflow; only backup flows run` };
    }
    const repo = flow.repository_id === null ? undefined : await this.stores.repositories.state(flow.repository_id, q);
    if (!repo) return { rows: [], flowError: `Repository ${flow.repository_id} does not exist any more` };
    if (!repo.enabled) return { rows: [], flowError: `Repository "${repo.name}" is disabled` };

    const base = { flow_id: flow.id };
    if (flow.target_type === 'vm') {
      const vm = await this.stores.vms.get(flow.target_id, q);
      if (!vm) return { rows: [], flowError: `VM ${flow.target_id} is not in the inventory any more` };
      const reason = this.skipReason(vm);
      return { rows: [{ ...base, vm_context_id: vm.context_id, vm_name: vm.vm_name, group_id: null, priority: 50, status: reason ? 'skipped' : 'waiting', error_message: reason ?? null }] };
    }
    const group = await this.stores.groups.get(flow.target_id, q);
    if (!group) return { rows: [], flowError: `Protection group ${flow.target_id} does not exist any more` };
    const members = await this.stores.groups.members(group.id, q);
    const rows: ResolvedTarget['rows'] = [];
    for (const m of members) {
      const reason = !m.enabled ? `disabled in group "${group.name}"` : this.skipReason({ inventory_status: m.inventory_status, vcenter_id: m.vcenter_id });
      rows.push({ ...base, vm_context_id: m.vm_context_id, vm_name: m.vm_name, group_id: group.id, priority: group.priority, status: reason ? 'skipped' : 'waiting', error_message: reason ?? null });
    }
    return { rows };
  }

  private skipReason(vm: { inventory_status: string; vcenter_id: string | null }): string | undefined {
    if (vm.inventory_status === 'missing') return 'missing from its vCenter';
    if (!vm.vcenter_id) return 'its vCenter is unknown';
    return undefined;
  }
}
