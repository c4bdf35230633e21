import { useQuery } from '@tanstack/react-query';
import { vmEndpoints, type UnprotectedVm } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import { formatDuration } from '../../format/format.js';
import type { Vm } from '../../api/types.js';

export interface Unprotected {
  vm: Vm;
  reason: string;
}

/** The hub's reason in words. */
export function reasonText(u: UnprotectedVm): string {
  const flows = u.flows.map((f) => f.name).join(', ');
  switch (u.reason) {
    case 'no_flow':
      return 'No enabled flow protects it';
    case 'never_backed_up':
      return `Never backed up (by ${flows})`;
    case 'no_schedule':
      return 'Its flows have no enabled schedule: backed up only when started by hand';
    case 'last_backup_too_old':
      return u.expected_within_seconds === null ? 'Last backup is older than its schedule allows' : `Last backup is older than its schedule allows (${formatDuration(u.expected_within_seconds)})`;
  }
}

/**
 * VMs without a backup inside their flows' schedules, as the hub computes them (GET /vms/unprotected):
 * covered by no enabled flow, never backed up, covered only by flows without a schedule, or whose last
 * backup is older than the schedule's period plus the flow's VM start window.
 */
export function useUnprotectedVms(refetchMs: number | false) {
  const q = useQuery({ ...endpointQuery(vmEndpoints.unprotected), refetchInterval: refetchMs });
  return {
    unprotected: (q.data?.vms ?? []).map((u): Unprotected => ({ vm: u.vm, reason: reasonText(u) })),
    total: q.data?.present_total ?? 0,
    isPending: q.isPending,
    error: q.error,
  };
}
