import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { REPOSITORY_TYPES } from '@vaultflow/domain';
import { repositoryEndpoints, type RepositoryListQuery } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import type { Repository } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EditDeleteButtons, actionsColumn } from '../../components/row-actions.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { FilterSelect } from '../../components/filter-select.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { Pager } from '../../components/pager.js';
import { SearchField } from '../../components/search-box.js';
import { useListParams } from '../../components/use-list-params.js';
import { Capacity } from './capacity.js';
import { RepositoryFormModal } from './repository-form-modal.js';
import { PruneDialog } from './prune-dialog.js';
import { VerifyDialog } from './verify-dialog.js';

/** Repositories: CRUD, capacity, verification and freeing space. */
export function RepositoriesPage() {
  const { can } = useAuth();
  const list = useListParams('name');
  const [editing, setEditing] = useState<Repository | 'new'>();
  const [removing, setRemoving] = useState<Repository>();
  const [verifying, setVerifying] = useState<Repository>();
  const [pruning, setPruning] = useState<Repository>();
  const invalidate = useInvalidate(repositoryEndpoints.list);
  const q = useQuery(listQuery(repositoryEndpoints.list, { query: { limit: list.limit, offset: list.offset, sort: list.sort.key as RepositoryListQuery['sort'], order: list.sort.order, search: list.get('search') || undefined, repository_type: (list.get('type') || undefined) as RepositoryListQuery['repository_type'] } }));
  const columns: Column<Repository>[] = [
    { key: 'name', header: 'Name', sort: 'name', cell: (r) => <><strong>{r.name}</strong>{!r.enabled && <span className="muted small"> (disabled)</span>}{r.description && <div className="muted small">{r.description}</div>}</> },
    { key: 'type', header: 'Type', sort: 'repository_type', cell: (r) => r.repository_type },
    { key: 'path', header: 'Path', cell: (r) => <span className="mono small">{r.config.server ? `${r.config.server}:` : ''}{r.config.path}</span> },
    { key: 'capacity', header: 'Capacity', className: 'col-capacity', cell: (r) => <Capacity repo={r} /> },
    { key: 'immutable', header: 'Immutable', cell: (r) => (r.immutable.enabled ? `${r.immutable.retention_days} days` : 'No') },
    { key: 'use', header: 'Flows · restore points', cell: (r) => `${r.flow_count} · ${r.backup_count}` },
  ];
  if (can('operate')) {
    columns.push(
      actionsColumn((r) => (
        <>
          <button type="button" className="btn btn-small" aria-label={`Verify ${r.name}`} onClick={() => setVerifying(r)}>Verify</button>
          <button type="button" className="btn btn-small" aria-label={`Free space in ${r.name}`} onClick={() => setPruning(r)}>Free space</button>
          {can('configure') && <EditDeleteButtons name={r.name} onEdit={() => setEditing(r)} onDelete={() => setRemoving(r)} />}
        </>
      )),
    );
  }
  return (
    <>
      <PageHeader title="Repositories" description="Where restore points are stored.">
        {can('configure') && <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>Create repository</button>}
      </PageHeader>
      <div className="filters" role="search" aria-label="Filter repositories">
        <SearchField label="Search repositories" value={list.get('search')} onChange={(search) => list.filter({ search })} />
        <FilterSelect label="Type" value={list.get('type')} options={REPOSITORY_TYPES.map((t) => [t, t] as const)} onChange={(type) => list.filter({ type })} />
      </div>
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} title="The repositories could not be loaded" />
      <DataTable
        caption="Repositories"
        columns={columns}
        rows={q.data?.repositories}
        rowKey={(r) => String(r.id)}
        loading={q.isPending}
        sort={list.sort}
        onSort={list.onSort}
        empty={<EmptyState title="No repositories yet">{can('configure') ? 'Create a repository: backup flows need one to store restore points.' : 'An administrator creates repositories.'}</EmptyState>}
      />
      {q.data && <Pager total={q.data.total} limit={list.limit} offset={list.offset} onChange={list.onPage} />}
      {verifying && <VerifyDialog repo={verifying} onClose={() => setVerifying(undefined)} />}
      {pruning && <PruneDialog repo={pruning} onClose={() => setPruning(undefined)} />}
      {editing && <RepositoryFormModal repo={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
      {removing && (
        <ConfirmDialog title="Delete repository" confirmLabel="Delete repository" danger onClose={() => setRemoving(undefined)} onConfirm={async () => { await call(repositoryEndpoints.remove, { params: { id: removing.id } }); await invalidate(); }}>
          <p>
            Delete the repository record <strong>{removing.name}</strong>? The stored data stays on disk. The hub refuses while flows, policies or restore points use it ({removing.flow_count} flows, {removing.backup_count} restore points).
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
