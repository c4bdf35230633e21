import { useCallback } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { flowEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { keyOf } from '../../api/queries.js';
import type { ExecutionStatus, FlowLastStatus } from '../../api/types.js';

const f = flowEndpoints;

/** Statuses of an execution that has not ended yet. */
export const ACTIVE: readonly string[] = ['pending', 'running'];
export const isActive = (s: ExecutionStatus | FlowLastStatus | string | undefined) => !!s && ACTIVE.includes(s);

/** Invalidates everything a change to flows can show up in. */
export function useFlowsChanged() {
  const qc = useQueryClient();
  return useCallback(
    () => Promise.all([f.list, f.get, f.summary, f.executions].map((e) => qc.invalidateQueries({ queryKey: keyOf(e) }))),
    [qc],
  );
}

/** The changes a row or the details page can make to one flow. */
export function useFlowMutations() {
  const changed = useFlowsChanged();
  const opts = { onSettled: changed };
  return {
    run: useMutation({ mutationFn: (id: string) => call(f.execute, { params: { id } }), ...opts }),
    setEnabled: useMutation({
      mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) => call(enabled ? f.enable : f.disable, { params: { id } }),
      ...opts,
    }),
    remove: useMutation({ mutationFn: (id: string) => call(f.remove, { params: { id } }), ...opts }),
  };
}

export type BulkAction = 'enable' | 'disable' | 'delete';

/** Bulk enable / disable / delete (all or nothing, as the API does it). */
export function useBulkFlows() {
  const changed = useFlowsChanged();
  return useMutation({
    mutationFn: ({ action, ids }: { action: BulkAction; ids: string[] }) =>
      call(action === 'enable' ? f.bulkEnable : action === 'disable' ? f.bulkDisable : f.bulkDelete, { body: { flow_ids: ids } }),
    onSettled: changed,
  });
}
