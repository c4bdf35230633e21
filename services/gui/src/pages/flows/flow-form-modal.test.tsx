import { describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { apiError, fakeApi } from '../../test/fake-api.js';
import { flow } from '../../test/fixtures.js';
import { renderPage } from '../../test/render.js';
import { FlowFormModal } from './flow-form-modal.js';

const vm = { context_id: 'vm-1', vm_name: 'web-01', vcenter_id: 'vc1', vcenter_name: 'Lab', moref: 'vm-27', uuid: null, datacenter: 'DC0', cluster: null, esx_host: null, folder: null, power_state: 'poweredOn', guest_os: null, num_cpu: 2, memory_mb: 2048, cbt_enabled: true, inventory_status: 'present', last_seen_at: null, last_backup_at: null, last_backup_id: null, created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z' };
const repo = { id: 7, name: 'Primary', description: null, repository_type: 'local', config: { path: '/srv/repo' }, enabled: true, immutable: { enabled: false, retention_days: null }, capacity: { total_bytes: 100 * 1024 ** 3, used_bytes: 50 * 1024 ** 3, available_bytes: 50 * 1024 ** 3, checked_at: null }, flow_count: 0, backup_count: 0, created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z', created_by: 'admin' };
const pickers = {
  'GET /api/v1/vms': { body: { vms: [vm], total: 1 } },
  'GET /api/v1/machine-groups': { body: { groups: [], total: 0 } },
  'GET /api/v1/repositories': { body: { repositories: [repo], total: 1 } },
  'GET /api/v1/policies': { body: { policies: [], total: 0 } },
  'GET /api/v1/schedules': { body: { schedules: [], total: 0 } },
};

/** The message shown under the control labelled `label`. */
function problemOf(label: string): string | null | undefined {
  return screen.getByLabelText(label).closest('.field')?.querySelector('.field-error')?.textContent;
}

describe('create / edit flow form', () => {
  it('names every missing field from the API schema and its flow rules, without calling the API', async () => {
    const api = fakeApi(pickers);
    renderPage(<FlowFormModal onClose={() => undefined} />);
    await userEvent.click(screen.getByRole('button', { name: 'Create flow' }));
    expect(problemOf('Name')).toBe('Name is required');
    expect(problemOf('Virtual machine')).toBe('Virtual machine is required');
    expect(problemOf('Repository')).toBe('Repository is required for a backup flow');
    expect(screen.getByText('Some fields need attention: see the messages below them.')).toBeTruthy();
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    // the problem goes once the field is filled in
    await userEvent.type(screen.getByLabelText('Name'), 'Nightly');
    expect(problemOf('Name')).toBeUndefined();
  });

  it('shows the replication fields for a replication flow, and their rules', async () => {
    fakeApi(pickers);
    renderPage(<FlowFormModal onClose={() => undefined} />);
    await userEvent.selectOptions(screen.getByLabelText('Type'), 'replication');
    expect(screen.queryByLabelText('Repository')).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Create flow' }));
    expect(problemOf('Destination type')).toBe('Destination type is required for a replication flow');
    await userEvent.selectOptions(screen.getByLabelText('Destination type'), 'vmware');
    await userEvent.type(screen.getByLabelText('Destination settings (JSON)'), 'not json');
    await userEvent.click(screen.getByRole('button', { name: 'Create flow' }));
    expect(problemOf('Destination settings (JSON)')).toMatch(/^Destination settings \(JSON\) must be/);
  });

  it('puts the API\'s answer next to the field it names, and the message with what to do on top', async () => {
    fakeApi({ ...pickers, 'POST /api/v1/protection-flows': { status: 409, body: apiError('FLOW_NAME_TAKEN', 'A protection flow named "Nightly" already exists', [{ field: 'body.name', message: 'is already used by another flow' }]) } });
    renderPage(<FlowFormModal onClose={() => undefined} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Nightly');
    await userEvent.selectOptions(await screen.findByRole('listbox', { name: 'Virtual machine' }), 'vm-1');
    await userEvent.selectOptions(screen.getByLabelText('Repository'), '7');
    await userEvent.click(screen.getByRole('button', { name: 'Create flow' }));
    await waitFor(() => expect(problemOf('Name')).toBe('Name is already used by another flow'));
    const alert = screen.getAllByRole('alert').find((a) => a.textContent?.includes('already exists'))!;
    expect(alert.textContent).toContain('Change what conflicts');
  });

  it('creates the inline schedule first, then the flow that uses it, and closes', async () => {
    const onClose = vi.fn();
    const api = fakeApi({
      ...pickers,
      'POST /api/v1/schedules': (r) => ({ status: 201, body: { id: 'sch-9', description: null, enabled: true, misfire_grace_seconds: 300, next_fire_time: null, flow_count: 0, created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z', created_by: 'admin', ...(r.body as object) } }),
      'GET /api/v1/schedules/sch-9/preview': { body: { schedule_id: 'sch-9', cron_expression: '30 1 * * 1-5', timezone: 'UTC', fires: [{ at: '2026-11-30T01:30:00.000Z', local: '2026-11-30T01:30:00+00:00' }] } },
      'POST /api/v1/schedules/preview': (r) => ({ body: { cron_expression: (r.body as { cron_expression: string }).cron_expression, timezone: 'UTC', fires: [{ at: '2026-11-30T01:30:00.000Z', local: '2026-11-30T01:30:00+00:00' }, { at: '2026-12-01T01:30:00.000Z', local: '2026-12-01T01:30:00+00:00' }] } }),
      'POST /api/v1/protection-flows': (r) => ({ status: 201, body: flow({ id: 'f9', name: (r.body as { name: string }).name }) }),
    });
    renderPage(<FlowFormModal onClose={onClose} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Nightly');
    await userEvent.selectOptions(await screen.findByRole('listbox', { name: 'Virtual machine' }), 'vm-1');
    await userEvent.selectOptions(screen.getByLabelText('Repository'), '7');
    await userEvent.selectOptions(screen.getByLabelText('Schedule'), 'new');
    const cron = screen.getByLabelText('Cron expression');
    await userEvent.clear(cron);
    await userEvent.type(cron, '30 1 * * 1-5');
    expect(screen.getByText('Runs at 01:30, Monday through Friday.')).toBeTruthy();
    await userEvent.clear(screen.getByLabelText('Time zone'));
    await userEvent.type(screen.getByLabelText('Time zone'), 'UTC');
    // the next runs of the unsaved schedule, as the hub computes them, before anything is saved
    const runs = await screen.findByRole('region', { name: 'Next runs' });
    await waitFor(() => expect(api.calls.filter((c) => c.path === '/api/v1/schedules/preview').at(-1)?.body).toEqual({ cron_expression: '30 1 * * 1-5', timezone: 'UTC', count: 5 }));
    await waitFor(() => expect(within(runs).getAllByRole('listitem')).toHaveLength(2));
    expect(api.calls.filter((c) => c.path === '/api/v1/schedules' && c.method === 'POST')).toHaveLength(0);
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Create flow' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    const posts = api.calls.filter((c) => c.method === 'POST' && c.path !== '/api/v1/schedules/preview');
    expect(posts.map((c) => c.path)).toEqual(['/api/v1/schedules', '/api/v1/protection-flows']);
    expect(posts[0]!.body).toEqual({ name: 'Nightly schedule', cron_expression: '30 1 * * 1-5', timezone: 'UTC' });
    expect(posts[1]!.body).toMatchObject({ name: 'Nightly', flow_type: 'backup', target_type: 'vm', target_id: 'vm-1', repository_id: 7, schedule_id: 'sch-9', enabled: true });
  });

  it('keeps a new schedule\'s problems beside its fields (from the API) and creates no flow', async () => {
    const api = fakeApi({ ...pickers, 'POST /api/v1/schedules': { status: 400, body: apiError('VALIDATION_FAILED', 'Invalid schedule', [{ field: 'body.cron_expression', message: 'is not a valid cron expression: Constraint error' }]) } });
    renderPage(<FlowFormModal onClose={() => undefined} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Nightly');
    await userEvent.selectOptions(await screen.findByRole('listbox', { name: 'Virtual machine' }), 'vm-1');
    await userEvent.selectOptions(screen.getByLabelText('Repository'), '7');
    await userEvent.selectOptions(screen.getByLabelText('Schedule'), 'new');
    await userEvent.clear(screen.getByLabelText('Cron expression'));
    await userEvent.type(screen.getByLabelText('Cron expression'), '99 * * * *');
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Create flow' }));
    await waitFor(() => expect(problemOf('Cron expression')).toBe('Cron expression is not a valid cron expression: Constraint error'));
    expect(screen.getByText(/The new schedule is not valid/)).toBeTruthy();
    expect(api.calls.filter((c) => c.path === '/api/v1/protection-flows' && c.method === 'POST')).toHaveLength(0);
  });

  it('edits a flow: fields start from it and the change is sent with PUT', async () => {
    const onClose = vi.fn();
    const api = fakeApi({ ...pickers, 'PUT /api/v1/protection-flows/f1': (r) => ({ body: flow({ id: 'f1', name: (r.body as { name: string }).name }) }) });
    renderPage(<FlowFormModal flow={flow({ id: 'f1', name: 'Old name', target_type: 'vm', target_id: 'vm-1', target_name: 'web-01', repository_id: 7, schedule_id: null })} onClose={onClose} />);
    const name = screen.getByLabelText('Name') as HTMLInputElement;
    expect(name.value).toBe('Old name');
    await userEvent.clear(name);
    await userEvent.type(name, 'New name');
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(api.calls.find((c) => c.method === 'PUT')!.body).toMatchObject({ name: 'New name', target_id: 'vm-1', repository_id: 7, schedule_id: null });
  });
});
