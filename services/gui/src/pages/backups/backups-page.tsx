import { useQuery } from '@tanstack/react-query';
import { BACKUP_STATUSES, BACKUP_TYPES } from '@vaultflow/domain';
import { repositoryEndpoints, type BackupListQuery } from '@vaultflow/schemas';
import { listQuery } from '../../api/queries.js';
import { FilterSelect } from '../../components/filter-select.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { useListParams } from '../../components/use-list-params.js';
import { RestorePoints } from './restore-points.js';

/** Backups: every restore point, filtered by repository, status and type (?vm=<id> for one VM); restore and delete. */
export function BackupsPage() {
  const list = useListParams('created_at', 'desc');
  const repos = useQuery(listQuery(repositoryEndpoints.list, { query: { limit: 1000, sort: 'name' } }));
  const filters: Partial<BackupListQuery> = {
    repository_id: list.get('repository') ? Number(list.get('repository')) : undefined,
    status: (list.get('status') || undefined) as BackupListQuery['status'],
    backup_type: (list.get('type') || undefined) as BackupListQuery['backup_type'],
  };
  const select = (key: string, label: string, options: [string, string][]) => <FilterSelect label={label} value={list.get(key)} options={options} onChange={(v) => list.filter({ [key]: v })} />;
  return (
    <>
      <PageHeader title="Backups" description="Restore points of every VM, newest first." />
      <div className="filters" role="search" aria-label="Filter restore points">
        {select('repository', 'Repository', (repos.data?.repositories ?? []).map((r) => [String(r.id), r.name]))}
        {select('status', 'Status', BACKUP_STATUSES.map((s) => [s, s]))}
        {select('type', 'Type', BACKUP_TYPES.map((t) => [t, t]))}
      </div>
      <RestorePoints key={JSON.stringify(filters)} title="Restore points" vmId={list.get('vm') || undefined} filters={filters} />
    </>
  );
}
