import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { userEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import type { User } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EditDeleteButtons, actionsColumn } from '../../components/row-actions.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { UserFormModal } from './user-form-modal.js';

/** Users and their roles (admins only). */
export function UsersSection() {
  const { user: me } = useAuth();
  const q = useQuery(listQuery(userEndpoints.list, { query: { limit: 1000, sort: 'username' } }));
  const invalidate = useInvalidate(userEndpoints.list);
  const [editing, setEditing] = useState<User | 'new'>();
  const [removing, setRemoving] = useState<User>();
  const columns: Column<User>[] = [
    { key: 'name', header: 'User', cell: (u) => <><strong>{u.username}</strong>{u.id === me?.id && <span className="muted small"> (you)</span>}</> },
    { key: 'role', header: 'Role', cell: (u) => <span className="role-tag">{u.role}</span> },
    { key: 'enabled', header: 'Enabled', cell: (u) => (u.enabled ? 'Yes' : 'No') },
    { key: 'login', header: 'Last sign-in', cell: (u) => <Time value={u.last_login_at} empty="never" /> },
    { key: 'created', header: 'Created', cell: (u) => <><Time value={u.created_at} /> <span className="muted small">by {u.created_by}</span></> },
    actionsColumn((u) => <EditDeleteButtons name={u.username} onEdit={() => setEditing(u)} onDelete={u.id === me?.id ? undefined : () => setRemoving(u)} />),
  ];
  return (
    <section className="panel" aria-labelledby="users-title">
      <div className="section-head">
        <h2 id="users-title">Users</h2>
        <button type="button" className="btn btn-primary btn-small" onClick={() => setEditing('new')}>Create user</button>
      </div>
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} />
      <DataTable caption="Users" columns={columns} rows={q.data?.users} rowKey={(u) => u.id} loading={q.isPending} empty={<EmptyState title="No users" />} />
      {editing && <UserFormModal user={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
      {removing && (
        <ConfirmDialog title="Delete user" confirmLabel="Delete user" danger onClose={() => setRemoving(undefined)} onConfirm={async () => { await call(userEndpoints.remove, { params: { id: removing.id } }); await invalidate(); }}>
          <p>
            Delete <strong>{removing.username}</strong> ({removing.role})? Their sessions and API tokens stop working at once.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
