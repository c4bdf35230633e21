import { useState } from 'react';
import { CreateGroupRequest, UpdateGroupRequest, groupEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import type { Group } from '../../api/types.js';
import { Field } from '../../forms/field.js';
import { NameFields, formTitles } from '../../forms/name-fields.js';
import { FormModal } from '../../forms/form-modal.js';

/** Create a protection group, or edit `group` (name, description, concurrency, priority). */
export function GroupFormModal({ group, onClose, onCreated }: { group?: Group; onClose: () => void; onCreated?: (g: Group) => void }) {
  const [name, setName] = useState(group?.name ?? '');
  const [description, setDescription] = useState(group?.description ?? '');
  const [max, setMax] = useState(String(group?.max_concurrent_vms ?? 2));
  const [priority, setPriority] = useState(String(group?.priority ?? 50));
  const invalidate = useInvalidate(groupEndpoints.list, groupEndpoints.get);
  return (
    <FormModal
      {...formTitles('group', group?.name)}
      schema={group ? UpdateGroupRequest : CreateGroupRequest}
      build={() => ({ name: name.trim(), description: description.trim() || null, max_concurrent_vms: Number(max), priority: Number(priority) })}
      send={async (body) => {
        if (group) await call(groupEndpoints.update, { params: { id: group.id }, body });
        else onCreated?.(await call(groupEndpoints.create, { body }));
        await invalidate();
      }}
      onClose={onClose}
    >
      {(e) => (
        <>
          <NameFields name={name} description={description} onName={setName} onDescription={setDescription} errors={e} />
          <div className="form-row">
            <Field label="Concurrent VMs" error={e.max_concurrent_vms} hint="At most this many of its VMs are backed up at once.">
              {(p) => <input {...p} type="number" min={1} max={1000} value={max} onChange={(ev) => setMax(ev.target.value)} />}
            </Field>
            <Field label="Priority" error={e.priority} hint="0-100; higher runs first when workers are busy.">
              {(p) => <input {...p} type="number" min={0} max={100} value={priority} onChange={(ev) => setPriority(ev.target.value)} />}
            </Field>
          </div>
        </>
      )}
    </FormModal>
  );
}
