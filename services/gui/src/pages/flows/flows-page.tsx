import { useCallback, useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { flowEndpoints, type FlowListQuery } from '@vaultflow/schemas';
import { listQuery } from '../../api/queries.js';
import type { Flow } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { useListParams } from '../../components/use-list-params.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { Pager } from '../../components/pager.js';
import { BulkActions } from './bulk-actions.js';
import { isActive, useFlowsChanged } from './flow-api.js';
import { FlowFilters, type FlowFilterValues } from './flow-filters.js';
import { FlowFormModal } from './flow-form-modal.js';
import { FlowsTable } from './flows-table.js';

/** While anything runs the list is asked again this often; otherwise every half minute. */
const ACTIVE_POLL_MS = 2_000;
const IDLE_POLL_MS = 30_000;
const FILTERS = ['search', 'flow_type', 'target_type', 'enabled', 'last_status'] as const;

/** Protection Flows: the table with filters, search, sorting, paging, bulk actions, create/edit. */
export function FlowsPage() {
  const { can } = useAuth();
  const list = useListParams('name');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [launched, setLaunched] = useState<Record<string, string>>({});
  const [creating, setCreating] = useState(false);
  const changed = useFlowsChanged();

  const filters = Object.fromEntries(FILTERS.map((k) => [k, list.get(k)])) as unknown as FlowFilterValues;
  const { sort, limit, offset } = list;
  const query: Partial<FlowListQuery> = {
    limit,
    offset,
    sort: sort.key as FlowListQuery['sort'],
    order: sort.order,
    search: filters.search || undefined,
    flow_type: (filters.flow_type || undefined) as FlowListQuery['flow_type'],
    target_type: (filters.target_type || undefined) as FlowListQuery['target_type'],
    enabled: filters.enabled ? filters.enabled === 'true' : undefined,
    last_status: (filters.last_status || undefined) as FlowListQuery['last_status'],
  };
  const q = useQuery({
    ...listQuery(flowEndpoints.list, { query }),
    refetchInterval: (qq) => (Object.keys(launched).length || qq.state.data?.flows.some((f) => isActive(f.status.last_execution_status)) ? ACTIVE_POLL_MS : IDLE_POLL_MS),
  });
  const flows = q.data?.flows;
  const selectedFlows = useMemo(() => (flows ?? []).filter((f) => selected.has(f.id)), [flows, selected]);
  const onStarted = useCallback((flowId: string, executionId: string) => setLaunched((l) => ({ ...l, [flowId]: executionId })), []);
  const onFinished = useCallback(
    (flowId: string) => {
      setLaunched((l) => {
        if (!(flowId in l)) return l;
        const { [flowId]: _gone, ...rest } = l;
        return rest;
      });
      void changed();
    },
    [changed],
  );
  const filtered = FILTERS.some((k) => filters[k]);

  return (
    <>
      <PageHeader title="Protection Flows" description="What is protected, when, where to and for how long.">
        {can('configure') && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            Create flow
          </button>
        )}
      </PageHeader>
      <FlowFilters value={filters} onChange={list.filter} />
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} title="The flows could not be loaded" />
      {(can('operate') || can('configure')) && <BulkActions selected={selectedFlows} onDone={() => setSelected(new Set())} />}
      <FlowsTable
        flows={flows}
        loading={q.isPending}
        sort={sort}
        onSort={list.onSort}
        selection={can('operate') || can('configure') ? { selected, onChange: setSelected, label: (f: Flow) => `Select ${f.name}` } : undefined}
        launched={launched}
        onStarted={onStarted}
        onFinished={onFinished}
        empty={
          filtered ? (
            <EmptyState title="No flow matches these filters" action={<button type="button" className="btn btn-small" onClick={() => list.filter(Object.fromEntries(FILTERS.map((k) => [k, undefined])))}>Clear filters</button>} />
          ) : (
            <EmptyState title="No protection flows yet">
              {can('configure') ? 'Create a flow to back up a VM or a protection group on a schedule: use "Create flow" above.' : 'An administrator creates flows; they will appear here.'}
            </EmptyState>
          )
        }
      />
      {q.data && <Pager total={q.data.total} limit={limit} offset={offset} onChange={list.onPage} />}
      {creating && <FlowFormModal onClose={() => setCreating(false)} />}
    </>
  );
}
