import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi } from '../../test/fake-api.js';
import { flow } from '../../test/fixtures.js';
import { renderPage } from '../../test/render.js';
import { FlowsPage } from './flows-page.js';

const flows = [
  flow({ id: 'f1', name: 'Nightly DB', status: { last_execution_id: 'e1', last_execution_status: 'success', last_execution_time: '2026-11-26T02:00:05.000Z', next_execution_time: '2026-11-28T02:00:00.000Z', total_executions: 4, successful_executions: 3, failed_executions: 1 } }),
  flow({ id: 'f2', name: 'Web VM', target_type: 'vm', target_id: 'vm-1', target_name: 'web-01', schedule_id: null, schedule_name: null, schedule_cron: null, schedule_timezone: null, enabled: false }),
];
const list = { 'GET /api/v1/protection-flows': { body: { flows, total: 2 } } };

describe('protection flows page', () => {
  it('lists flows with their target, schedule in words, repository, last run and success ratio', async () => {
    fakeApi(list);
    renderPage(<FlowsPage />, { path: '/protection-flows' });
    const row = (await screen.findByRole('link', { name: 'Nightly DB' })).closest('tr')!;
    const cells = within(row);
    expect(cells.getByText('Web tier')).toBeTruthy();
    expect(cells.getByText('At 02:00')).toBeTruthy();
    expect(cells.getByText('Primary')).toBeTruthy();
    expect(cells.getByText('Success')).toBeTruthy();
    expect(cells.getByText('75% (3/4)')).toBeTruthy();
    expect(row.querySelector('time[datetime="2026-11-26T02:00:05.000Z"]')!.getAttribute('title')).toBe('2026-11-26 02:00:05 UTC');
    const next = row.querySelector('time[datetime="2026-11-28T02:00:00.000Z"]')!;
    expect(next.getAttribute('title')).toBe('2026-11-28 02:00:00 UTC');
    const web = within(screen.getByRole('link', { name: 'Web VM' }).closest('tr')!);
    expect(web.getByText('On demand')).toBeTruthy();
    expect(web.getByText('Never run')).toBeTruthy();
    expect(web.getByRole('switch', { name: 'Enabled' }).getAttribute('aria-checked')).toBe('false');
  });

  it('gives an admin every action, and a viewer only Test', async () => {
    fakeApi(list);
    const { unmount } = renderPage(<FlowsPage />, { path: '/protection-flows' });
    const row = within((await screen.findByRole('link', { name: 'Nightly DB' })).closest('tr')!);
    for (const name of ['Run now', 'Test', 'Edit', 'Delete']) expect(row.getByRole('button', { name })).toBeTruthy();
    expect(row.getByRole('switch', { name: 'Enabled' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Create flow' })).toBeTruthy();
    unmount();
    localStorage.clear();

    fakeApi(list);
    renderPage(<FlowsPage />, { path: '/protection-flows', role: 'viewer' });
    const vrow = within((await screen.findByRole('link', { name: 'Nightly DB' })).closest('tr')!);
    expect(vrow.getByRole('button', { name: 'Test' })).toBeTruthy();
    for (const name of ['Run now', 'Edit', 'Delete']) expect(vrow.queryByRole('button', { name })).toBeNull();
    expect(vrow.queryByRole('switch')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Create flow' })).toBeNull();
    expect(screen.queryAllByRole('checkbox')).toHaveLength(0);
  });

  it('sends filters, search and sorting to the API', async () => {
    const api = fakeApi(list);
    renderPage(<FlowsPage />, { path: '/protection-flows' });
    await screen.findByRole('link', { name: 'Nightly DB' });
    await userEvent.selectOptions(screen.getByLabelText('Type'), 'backup');
    await userEvent.selectOptions(screen.getByLabelText('Last status'), 'error');
    await userEvent.click(screen.getByRole('button', { name: /Name/ }));
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search flows' }), 'db');
    await waitFor(() => {
      const q = api.calls.at(-1)!.query;
      expect(Object.fromEntries(q)).toMatchObject({ flow_type: 'backup', last_status: 'error', sort: 'name', order: 'desc', search: 'db', offset: '0' });
    });
  });

  it('bulk-deletes the selected flows after a confirmation that names each one', async () => {
    const api = fakeApi({ ...list, 'POST /api/v1/protection-flows/bulk-delete': (r) => ({ body: { affected: 2, flow_ids: (r.body as { flow_ids: string[] }).flow_ids } }) });
    renderPage(<FlowsPage />, { path: '/protection-flows' });
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Select Nightly DB' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select Web VM' }));
    await userEvent.click(screen.getByRole('button', { name: 'Delete selected' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete 2 flows' });
    expect(within(dialog).getByText(/deleted with 4 executions of history/)).toBeTruthy();
    expect(within(dialog).getByText('Web VM')).toBeTruthy();
    expect(api.calls.some((c) => c.path.endsWith('bulk-delete'))).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete 2 flows' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.calls.find((c) => c.path.endsWith('bulk-delete'))!.body).toEqual({ flow_ids: ['f1', 'f2'] });
  });

  it('says what to create when there are no flows, and what to do when the list fails', async () => {
    fakeApi({ 'GET /api/v1/protection-flows': { body: { flows: [], total: 0 } } });
    const { unmount } = renderPage(<FlowsPage />, { path: '/protection-flows' });
    expect(await screen.findByText('No protection flows yet')).toBeTruthy();
    expect(screen.getByText(/use "Create flow" above/)).toBeTruthy();
    unmount();
    fakeApi({ 'GET /api/v1/protection-flows': { status: 503, body: { error: { code: 'DATABASE_UNAVAILABLE', message: 'The database is not reachable', details: [], request_id: 'r1' } } } });
    renderPage(<FlowsPage />, { path: '/protection-flows' });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The database is not reachable');
    expect(alert.textContent).toContain('try again in a minute');
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});
