import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Group } from '../../api/types.js';
import { fakeApi } from '../../test/fake-api.js';
import { renderPage } from '../../test/render.js';
import { GroupMembers } from './group-members.js';

const group = { id: 'g1', name: 'Web tier' } as Group;
const member = { vm_context_id: 'vm-1', vm_name: 'web-01', power_state: 'poweredOn', inventory_status: 'present', enabled: true, added_at: '2026-11-01T00:00:00Z', added_by: 'admin' };
const vm = (id: string, name: string) => ({ context_id: id, vm_name: name, power_state: 'poweredOn' });

describe('group members', () => {
  it('adds the ticked VMs from the inventory, marking those already in the group', async () => {
    const api = fakeApi({
      'GET /api/v1/machine-groups/g1/members': { body: { members: [member], total: 1 } },
      'GET /api/v1/vms': { body: { vms: [vm('vm-1', 'web-01'), vm('vm-2', 'web-02'), vm('vm-3', 'db-01')], total: 3 } },
      'POST /api/v1/machine-groups/g1/members': { body: { members: [member], total: 3 } },
    });
    renderPage(<GroupMembers group={group} />);
    const add = await screen.findByRole('region', { name: 'Add VMs' });
    const already = await within(add).findByRole('checkbox', { name: /web-01/ });
    expect((already as HTMLInputElement).disabled).toBe(true);
    await userEvent.click(within(add).getByRole('checkbox', { name: /web-02/ }));
    await userEvent.click(within(add).getByRole('checkbox', { name: /db-01/ }));
    await userEvent.click(within(add).getByRole('button', { name: 'Add 2 selected VMs' }));
    await waitFor(() => expect(api.calls.find((c) => c.method === 'POST')?.body).toEqual({ vm_context_ids: ['vm-2', 'vm-3'] }));
  });

  it('switches a member off, and a viewer sees the state without the switch or Remove', async () => {
    const api = fakeApi({
      'GET /api/v1/machine-groups/g1/members': { body: { members: [member], total: 1 } },
      'GET /api/v1/vms': { body: { vms: [], total: 0 } },
      'PATCH /api/v1/machine-groups/g1/members/vm-1': { body: { ...member, enabled: false } },
    });
    const { unmount } = renderPage(<GroupMembers group={group} />);
    await userEvent.click(await screen.findByRole('switch', { name: 'Back up web-01 with this group' }));
    await waitFor(() => expect(api.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ enabled: false }));
    unmount();
    localStorage.clear();
    fakeApi({ 'GET /api/v1/machine-groups/g1/members': { body: { members: [member], total: 1 } } });
    renderPage(<GroupMembers group={group} />, { role: 'viewer' });
    await screen.findByText('web-01');
    expect(screen.queryByRole('switch')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove web-01' })).toBeNull();
    expect(screen.queryByRole('region', { name: 'Add VMs' })).toBeNull();
  });
});
