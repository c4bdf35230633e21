import { describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { apiError, fakeApi } from '../test/fake-api.js';
import { renderPage } from '../test/render.js';
import { GroupFormModal } from './groups/group-form-modal.js';
import { PolicyFormModal } from './policies/policy-form-modal.js';
import { RepositoryFormModal } from './repositories/repository-form-modal.js';
import { ScheduleFormModal } from './schedules/schedule-form-modal.js';
import { UserFormModal } from './settings/user-form-modal.js';
import { VcenterFormModal } from './settings/vcenter-form-modal.js';

const problemOf = (label: string) => screen.getByLabelText(label).closest('.field')?.querySelector('.field-error')?.textContent;
const noRepos = { 'GET /api/v1/repositories': { body: { repositories: [], total: 0 } } };

describe('resource forms', () => {
  it('schedule: the hub\'s verdict on the cron expression appears under it', async () => {
    const api = fakeApi({ 'POST /api/v1/schedules': { status: 400, body: apiError('VALIDATION_FAILED', 'Invalid schedule: body.cron_expression is not a valid cron expression', [{ field: 'body.cron_expression', message: 'is not a valid cron expression: Invalid characters, got value: x' }]) } });
    renderPage(<ScheduleFormModal onClose={() => undefined} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Odd');
    await userEvent.clear(screen.getByLabelText('Cron expression'));
    await userEvent.type(screen.getByLabelText('Cron expression'), 'x 2 * * *');
    expect(screen.getByText(/Five fields: minute hour/)).toBeTruthy(); // not readable as words
    await userEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    await waitFor(() => expect(problemOf('Cron expression')).toBe('Cron expression is not a valid cron expression: Invalid characters, got value: x'));
    expect(api.calls[0]!.body).toMatchObject({ name: 'Odd', cron_expression: 'x 2 * * *', enabled: true, misfire_grace_seconds: 300 });
  });

  it('schedule: presets fill the expression and say it in words', async () => {
    fakeApi({});
    renderPage(<ScheduleFormModal onClose={() => undefined} />);
    await userEvent.click(screen.getByRole('button', { name: 'Weekdays at 22:00' }));
    expect((screen.getByLabelText('Cron expression') as HTMLInputElement).value).toBe('0 22 * * 1-5');
    expect(screen.getByRole('button', { name: 'Weekdays at 22:00' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByText('Runs at 22:00, Monday through Friday.')).toBeTruthy();
  });

  it('group: concurrency and priority are checked against the API\'s bounds', async () => {
    const api = fakeApi({});
    renderPage(<GroupFormModal onClose={() => undefined} />);
    await userEvent.type(screen.getByLabelText('Name'), 'DB');
    await userEvent.clear(screen.getByLabelText('Concurrent VMs'));
    await userEvent.type(screen.getByLabelText('Concurrent VMs'), '0');
    await userEvent.clear(screen.getByLabelText('Priority'));
    await userEvent.type(screen.getByLabelText('Priority'), '101');
    await userEvent.click(screen.getByRole('button', { name: 'Create group' }));
    expect(problemOf('Concurrent VMs')).toBe('Concurrent VMs must be at least 1');
    expect(problemOf('Priority')).toBe('Priority must be at most 100');
    expect(api.calls).toHaveLength(0);
  });

  it('repository: the path must be absolute, and a taken name comes back from the API', async () => {
    const api = fakeApi({ 'POST /api/v1/repositories': { status: 409, body: apiError('REPOSITORY_NAME_TAKEN', 'A repository named "Primary" already exists', [{ field: 'body.name', message: 'is already used' }]) } });
    renderPage(<RepositoryFormModal onClose={() => undefined} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Primary');
    await userEvent.type(screen.getByLabelText('Path'), 'relative/dir');
    await userEvent.click(screen.getByRole('button', { name: 'Create repository' }));
    expect(problemOf('Path')).toBe('Path must be an absolute path on the hub (for nfs/cifs: the mount point the host has mounted)');
    expect(api.calls).toHaveLength(0);
    await userEvent.clear(screen.getByLabelText('Path'));
    await userEvent.type(screen.getByLabelText('Path'), '/srv/backups');
    await userEvent.click(screen.getByRole('button', { name: 'Create repository' }));
    await waitFor(() => expect(problemOf('Name')).toBe('Name is already used'));
    expect(api.calls[0]!.body).toEqual({ name: 'Primary', description: null, repository_type: 'local', config: { path: '/srv/backups' }, enabled: true, immutable: { enabled: false } });
  });

  it('policy: retention counts must be positive, empty means no limit', async () => {
    const onClose = vi.fn();
    const api = fakeApi({ ...noRepos, 'POST /api/v1/policies': (r) => ({ status: 201, body: { id: 1, ...(r.body as object) } }) });
    renderPage(<PolicyFormModal onClose={onClose} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Gold');
    await userEvent.type(screen.getByLabelText('Keep the last'), '0');
    await userEvent.click(screen.getByRole('button', { name: 'Create policy' }));
    expect(problemOf('Keep the last')).toBe('Keep the last must be at least 1');
    await userEvent.clear(screen.getByLabelText('Keep the last'));
    await userEvent.type(screen.getByLabelText('Keep the last'), '7');
    await userEvent.type(screen.getByLabelText('Weekly points'), '4');
    await userEvent.click(screen.getByRole('button', { name: 'Create policy' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(api.calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'Gold', description: null, retention: { keep_last: 7, keep_daily: null, keep_weekly: 4, keep_monthly: null, keep_yearly: null }, copy_rules: [] });
  });

  it('policy: a copy rule needs a destination repository', async () => {
    fakeApi(noRepos);
    renderPage(<PolicyFormModal onClose={() => undefined} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Gold');
    await userEvent.click(screen.getByRole('button', { name: 'Add copy rule' }));
    await userEvent.click(screen.getByRole('button', { name: 'Create policy' }));
    expect(problemOf('Copy 1 to repository')).toBe('Copy 1 to repository must be at least 1');
  });

  it('user: the password needs 12 characters', async () => {
    fakeApi({});
    renderPage(<UserFormModal onClose={() => undefined} />);
    await userEvent.type(screen.getByLabelText('User name'), 'ops');
    await userEvent.type(screen.getByLabelText('Initial password'), 'short');
    await userEvent.click(screen.getByRole('button', { name: 'Create user' }));
    expect(problemOf('Initial password')).toBe('Initial password must be at least 12 characters');
  });

  it('vCenter: a refused login is shown under the password, and nothing is stored', async () => {
    const api = fakeApi({ 'POST /api/v1/vcenters': { status: 422, body: apiError('VCENTER_LOGIN_FAILED', 'vCenter lab refused the login', [{ field: 'body.password', message: 'user name or password refused by the vCenter' }]) } });
    renderPage(<VcenterFormModal onClose={() => undefined} />);
    await userEvent.type(screen.getByLabelText('Name'), 'lab');
    await userEvent.type(screen.getByLabelText('Host'), 'vc.lab');
    await userEvent.type(screen.getByLabelText('vCenter user'), 'admin@vsphere.local');
    await userEvent.type(screen.getByLabelText('vCenter password'), 'bad');
    await userEvent.click(screen.getByRole('button', { name: 'Test connection and register' }));
    await waitFor(() => expect(problemOf('vCenter password')).toBe('vCenter password user name or password refused by the vCenter'));
    expect(api.calls[0]!.body).toMatchObject({ host: 'vc.lab', port: 443, protocol: 'https', insecure: false, tls_thumbprint: null });
  });
});
