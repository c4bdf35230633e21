import { useQuery } from '@tanstack/react-query';
import { POWER_STATES } from '@vaultflow/domain';
import { vmEndpoints, type VmListQuery } from '@vaultflow/schemas';
import { listQuery } from '../../api/queries.js';
import type { Vm } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { FilterSelect } from '../../components/filter-select.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { Pager } from '../../components/pager.js';
import { SearchField } from '../../components/search-box.js';
import { Time } from '../../components/time.js';
import { useListParams } from '../../components/use-list-params.js';
import { formatBytes } from '../../format/format.js';
import { VmDetail } from './vm-detail.js';

/** Virtual Machines: the inventory discovered from vCenters (?vm=<id> opens one). */
export function VmsPage() {
  const { can } = useAuth();
  const list = useListParams('vm_name');
  const open = list.get('vm') || undefined;
  const query: Partial<VmListQuery> = {
    limit: list.limit,
    offset: list.offset,
    sort: list.sort.key as VmListQuery['sort'],
    order: list.sort.order,
    search: list.get('search') || undefined,
    power_state: (list.get('power_state') || undefined) as VmListQuery['power_state'],
    cbt_enabled: list.get('cbt') ? list.get('cbt') === 'true' : undefined,
    inventory_status: (list.get('inventory') || undefined) as VmListQuery['inventory_status'],
  };
  const q = useQuery(listQuery(vmEndpoints.list, { query }));
  const columns: Column<Vm>[] = [
    {
      key: 'name',
      header: 'Name',
      sort: 'vm_name',
      cell: (v) => (
        <button type="button" className="link-button" aria-expanded={open === v.context_id} onClick={() => list.update({ vm: open === v.context_id ? undefined : v.context_id })}>
          {v.vm_name}
        </button>
      ),
    },
    { key: 'vc', header: 'vCenter', cell: (v) => v.vcenter_name ?? '—' },
    { key: 'power', header: 'Power', sort: 'power_state', cell: (v) => v.power_state },
    { key: 'cbt', header: 'CBT', cell: (v) => (v.cbt_enabled ? 'On' : 'Off') },
    { key: 'size', header: 'CPU · memory', cell: (v) => `${v.num_cpu ?? '?'} · ${v.memory_mb ? formatBytes(v.memory_mb * 1048576) : '?'}` },
    { key: 'backup', header: 'Last backup', sort: 'last_backup_at', cell: (v) => <Time value={v.last_backup_at} empty="never" /> },
    { key: 'inventory', header: 'Inventory', cell: (v) => (v.inventory_status === 'missing' ? <span className="text-bad">missing</span> : 'present') },
  ];
  const select = (key: string, label: string, options: [string, string][]) => <FilterSelect label={label} value={list.get(key)} options={options} onChange={(v) => list.filter({ [key]: v })} />;
  return (
    <>
      <PageHeader title="Virtual Machines" description="The inventory read from your vCenters, with what protects each VM." />
      <div className="filters" role="search" aria-label="Filter VMs">
        <SearchField label="Search VMs" value={list.get('search')} onChange={(search) => list.filter({ search })} />
        {select('power_state', 'Power', POWER_STATES.map((p) => [p, p]))}
        {select('cbt', 'CBT', [['true', 'On'], ['false', 'Off']])}
        {select('inventory', 'Inventory', [['present', 'Present'], ['missing', 'Missing']])}
      </div>
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} title="The inventory could not be loaded" />
      <DataTable
        caption="Virtual machines"
        columns={columns}
        rows={q.data?.vms}
        rowKey={(v) => v.context_id}
        loading={q.isPending}
        sort={list.sort}
        onSort={list.onSort}
        expanded={(v) => (open === v.context_id ? <VmDetail vmId={v.context_id} /> : null)}
        empty={<EmptyState title="No virtual machines">{can('configure') ? 'Register a vCenter in Settings: its VMs are discovered at once.' : 'An administrator registers vCenters; their VMs appear here.'}</EmptyState>}
      />
      {q.data && <Pager total={q.data.total} limit={list.limit} offset={list.offset} onChange={list.onPage} />}
    </>
  );
}
