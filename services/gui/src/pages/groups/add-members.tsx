import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { groupEndpoints, vmEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import { ErrorMessage } from '../../components/feedback.js';
import { useDebounced } from '../../forms/use-debounced.js';

/** Adds VMs from the inventory to a group: search, tick, add. VMs already in it are marked. */
export function AddMembers({ groupId, memberIds }: { groupId: string; memberIds: ReadonlySet<string> }) {
  const [search, setSearch] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const q = useDebounced(search.trim());
  const vms = useQuery(listQuery(vmEndpoints.list, { query: { search: q || undefined, limit: 50, sort: 'vm_name', inventory_status: 'present' } }));
  const invalidate = useInvalidate(groupEndpoints.members, groupEndpoints.list, groupEndpoints.get, vmEndpoints.get);
  const add = useMutation({
    mutationFn: () => call(groupEndpoints.addMembers, { params: { id: groupId }, body: { vm_context_ids: [...picked] } }),
    onSuccess: async () => {
      setPicked(new Set());
      await invalidate();
    },
  });
  const toggle = (id: string) =>
    setPicked((p) => {
      const n = new Set(p);
      if (!n.delete(id)) n.add(id);
      return n;
    });
  const candidates = vms.data?.vms ?? [];
  return (
    <section className="add-members" aria-label="Add VMs">
      <h4>Add VMs from the inventory</h4>
      <input type="search" aria-label="Search the VM inventory" placeholder="Search VMs…" value={search} onChange={(e) => setSearch(e.target.value)} />
      <ul className="pick-list">
        {candidates.map((v) => {
          const member = memberIds.has(v.context_id);
          return (
            <li key={v.context_id}>
              <label className={member ? 'muted' : undefined}>
                <input type="checkbox" checked={member || picked.has(v.context_id)} disabled={member} onChange={() => toggle(v.context_id)} /> {v.vm_name}{' '}
                <span className="muted small">
                  {v.power_state}
                  {member ? ' · already a member' : ''}
                </span>
              </label>
            </li>
          );
        })}
        {vms.data && candidates.length === 0 && <li className="muted">{q ? `No VM matches "${q}".` : 'The inventory is empty: register a vCenter in Settings first.'}</li>}
      </ul>
      <ErrorMessage error={add.error} />
      <button type="button" className="btn btn-primary btn-small" disabled={!picked.size || add.isPending} onClick={() => add.mutate()}>
        {add.isPending ? 'Adding…' : `Add ${picked.size || ''} selected VM${picked.size === 1 ? '' : 's'}`.replace('  ', ' ')}
      </button>
    </section>
  );
}
