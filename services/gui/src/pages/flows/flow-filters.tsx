import { FLOW_LAST_STATUSES } from '@vaultflow/domain';
import { FilterSelect } from '../../components/filter-select.js';
import { SearchField } from '../../components/search-box.js';

export interface FlowFilterValues {
  search: string;
  flow_type: string;
  target_type: string;
  enabled: string;
  last_status: string;
}

const STATUS_LABEL: Record<string, string> = { success: 'Success', warning: 'Warning', error: 'Failed', running: 'Running', pending: 'Pending / never run' };

/** Search and the list filters of the flows page (type, target type, enabled, last status). */
export function FlowFilters({ value, onChange }: { value: FlowFilterValues; onChange: (patch: Partial<FlowFilterValues>) => void }) {
  const select = (key: keyof FlowFilterValues, label: string, options: [string, string][]) => (
    <FilterSelect label={label} value={value[key]} options={options} onChange={(v) => onChange({ [key]: v })} />
  );
  return (
    <div className="filters" role="search" aria-label="Filter flows">
      <SearchField label="Search flows" placeholder="Name or description" value={value.search} onChange={(search) => onChange({ search })} />
      {select('flow_type', 'Type', [['backup', 'Backup'], ['replication', 'Replication']])}
      {select('target_type', 'Target', [['vm', 'Virtual machine'], ['group', 'Protection group']])}
      {select('enabled', 'Enabled', [['true', 'Enabled'], ['false', 'Disabled']])}
      {select('last_status', 'Last status', FLOW_LAST_STATUSES.map((s) => [s, STATUS_LABEL[s] ?? s]))}
    </div>
  );
}
