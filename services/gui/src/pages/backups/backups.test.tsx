import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Backup, BackupDetail, Repository } from '../../api/types.js';
import { apiError, fakeApi } from '../../test/fake-api.js';
import { renderPage } from '../../test/render.js';
import { PruneDialog } from '../repositories/prune-dialog.js';
import { VerifyDialog } from '../repositories/verify-dialog.js';
import { RestorePoints } from './restore-points.js';

function backup(over: Partial<Backup> & { id: string }): Backup {
  return {
    vm_context_id: 'vm-1', vm_name: 'web-01', repository_id: 1, repository_name: 'Primary', policy_id: null, flow_execution_id: null, backup_type: 'full', requested_type: 'auto', status: 'success', consistency: 'crash',
    progress: { phase: 'done', disk: null, bytes_done: 0, bytes_total: 0 }, attempts: 1, bytes_total: 8 << 20, bytes_transferred: 4 << 20, bytes_stored: 2 << 20, locked_until: null, error_message: null,
    started_at: '2026-11-27T10:00:00Z', completed_at: '2026-11-27T10:01:00Z', created_at: '2026-11-27T10:00:00Z', created_by: 'admin', ...over,
  };
}
const detail = (b: Backup): BackupDetail => ({ ...b, disks: [{ disk_key: 2000, disk_uuid: null, capacity_bytes: 8 << 20, backup_mode: 'full', change_id: '52 1/4', bytes_transferred: 4 << 20, status: 'success', error_message: null }] });

describe('restore points', () => {
  it('shows a running backup\'s progress, and restores a finished one into a folder of the hub', async () => {
    const done = backup({ id: 'b1' });
    const running = backup({ id: 'b2', status: 'running', completed_at: null, progress: { phase: 'transfer', disk: 2000, bytes_done: 3 << 20, bytes_total: 4 << 20 } });
    const api = fakeApi({
      'GET /api/v1/backups': { body: { backups: [running, done], total: 2 } },
      'GET /api/v1/backups/b1': { body: detail(done) },
      'GET /api/v1/vcenters': { body: { vcenters: [], total: 0 } },
      'GET /api/v1/backups/b1/restores': { body: { restores: [], total: 0 } },
      'POST /api/v1/backups/b1/restore': { status: 409, body: apiError('RESTORE_TARGET_EXISTS', 'An image exists already', [{ field: 'body.path', message: 'already holds b1-disk-2000.img: set overwrite to replace it' }]) },
    });
    renderPage(<RestorePoints title="Restore points" />, { role: 'operator' });
    expect((await screen.findByRole('progressbar', { name: 'Progress of backup b2' })).getAttribute('aria-valuenow')).toBe('75');
    const rows = screen.getAllByRole('row');
    expect(within(rows[1]!).queryByRole('button', { name: 'Restore' })).toBeNull(); // still running
    await userEvent.click(within(rows[2]!).getByRole('button', { name: 'Restore' }));
    const dialog = screen.getByRole('dialog', { name: 'Restore web-01' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Start restore' }));
    expect(within(dialog).getByText('Folder on the hub is required')).toBeTruthy();
    await userEvent.type(within(dialog).getByLabelText('Folder on the hub'), '/srv/restores');
    await within(dialog).findByLabelText(/Disk 2000/);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Start restore' }));
    await waitFor(() => expect(within(dialog).getByText('Folder on the hub already holds b1-disk-2000.img: set overwrite to replace it')).toBeTruthy());
    expect(api.calls.find((c) => c.method === 'POST')!.body).toEqual({ target: 'file', overwrite: false, path: '/srv/restores' });
  });

  it('a viewer gets neither Restore nor Delete', async () => {
    fakeApi({ 'GET /api/v1/backups': { body: { backups: [backup({ id: 'b1' })], total: 1 } } });
    renderPage(<RestorePoints title="Restore points" />, { role: 'viewer' });
    await screen.findByText('web-01');
    expect(screen.queryByRole('button', { name: 'Restore' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
  });

  it('deleting asks first and answers an immutable point with the API\'s reason', async () => {
    fakeApi({
      'GET /api/v1/backups': { body: { backups: [backup({ id: 'b1', locked_until: '2026-12-31T00:00:00Z' })], total: 1 } },
      'DELETE /api/v1/backups/b1': { status: 409, body: apiError('BACKUP_IMMUTABLE', 'The restore point is locked until 2026-12-31', [{ field: 'locked_until', message: '2026-12-31T00:00:00Z' }]) },
    });
    renderPage(<RestorePoints title="Restore points" />, { role: 'admin' });
    await userEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete restore point' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete restore point' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('locked until 2026-12-31');
  });
});

describe('repository verification', () => {
  it('names the damaged restore points', async () => {
    fakeApi({
      'POST /api/v1/repositories/3/verify': { body: { repository_id: 3, ok: false, points_checked: 4, chunks_checked: 120, bytes_checked: 5 << 20, damaged: [{ backup_id: 'b7', point_id: 'p7', vm_context_id: 'vm-1', reason: 'chunks', disk_key: 2000, chunks: ['aa', 'bb'], message: '2 chunks of disk 2000 are corrupt' }], damaged_chunks: [{ chunk: 'aa', pack: 'p1', reason: 'corrupt', message: 'hash mismatch' }] } },
    });
    renderPage(<VerifyDialog repo={{ id: 3, name: 'Primary' } as Repository} onClose={() => undefined} />, { role: 'operator' });
    expect(await screen.findByText(/1 damaged restore point found\. Checked 4 restore points, 120 chunks, 5\.0 MiB\./)).toBeTruthy();
    expect(within(screen.getByRole('list', { name: 'Damaged restore points' })).getByText(/2 chunks of disk 2000 are corrupt/)).toBeTruthy();
  });

  it('frees a repository\'s space only after asking, then says what was freed', async () => {
    const api = fakeApi({
      'POST /api/v1/repositories/3/prune': { body: { repository_id: 3, points: 4, chunks_removed: 12, packs_deleted: 1, packs_rewritten: 2, bytes_freed: 7 << 20 } },
    });
    renderPage(<PruneDialog repo={{ id: 3, name: 'Primary' } as Repository} onClose={() => undefined} />, { role: 'operator' });
    expect(screen.getByText(/Restore points are not touched/)).toBeTruthy();
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    await userEvent.click(screen.getByRole('button', { name: 'Free space' }));
    expect(await screen.findByText(/Freed 7\.0 MiB: 12 chunks no restore point used; 1 pack deleted, 2 rewritten\. 4 restore points kept whole\./)).toBeTruthy();
  });

  it('a repository in use cannot be pruned now, and the dialog says why', async () => {
    fakeApi({
      'POST /api/v1/repositories/4/prune': { status: 409, body: apiError('REPOSITORY_BUSY', 'Repository "Offsite" is in use by a backup, restore, verify or prune: try again once it ends') },
    });
    renderPage(<PruneDialog repo={{ id: 4, name: 'Offsite' } as Repository} onClose={() => undefined} />, { role: 'operator' });
    await userEvent.click(screen.getByRole('button', { name: 'Free space' }));
    expect(await screen.findByText(/is in use by a backup, restore, verify or prune/)).toBeTruthy();
  });
});
