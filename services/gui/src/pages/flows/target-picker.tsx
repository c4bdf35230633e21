import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { groupEndpoints, vmEndpoints } from '@vaultflow/schemas';
import { listQuery } from '../../api/queries.js';
import { useDebounced } from '../../forms/use-debounced.js';
import type { ControlProps } from '../../forms/field.js';

export interface TargetChoice {
  id: string;
  label: string;
}

/**
 * Picks a VM from the inventory or a protection group, searched through the API. Shows the current
 * choice even when it is not among the results.
 */
export function TargetPicker({ targetType, value, onChange, control }: { targetType: 'vm' | 'group'; value: TargetChoice | undefined; onChange: (c: TargetChoice | undefined) => void; control: ControlProps }) {
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const vms = useQuery({ ...listQuery(vmEndpoints.list, { query: { search: q || undefined, limit: 50, sort: 'vm_name', inventory_status: 'present' } }), enabled: targetType === 'vm' });
  const groups = useQuery({ ...listQuery(groupEndpoints.list, { query: { search: q || undefined, limit: 50, sort: 'name' } }), enabled: targetType === 'group' });
  const options: TargetChoice[] =
    targetType === 'vm'
      ? (vms.data?.vms ?? []).map((v) => ({ id: v.context_id, label: `${v.vm_name} (${v.power_state}${v.vcenter_name ? `, ${v.vcenter_name}` : ''})` }))
      : (groups.data?.groups ?? []).map((g) => ({ id: g.id, label: `${g.name} (${g.enabled_member_count} of ${g.member_count} VMs enabled)` }));
  if (value && !options.some((o) => o.id === value.id)) options.unshift(value);
  const loading = targetType === 'vm' ? vms.isPending : groups.isPending;
  const noun = targetType === 'vm' ? 'virtual machines' : 'protection groups';
  return (
    <div className="picker">
      <input type="search" aria-label={`Search ${noun}`} placeholder={`Search ${noun}…`} value={search} onChange={(e) => setSearch(e.target.value)} />
      <select
        {...control}
        size={Math.min(6, Math.max(3, options.length))}
        value={value?.id ?? ''}
        onChange={(e) => onChange(options.find((o) => o.id === e.target.value))}
      >
        {options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.label}
          </option>
        ))}
      </select>
      <span className="muted small" aria-live="polite">
        {loading ? 'Loading…' : options.length === 0 ? (q ? `No ${noun} match "${q}".` : `There are no ${noun} yet.`) : value ? `Selected: ${value.label}` : `${options.length} shown: choose one.`}
      </span>
    </div>
  );
}
