import { useState } from 'react';
import { REPOSITORY_TYPES } from '@vaultflow/domain';
import { CreateRepositoryRequest, UpdateRepositoryRequest, repositoryEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import type { Repository } from '../../api/types.js';
import { Field } from '../../forms/field.js';
import { formTitles } from '../../forms/name-fields.js';
import { FormModal } from '../../forms/form-modal.js';

type RepoType = Repository['repository_type'];

/** Create a repository, or edit `repo`: where backups are stored and whether they are immutable. */
export function RepositoryFormModal({ repo, onClose }: { repo?: Repository; onClose: () => void }) {
  const [name, setName] = useState(repo?.name ?? '');
  const [description, setDescription] = useState(repo?.description ?? '');
  const [type, setType] = useState<RepoType>(repo?.repository_type ?? 'local');
  const [path, setPath] = useState(repo?.config.path ?? '');
  const [server, setServer] = useState(repo?.config.server ?? '');
  const [share, setShare] = useState(repo?.config.export ?? repo?.config.share ?? '');
  const [enabled, setEnabled] = useState(repo?.enabled ?? true);
  const [immutable, setImmutable] = useState(repo?.immutable.enabled ?? false);
  const [days, setDays] = useState(String(repo?.immutable.retention_days ?? 30));
  const invalidate = useInvalidate(repositoryEndpoints.list, repositoryEndpoints.get);
  const remote = type === 'nfs' || type === 'cifs';
  const build = () => ({
    name: name.trim(),
    description: description.trim() || null,
    repository_type: type,
    config: {
      path: path.trim(),
      ...(remote && server.trim() ? { server: server.trim() } : {}),
      ...(remote && share.trim() ? { [type === 'nfs' ? 'export' : 'share']: share.trim() } : {}),
    },
    enabled,
    immutable: immutable ? { enabled: true, retention_days: Number(days) } : { enabled: false },
  });
  return (
    <FormModal
      {...formTitles('repository', repo?.name)}
      schema={repo ? UpdateRepositoryRequest : CreateRepositoryRequest}
      build={build}
      send={async (body) => {
        if (repo) await call(repositoryEndpoints.update, { params: { id: repo.id }, body });
        else await call(repositoryEndpoints.create, { body });
        await invalidate();
      }}
      onClose={onClose}
    >
      {(e) => (
        <>
          <div className="form-row">
            <Field label="Name" error={e.name}>
              {(p) => <input {...p} value={name} onChange={(ev) => setName(ev.target.value)} data-autofocus />}
            </Field>
            <Field label="Type" error={e.repository_type}>
              {(p) => (
                <select {...p} value={type} onChange={(ev) => setType(ev.target.value as RepoType)}>
                  {REPOSITORY_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
                </select>
              )}
            </Field>
          </div>
          <Field label="Description" error={e.description}>
            {(p) => <input {...p} value={description} onChange={(ev) => setDescription(ev.target.value)} />}
          </Field>
          <Field label="Path" error={e['config.path'] ?? e.config} hint={remote ? 'The mount point on the hub where the share is mounted.' : 'An absolute folder on the hub; it is created when missing and must be writable.'}>
            {(p) => <input {...p} className="mono" value={path} onChange={(ev) => setPath(ev.target.value)} placeholder="/var/lib/vaultflow/repositories/primary" />}
          </Field>
          {remote && (
            <div className="form-row">
              <Field label="Server" error={e['config.server']}>
                {(p) => <input {...p} value={server} onChange={(ev) => setServer(ev.target.value)} />}
              </Field>
              <Field label={type === 'nfs' ? 'Export' : 'Share'} error={e[type === 'nfs' ? 'config.export' : 'config.share']}>
                {(p) => <input {...p} value={share} onChange={(ev) => setShare(ev.target.value)} />}
              </Field>
            </div>
          )}
          <div className="form-row">
            <label className="checkbox">
              <input type="checkbox" checked={enabled} onChange={(ev) => setEnabled(ev.target.checked)} /> Enabled
            </label>
            <label className="checkbox">
              <input type="checkbox" checked={immutable} onChange={(ev) => setImmutable(ev.target.checked)} /> Immutable restore points
            </label>
            {immutable && (
              <Field label="Locked for (days)" error={e['immutable.retention_days']}>
                {(p) => <input {...p} type="number" min={1} value={days} onChange={(ev) => setDays(ev.target.value)} />}
              </Field>
            )}
          </div>
        </>
      )}
    </FormModal>
  );
}
