import type { CoveringFlowRecord, Stores, VmRecord } from '@vaultflow/db';
import { schedulePeriodMs } from '@vaultflow/domain';
import type { UnprotectedVm, UnprotectedVmListResponse } from '@vaultflow/schemas';
import { toVmSummary } from '../mappers/resources.mapper.js';
import { iso } from '../mappers/time.js';

const PAGE = 1000;

/**
 * How long after a backup the next one is due under one flow: its schedule's period (the gap
 * between the schedule's next two fires) plus the flow's VM start window; undefined without an
 * enabled schedule.
 */
function allowanceMs(f: CoveringFlowRecord, now: Date): number | undefined {
  if (!f.cron_expression || !f.timezone || !f.schedule_enabled) return undefined;
  const period = schedulePeriodMs(f.cron_expression, f.timezone, now);
  return period === undefined ? undefined : period + f.vm_start_window_minutes * 60_000;
}

/** Why `vm` is not protected (undefined when it is), given the enabled flows that cover it. */
export function unprotectedReason(vm: VmRecord, flows: CoveringFlowRecord[], now: Date): Omit<UnprotectedVm, 'vm'> | undefined {
  const named = flows.map((f) => ({ id: f.flow_id, name: f.flow_name }));
  const last = vm.last_backup_at ? new Date(vm.last_backup_at) : null;
  const base = { flows: named, last_backup_at: iso(last), expected_within_seconds: null };
  if (!flows.length) return { ...base, reason: 'no_flow' };
  const allowances = flows.map((f) => allowanceMs(f, now)).filter((a): a is number => a !== undefined);
  const within = allowances.length ? Math.min(...allowances) : undefined;
  const expected = within === undefined ? null : Math.round(within / 1000);
  if (!last) return { ...base, reason: 'never_backed_up', expected_within_seconds: expected };
  if (within === undefined) return { ...base, reason: 'no_schedule' };
  if (now.getTime() - last.getTime() > within) return { ...base, reason: 'last_backup_too_old', expected_within_seconds: expected };
  return undefined;
}

/** Present VMs whose flows do not keep them backed up: the dashboard's "unprotected" list. */
export class UnprotectedVmsService {
  constructor(
    private readonly stores: Pick<Stores, 'vms' | 'coverage'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(): Promise<UnprotectedVmListResponse> {
    const now = this.now();
    const covering = new Map<string, CoveringFlowRecord[]>();
    for (const f of await this.stores.coverage.coveringFlows()) {
      const list = covering.get(f.vm_context_id) ?? [];
      list.push(f);
      covering.set(f.vm_context_id, list);
    }
    const out: UnprotectedVm[] = [];
    let presentTotal = 0;
    for (let offset = 0; ; offset += PAGE) {
      const { rows, total } = await this.stores.vms.list({ limit: PAGE, offset, sort: 'vm_name', order: 'asc', inventory_status: 'present' });
      presentTotal = total;
      for (const vm of rows) {
        const why = unprotectedReason(vm, covering.get(vm.context_id) ?? [], now);
        if (why) out.push({ vm: toVmSummary(vm), ...why });
      }
      if (rows.length < PAGE) break;
    }
    return { vms: out, total: out.length, present_total: presentTotal };
  }
}
