import { describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import { fakeApi } from '../../test/fake-api.js';
import { flow } from '../../test/fixtures.js';
import { renderPage } from '../../test/render.js';
import type { ExecutionDetail, VmRun } from '../../api/types.js';
import { ExecutionPanel } from './execution-panel.js';
import { FlowTestDialog } from './flow-test-dialog.js';
import { LiveRun } from './live-run.js';

function vmRun(over: Partial<VmRun> & { vm_name: string }): VmRun {
  return { vm_context_id: over.vm_name, group_id: null, status: 'running', attempts: 1, phase: 'transfer', bytes_done: 0, bytes_total: 0, percent: null, bytes_transferred: 0, backup_job_id: null, error_message: null, queued_at: null, started_at: '2026-11-27T10:00:00Z', completed_at: null, progress_at: null, ...over };
}

function execution(status: ExecutionDetail['status'], vms: VmRun[], percent: number | null): ExecutionDetail {
  return {
    id: 'e1', flow_id: 'f1', flow_name: 'Nightly', status, execution_type: 'manual', started_at: '2026-11-27T10:00:00Z', completed_at: null, execution_time_seconds: null,
    jobs_created: vms.length, jobs_completed: 0, jobs_failed: 0, jobs_skipped: 0, vms_processed: 0, bytes_transferred: 0, error_message: null, execution_metadata: null,
    created_job_ids: [], schedule_execution_id: null, scheduled_for: null, triggered_by: 'admin', created_at: '2026-11-27T10:00:00Z', cancel_requested_at: null,
    progress: { vms_total: vms.length, vms_done: vms.filter((v) => v.status === 'success' || v.status === 'failed').length, vms_running: vms.filter((v) => v.status === 'running').length, vms_waiting: 0, bytes_done: 0, bytes_total: 0, percent },
    vms,
  };
}

const EXEC = '/api/v1/protection-flows/f1/executions/e1';
const logs = { body: { logs: [{ id: 1, at: '2026-11-27T10:00:01Z', level: 'info', step: 'vm-start', message: 'Worker w1 started the VM', job_id: null, context: null }, { id: 2, at: '2026-11-27T10:00:02Z', level: 'error', step: 'vm-result', message: 'VM db-01: disk read failed', job_id: null, context: null }] } };

describe('execution views', () => {
  it('an opened execution shows per-VM progress bars, errors and the job log', async () => {
    fakeApi({
      [`GET ${EXEC}`]: { body: execution('running', [vmRun({ vm_name: 'web-01', percent: 42.4, bytes_done: 424, bytes_total: 1000 }), vmRun({ vm_name: 'db-01', status: 'failed', error_message: 'disk read failed' })], 21) },
      [`GET ${EXEC}/logs`]: logs,
    });
    renderPage(<ExecutionPanel flowId="f1" executionId="e1" />, { role: 'operator' });
    const table = await screen.findByRole('table', { name: 'VMs of this execution' });
    expect(within(table).getByRole('progressbar', { name: 'Progress of web-01' }).getAttribute('aria-valuenow')).toBe('42');
    expect(within(table).getByText('disk read failed')).toBeTruthy();
    expect(screen.getByRole('progressbar', { name: 'Execution progress' }).getAttribute('aria-valuenow')).toBe('21');
    const log = screen.getByRole('region', { name: 'Job log' });
    expect(await within(log).findByText('VM db-01: disk read failed')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Cancel execution' })).toBeTruthy();
  });

  it('a viewer cannot cancel', async () => {
    fakeApi({ [`GET ${EXEC}`]: { body: execution('running', [vmRun({ vm_name: 'web-01' })], null) }, [`GET ${EXEC}/logs`]: { body: { logs: [] } } });
    renderPage(<ExecutionPanel flowId="f1" executionId="e1" />, { role: 'viewer' });
    await screen.findByRole('table', { name: 'VMs of this execution' });
    expect(screen.queryByRole('button', { name: 'Cancel execution' })).toBeNull();
    expect(await screen.findByText('No log lines yet.')).toBeTruthy();
  });

  it('a row\'s live run polls until the execution ends, then reports it', async () => {
    let answer = execution('running', [vmRun({ vm_name: 'web-01', percent: 60 })], 60);
    fakeApi({ [`GET ${EXEC}`]: () => ({ body: answer }) });
    const onFinished = vi.fn();
    renderPage(<LiveRun flowId="f1" executionId="e1" onFinished={onFinished} />);
    const bar = await screen.findByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('60');
    expect(screen.getByText('Running')).toBeTruthy();
    answer = execution('success', [vmRun({ vm_name: 'web-01', status: 'success', percent: 100 })], 100);
    await waitFor(() => expect(onFinished).toHaveBeenCalledWith('success'), { timeout: 4000 });
    expect(screen.getByText('Success')).toBeTruthy();
  });

  it('"Test" lists each check of the dry run and says whether the flow can run', async () => {
    fakeApi({
      'POST /api/v1/protection-flows/f1/test': {
        body: { valid: false, errors: ['Repository 3 does not exist'], warnings: ['No retention policy'], checks: [{ name: 'target', ok: true, severity: 'info', message: 'VM "web-01" (poweredOn)' }, { name: 'repository', ok: false, severity: 'error', message: 'Repository 3 does not exist' }, { name: 'policy', ok: true, severity: 'warning', message: 'No retention policy' }], next_fire_times: ['2026-11-28T02:00:00.000Z'] },
      },
    });
    renderPage(<FlowTestDialog flow={flow({ id: 'f1', name: 'Nightly' })} onClose={() => undefined} />);
    expect(await screen.findByText('Not ready: 1 problem must be fixed first.')).toBeTruthy();
    const checks = within(screen.getByRole('list', { name: 'Checks' })).getAllByRole('listitem');
    expect(checks.map((c) => c.textContent)).toEqual(['✓targetVM "web-01" (poweredOn)(passed)', '✗repositoryRepository 3 does not exist(failed)', '!policyNo retention policy(passed)']);
    expect(screen.getByRole('dialog', { name: 'Test: Nightly' }).querySelector('time')?.getAttribute('datetime')).toBe('2026-11-28T02:00:00.000Z');
  });
});
