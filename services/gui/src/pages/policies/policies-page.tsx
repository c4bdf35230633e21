import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { policyEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import type { Policy } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EditDeleteButtons, actionsColumn } from '../../components/row-actions.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { Pager } from '../../components/pager.js';
import { SearchBox } from '../../components/search-box.js';
import { useListParams } from '../../components/use-list-params.js';
import { PolicyFormModal } from './policy-form-modal.js';

/** "last 7, daily 14, weekly 4" */
function retentionText(r: Policy['retention']): string {
  const parts = [
    r.keep_last && `last ${r.keep_last}`,
    r.keep_daily && `daily ${r.keep_daily}`,
    r.keep_weekly && `weekly ${r.keep_weekly}`,
    r.keep_monthly && `monthly ${r.keep_monthly}`,
    r.keep_yearly && `yearly ${r.keep_yearly}`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'keep everything';
}

/** Policies: retention and copy rules. */
export function PoliciesPage() {
  const { can } = useAuth();
  const list = useListParams('name');
  const [editing, setEditing] = useState<Policy | 'new'>();
  const [removing, setRemoving] = useState<Policy>();
  const invalidate = useInvalidate(policyEndpoints.list);
  const q = useQuery(listQuery(policyEndpoints.list, { query: { limit: list.limit, offset: list.offset, sort: list.sort.key as 'name', order: list.sort.order, search: list.get('search') || undefined } }));
  const columns: Column<Policy>[] = [
    { key: 'name', header: 'Name', sort: 'name', cell: (p) => <><strong>{p.name}</strong>{p.description && <div className="muted small">{p.description}</div>}</> },
    { key: 'retention', header: 'Retention', cell: (p) => retentionText(p.retention) },
    {
      key: 'copies',
      header: 'Copies',
      cell: (p) =>
        p.copy_rules.length ? (
          <ul className="plain">
            {p.copy_rules.map((r) => (
              <li key={r.id}>
                to {r.destination_repository_name ?? r.destination_repository_id} ({r.copy_mode}{r.verify_after_copy ? ', verified' : ''}{r.enabled ? '' : ', disabled'})
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">None</span>
        ),
    },
    { key: 'flows', header: 'Flows', cell: (p) => p.flow_count },
  ];
  if (can('configure')) columns.push(actionsColumn((p) => <EditDeleteButtons name={p.name} onEdit={() => setEditing(p)} onDelete={() => setRemoving(p)} />));
  return (
    <>
      <PageHeader title="Policies" description="How long restore points are kept, and where copies go.">
        {can('configure') && <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>Create policy</button>}
      </PageHeader>
      <SearchBox label="Search policies" value={list.get('search')} onChange={(search) => list.filter({ search })} />
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} title="The policies could not be loaded" />
      <DataTable
        caption="Policies"
        columns={columns}
        rows={q.data?.policies}
        rowKey={(p) => String(p.id)}
        loading={q.isPending}
        sort={list.sort}
        onSort={list.onSort}
        empty={<EmptyState title="No policies yet">{can('configure') ? 'Create a retention policy, then choose it in your flows.' : 'An administrator creates policies.'}</EmptyState>}
      />
      {q.data && <Pager total={q.data.total} limit={list.limit} offset={list.offset} onChange={list.onPage} />}
      {editing && <PolicyFormModal policy={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
      {removing && (
        <ConfirmDialog title="Delete policy" confirmLabel="Delete policy" danger onClose={() => setRemoving(undefined)} onConfirm={async () => { await call(policyEndpoints.remove, { params: { id: removing.id } }); await invalidate(); }}>
          <p>
            Delete the policy <strong>{removing.name}</strong>? {removing.flow_count ? `Its ${removing.flow_count} flow(s) keep running without a retention policy.` : 'No flow uses it.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
