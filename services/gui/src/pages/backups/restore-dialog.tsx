import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { RestoreRequest, backupEndpoints, restoreEndpoints, vcenterEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { endpointQuery, listQuery, useInvalidate } from '../../api/queries.js';
import type { Backup } from '../../api/types.js';
import { Time } from '../../components/time.js';
import { Field } from '../../forms/field.js';
import { FormModal } from '../../forms/form-modal.js';
import { formatBytes } from '../../format/format.js';

/** The fields that were filled in, trimmed (empty ones are left out: the form names them as required). */
function given<T extends Record<string, string>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v)) as Partial<T>;
}

/** Restores disks of a restore point to image files on the hub or to a vCenter datastore. */
export function RestoreDialog({ backup, onClose, onStarted }: { backup: Backup; onClose: () => void; onStarted: () => void }) {
  const detail = useQuery(endpointQuery(backupEndpoints.get, { params: { id: backup.id } }));
  const vcenters = useQuery(listQuery(vcenterEndpoints.list, { query: { limit: 1000, sort: 'name' } }));
  const [target, setTarget] = useState<'file' | 'datastore'>('file');
  const [disks, setDisks] = useState<Set<number> | undefined>();
  const [path, setPath] = useState('');
  const [vcenter, setVcenter] = useState('');
  const [datacenter, setDatacenter] = useState('');
  const [datastore, setDatastore] = useState('');
  const [folder, setFolder] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const invalidate = useInvalidate(restoreEndpoints.list);
  const all = detail.data?.disks.map((d) => d.disk_key) ?? [];
  const chosen = disks ?? new Set(all);
  const build = (): RestoreRequest => ({
    target,
    ...(disks && disks.size !== all.length ? { disk_keys: [...disks] } : {}),
    overwrite,
    ...(target === 'file'
      ? given({ path })
      : given({ vcenter_id: vcenter, datacenter, datastore, folder })),
  });
  return (
    <FormModal
      wide
      title={`Restore ${backup.vm_name ?? backup.vm_context_id}`}
      submitLabel="Start restore"
      schema={RestoreRequest}
      build={build}
      check={(b) => {
        const e: Record<string, string> = {};
        if (b.target === 'file' && !b.path) e.path = 'is required';
        if (b.target === 'datastore') {
          if (!b.vcenter_id) e.vcenter_id = 'is required';
          if (!b.datastore) e.datastore = 'is required';
          if (!b.folder) e.folder = 'is required';
        }
        if (chosen.size === 0) e.disk_keys = 'needs at least one disk';
        return e;
      }}
      send={async (body) => {
        await call(restoreEndpoints.create, { params: { id: backup.id }, body });
        await invalidate();
        onStarted();
      }}
      onClose={onClose}
    >
      {(e) => (
        <>
          <p className="muted">
            Each disk becomes one raw image file, exactly as it was when the restore point was taken (<Time value={backup.completed_at ?? backup.created_at} />).
          </p>
          <fieldset className="fieldset">
            <legend>Disks</legend>
            {detail.data?.disks.map((d) => (
              <label key={d.disk_key} className="checkbox-inline">
                <input
                  type="checkbox"
                  checked={chosen.has(d.disk_key)}
                  onChange={() => {
                    const n = new Set(chosen);
                    if (!n.delete(d.disk_key)) n.add(d.disk_key);
                    setDisks(n);
                  }}
                />{' '}
                Disk {d.disk_key} ({formatBytes(d.capacity_bytes)})
              </label>
            ))}
            {e.disk_keys && <div className="field-error" role="alert">Disks {e.disk_keys}</div>}
          </fieldset>
          <div className="radio-row" role="radiogroup" aria-label="Restore to">
            <label>
              <input type="radio" name="target" checked={target === 'file'} onChange={() => setTarget('file')} /> Image files in a folder of the hub
            </label>
            <label>
              <input type="radio" name="target" checked={target === 'datastore'} onChange={() => setTarget('datastore')} /> A vCenter datastore
            </label>
          </div>
          {target === 'file' ? (
            <Field label="Folder on the hub" error={e.path} hint="An existing, writable folder (not inside a repository).">
              {(p) => <input {...p} className="mono" value={path} onChange={(ev) => setPath(ev.target.value)} placeholder="/srv/restores" />}
            </Field>
          ) : (
            <div className="form-row">
              <Field label="vCenter" error={e.vcenter_id}>
                {(p) => (
                  <select {...p} value={vcenter} onChange={(ev) => setVcenter(ev.target.value)}>
                    <option value="">Choose a vCenter</option>
                    {vcenters.data?.vcenters.map((v) => <option key={v.id} value={v.id}>{v.name}</option>)}
                  </select>
                )}
              </Field>
              <Field label="Datacenter" error={e.datacenter} hint="Empty: the VM's own.">
                {(p) => <input {...p} value={datacenter} onChange={(ev) => setDatacenter(ev.target.value)} />}
              </Field>
              <Field label="Datastore" error={e.datastore}>
                {(p) => <input {...p} value={datastore} onChange={(ev) => setDatastore(ev.target.value)} placeholder="datastore1" />}
              </Field>
              <Field label="Folder in the datastore" error={e.folder}>
                {(p) => <input {...p} value={folder} onChange={(ev) => setFolder(ev.target.value)} placeholder="restores/web01" />}
              </Field>
            </div>
          )}
          <label className="checkbox">
            <input type="checkbox" checked={overwrite} onChange={(ev) => setOverwrite(ev.target.checked)} /> Replace image files that exist already
          </label>
        </>
      )}
    </FormModal>
  );
}
