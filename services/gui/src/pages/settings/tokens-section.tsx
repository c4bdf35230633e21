import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { CreateTokenRequest, tokenEndpoints, userEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { listQuery, useInvalidate } from '../../api/queries.js';
import type { ApiToken } from '../../api/types.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DataTable, type Column } from '../../components/data-table.js';
import { EmptyState, ErrorMessage } from '../../components/feedback.js';
import { Modal } from '../../components/modal.js';
import { Time } from '../../components/time.js';
import { Field } from '../../forms/field.js';
import { FormModal } from '../../forms/form-modal.js';

/** API tokens for automation (admins only): create (the secret is shown once), revoke. */
export function TokensSection() {
  const q = useQuery(listQuery(tokenEndpoints.list, { query: { limit: 1000, sort: 'created_at' } }));
  const users = useQuery(listQuery(userEndpoints.list, { query: { limit: 1000, sort: 'username' } }));
  const invalidate = useInvalidate(tokenEndpoints.list);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; token: string }>();
  const [revoking, setRevoking] = useState<ApiToken>();
  const [name, setName] = useState('');
  const [userId, setUserId] = useState('');
  const [days, setDays] = useState('90');
  const columns: Column<ApiToken>[] = [
    { key: 'name', header: 'Name', cell: (t) => <strong>{t.name}</strong> },
    { key: 'user', header: 'Acts as', cell: (t) => t.username },
    { key: 'prefix', header: 'Starts with', cell: (t) => <code>{t.token_prefix}…</code> },
    { key: 'expires', header: 'Expires', cell: (t) => <Time value={t.expires_at} empty="never" /> },
    { key: 'used', header: 'Last used', cell: (t) => <Time value={t.last_used_at} empty="never" /> },
    { key: 'actions', header: 'Actions', className: 'col-actions', cell: (t) => <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Revoke ${t.name}`} onClick={() => setRevoking(t)}>Revoke</button> },
  ];
  return (
    <section className="panel" aria-labelledby="tokens-title">
      <div className="section-head">
        <h2 id="tokens-title">API tokens</h2>
        <button type="button" className="btn btn-primary btn-small" onClick={() => setCreating(true)}>Create token</button>
      </div>
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} />
      <DataTable caption="API tokens" columns={columns} rows={q.data?.tokens} rowKey={(t) => t.id} loading={q.isPending} empty={<EmptyState title="No API tokens">Create one for scripts and automation that call the API.</EmptyState>} />
      {creating && (
        <FormModal
          title="Create API token"
          submitLabel="Create token"
          schema={CreateTokenRequest}
          build={() => ({ name: name.trim(), ...(userId ? { user_id: userId } : {}), expires_in_days: days.trim() ? Number(days) : null })}
          send={async (body) => {
            const t = await call(tokenEndpoints.create, { body });
            setSecret({ name: t.name, token: t.token });
            setName('');
            await invalidate();
          }}
          onClose={() => setCreating(false)}
        >
          {(e) => (
            <>
              <Field label="Token name" error={e.name}>
                {(p) => <input {...p} value={name} onChange={(ev) => setName(ev.target.value)} data-autofocus />}
              </Field>
              <Field label="Acts as user" error={e.user_id}>
                {(p) => (
                  <select {...p} value={userId} onChange={(ev) => setUserId(ev.target.value)}>
                    <option value="">Me</option>
                    {users.data?.users.map((u) => <option key={u.id} value={u.id}>{u.username} ({u.role})</option>)}
                  </select>
                )}
              </Field>
              <Field label="Expires after (days)" error={e.expires_in_days} hint="Leave empty for a token that never expires.">
                {(p) => <input {...p} type="number" min={1} max={3650} value={days} onChange={(ev) => setDays(ev.target.value)} />}
              </Field>
            </>
          )}
        </FormModal>
      )}
      {secret && (
        <Modal title={`Token ${secret.name} created`} onClose={() => setSecret(undefined)} footer={<button type="button" className="btn btn-primary" onClick={() => setSecret(undefined)}>I have copied it</button>}>
          <p>Copy the token now: it is shown only once.</p>
          <input className="mono token-secret" readOnly value={secret.token} aria-label="New API token" onFocus={(e) => e.currentTarget.select()} data-autofocus />
        </Modal>
      )}
      {revoking && (
        <ConfirmDialog title="Revoke API token" confirmLabel="Revoke token" danger onClose={() => setRevoking(undefined)} onConfirm={async () => { await call(tokenEndpoints.remove, { params: { id: revoking.id } }); await invalidate(); }}>
          <p>
            Revoke <strong>{revoking.name}</strong> (acts as {revoking.username})? Scripts using it are refused from now on.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
