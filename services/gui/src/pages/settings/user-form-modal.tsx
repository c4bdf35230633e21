import { useState } from 'react';
import { ROLES } from '@vaultflow/domain';
import { CreateUserRequest, UpdateUserRequest, userEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import type { Role, User } from '../../api/types.js';
import { Field } from '../../forms/field.js';
import { formTitles } from '../../forms/name-fields.js';
import { FormModal } from '../../forms/form-modal.js';

const ROLE_TEXT: Record<Role, string> = { admin: 'admin: everything', operator: 'operator: run, enable and disable flows; read everything', viewer: 'viewer: read only' };

/** Create a user, or change `user`'s role, enabled state or password (which ends their sessions). */
export function UserFormModal({ user, onClose }: { user?: User; onClose: () => void }) {
  const [username, setUsername] = useState(user?.username ?? '');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>(user?.role ?? 'viewer');
  const [enabled, setEnabled] = useState(user?.enabled ?? true);
  const invalidate = useInvalidate(userEndpoints.list);
  return (
    <FormModal
      {...formTitles('user', user?.username)}
      schema={user ? UpdateUserRequest : CreateUserRequest}
      build={() => (user ? { role, enabled, ...(password ? { password } : {}) } : { username: username.trim(), password, role })}
      send={async (body) => {
        if (user) await call(userEndpoints.update, { params: { id: user.id }, body });
        else await call(userEndpoints.create, { body: body as CreateUserRequest });
        await invalidate();
      }}
      onClose={onClose}
    >
      {(e) => (
        <>
          {!user && (
            <Field label="User name" error={e.username}>
              {(p) => <input {...p} autoComplete="off" value={username} onChange={(ev) => setUsername(ev.target.value)} data-autofocus />}
            </Field>
          )}
          <Field label={user ? 'New password' : 'Initial password'} error={e.password} hint={user ? 'Leave empty to keep it. Changing it signs the user out everywhere.' : 'At least 12 characters.'}>
            {(p) => <input {...p} type="password" autoComplete="new-password" value={password} onChange={(ev) => setPassword(ev.target.value)} />}
          </Field>
          <Field label="Role" error={e.role}>
            {(p) => (
              <select {...p} value={role} onChange={(ev) => setRole(ev.target.value as Role)}>
                {ROLES.map((r) => <option key={r} value={r}>{ROLE_TEXT[r]}</option>)}
              </select>
            )}
          </Field>
          {user && (
            <label className="checkbox">
              <input type="checkbox" checked={enabled} onChange={(ev) => setEnabled(ev.target.checked)} /> Enabled (may sign in)
            </label>
          )}
        </>
      )}
    </FormModal>
  );
}
