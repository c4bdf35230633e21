import type { FlowRecord, Stores } from '@vaultflow/db';
import { cronProblem, nextFires } from '@vaultflow/domain';
import type { TestFlowResponse } from '@vaultflow/schemas';
import type { RepositoryStorage } from './repository-storage.js';

type Check = TestFlowResponse['checks'][number];

/** Low free space, as a share of the repository's file system, that earns a warning. */
const LOW_SPACE_RATIO = 0.1;

/**
 * The dry run behind POST /protection-flows/{id}/test: checks everything the flow refers to, as a
 * run would find it now, and changes nothing.
 */
export class FlowCheckService {
  constructor(
    private readonly stores: Stores,
    private readonly storage: RepositoryStorage,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async check(flow: FlowRecord): Promise<TestFlowResponse> {
    const checks: Check[] = [];
    const ok = (name: string, message: string) => checks.push({ name, ok: true, severity: 'info', message });
    const warn = (name: string, message: string) => checks.push({ name, ok: true, severity: 'warning', message });
    const fail = (name: string, message: string) => checks.push({ name, ok: false, severity: 'error', message });

    if (!flow.enabled) warn('enabled', 'The flow is disabled: it will not run on its schedule');
    else ok('enabled', 'The flow is enabled');

    await this.checkTarget(flow, ok, warn, fail);
    if (flow.flow_type === 'backup') await this.checkRepository(flow, ok, warn, fail);
    else warn('destination', `Replication to ${flow.destination_type} is recorded, but this version of Vaultflow runs backup flows only`);

    if (flow.policy_id === null) warn('policy', 'No retention policy: restore points are kept until deleted by hand');
    else await this.checkPolicy(flow.policy_id, flow.repository_id, ok, warn);

    let fires: Date[] = [];
    if (!flow.schedule_id) warn('schedule', 'No schedule: the flow runs only when started by hand or through the API');
    else if (!flow.schedule_enabled) warn('schedule', `Schedule "${flow.schedule_name}" is disabled`);
    else {
      const problem = cronProblem(flow.schedule_cron ?? '', flow.schedule_timezone ?? 'UTC');
      if (problem) fail('schedule', `Schedule "${flow.schedule_name}": cron ${problem}`);
      else {
        fires = nextFires(flow.schedule_cron!, flow.schedule_timezone ?? 'UTC', 5, this.now());
        ok('schedule', `Schedule "${flow.schedule_name}" (${flow.schedule_cron}, ${flow.schedule_timezone}) next fires ${fires[0]?.toISOString() ?? 'never'}`);
      }
    }

    const errors = checks.filter((c) => c.severity === 'error').map((c) => c.message);
    const warnings = checks.filter((c) => c.severity === 'warning').map((c) => c.message);
    return { valid: errors.length === 0, errors, warnings, checks, next_fire_times: fires.map((d) => d.toISOString()) };
  }

  /** The policy in words: what it keeps after each backup, and where its copy rules copy to. */
  private async checkPolicy(policyId: number, repositoryId: number | null, ok: (n: string, m: string) => void, warn: (n: string, m: string) => void) {
    const policy = await this.stores.policies.get(policyId);
    if (!policy) return warn('policy', `Policy ${policyId} does not exist any more: restore points are kept until deleted by hand`);
    const keeps = (['last', 'daily', 'weekly', 'monthly', 'yearly'] as const)
      .map((k) => [k, policy[`keep_${k}`]] as const)
      .filter(([, n]) => n !== null)
      .map(([k, n]) => (k === 'last' ? `the last ${n}` : `${n} ${k}`));
    const said = keeps.length > 1 ? `${keeps.slice(0, -1).join(', ')} and ${keeps.at(-1)}` : keeps[0] ?? 'every';
    ok('policy', `Retention policy "${policy.name}" keeps ${said} restore point(s) per VM after each backup (the newest always)`);
    for (const rule of policy.copy_rules) {
      if (!rule.enabled) continue;
      const where = `repository "${rule.destination_repository_name ?? rule.destination_repository_id}"`;
      if (rule.destination_repository_id === repositoryId) warn('copy', `A copy rule copies to ${where}, which is the flow's own repository: it is skipped`);
      else {
        const dest = await this.stores.repositories.get(rule.destination_repository_id);
        const when = rule.copy_mode === 'scheduled' ? 'by the hourly copy pass' : 'right after it is taken';
        if (!dest?.enabled) warn('copy', `Copies go to ${where}, which is disabled: they are made once it is enabled again`);
        else ok('copy', `Each backup is copied to ${where} ${when}${rule.verify_after_copy ? ', and verified there' : ''}`);
      }
    }
  }

  private async checkTarget(flow: FlowRecord, ok: (n: string, m: string) => void, warn: (n: string, m: string) => void, fail: (n: string, m: string) => void) {
    if (flow.target_type === 'vm') {
      const vm = await this.stores.vms.get(flow.target_id);
      if (!vm) return fail('target', `VM ${flow.target_id} is not in the inventory`);
      if (vm.inventory_status === 'missing') return fail('target', `VM "${vm.vm_name}" is missing from its vCenter`);
      if (!vm.vcenter_id) return fail('target', `VM "${vm.vm_name}" belongs to no registered vCenter`);
      ok('target', `VM "${vm.vm_name}" (${vm.power_state}) on vCenter "${vm.vcenter_name}"`);
      if (!vm.cbt_enabled) warn('cbt', `Changed Block Tracking is off on "${vm.vm_name}": the first backup enables it and reads the whole disk`);
      return;
    }
    const group = await this.stores.groups.get(flow.target_id);
    if (!group) return fail('target', `Protection group ${flow.target_id} does not exist`);
    const members = await this.stores.groups.members(group.id);
    const enabled = members.filter((m) => m.enabled);
    if (enabled.length === 0) return fail('target', `Protection group "${group.name}" has no enabled members`);
    ok('target', `Protection group "${group.name}": ${enabled.length} enabled of ${members.length} VMs, at most ${group.max_concurrent_vms} at once`);
    const missing = enabled.filter((m) => m.inventory_status === 'missing');
    if (missing.length) warn('target', `${missing.length} member(s) are missing from their vCenter and will be skipped: ${missing.map((m) => m.vm_name).join(', ')}`);
  }

  private async checkRepository(flow: FlowRecord, ok: (n: string, m: string) => void, warn: (n: string, m: string) => void, fail: (n: string, m: string) => void) {
    const repo = flow.repository_id === null ? undefined : await this.stores.repositories.get(flow.repository_id);
    if (!repo) return fail('repository', `Repository ${flow.repository_id} does not exist`);
    if (!repo.enabled) return fail('repository', `Repository "${repo.name}" is disabled`);
    try {
      await this.storage.assertWritable(repo.config.path);
    } catch (err) {
      return fail('repository', `Repository "${repo.name}": ${(err as Error).message}`);
    }
    const cap = await this.storage.capacity(repo.config.path);
    if (!cap) return fail('repository', `Repository "${repo.name}": cannot read the capacity of ${repo.config.path}`);
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
    if (cap.available < cap.total * LOW_SPACE_RATIO) warn('repository', `Repository "${repo.name}" is low on space: ${gib(cap.available)} free of ${gib(cap.total)}`);
    else ok('repository', `Repository "${repo.name}" is writable, ${gib(cap.available)} free of ${gib(cap.total)}`);
  }
}
