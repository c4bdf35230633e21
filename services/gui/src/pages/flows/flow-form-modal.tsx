import { useRef, useState } from 'react';
import { DESTINATION_TYPES, flowShapeProblems } from '@vaultflow/domain';
import { CreateFlowRequest, UpdateFlowRequest, flowEndpoints } from '@vaultflow/schemas';
import { UserProblem } from '../../api/api-error.js';
import { call } from '../../api/client.js';
import type { Flow } from '../../api/types.js';
import { Field } from '../../forms/field.js';
import { FormModal } from '../../forms/form-modal.js';
import { toFieldErrors } from '../../forms/validation.js';
import { useFlowsChanged } from './flow-api.js';
import { InlineSchedule, type InlineScheduleHandle } from './inline-schedule.js';
import { NEW_SCHEDULE, PolicySelect, RepositorySelect, ScheduleSelect } from './resource-selects.js';
import { TargetPicker, type TargetChoice } from './target-picker.js';

type Body = CreateFlowRequest;

function draftOf(f?: Flow) {
  return {
    name: f?.name ?? '',
    description: f?.description ?? '',
    flow_type: f?.flow_type ?? ('backup' as Flow['flow_type']),
    target_type: f?.target_type ?? ('vm' as Flow['target_type']),
    target: f ? ({ id: f.target_id, label: f.target_name ?? f.target_id } as TargetChoice) : undefined,
    repository_id: f?.repository_id ? String(f.repository_id) : '',
    policy_id: f?.policy_id ? String(f.policy_id) : '',
    schedule: f?.schedule_id ?? '',
    destination_type: f?.destination_type ?? '',
    destination_config: f?.destination_config ? JSON.stringify(f.destination_config, null, 2) : '',
    enabled: f?.enabled ?? true,
    window: String(f?.vm_start_window_minutes ?? 240),
  };
}

/** Create a flow, or edit `flow`: every picker is loaded from the API; the API's schema checks the body. */
export function FlowFormModal({ flow, onClose, onSaved }: { flow?: Flow; onClose: () => void; onSaved?: (f: Flow) => void }) {
  const [d, setD] = useState(() => draftOf(flow));
  const set = <K extends keyof typeof d>(k: K, v: (typeof d)[K]) => setD((x) => ({ ...x, [k]: v }));
  const inline = useRef<InlineScheduleHandle>(null);
  const [inlineId, setInlineId] = useState<string>();
  const changed = useFlowsChanged();
  const backup = d.flow_type === 'backup';

  const build = (): Body => {
    let config: Body['destination_config'] = null;
    if (!backup && d.destination_config.trim()) {
      try {
        config = JSON.parse(d.destination_config) as Body['destination_config'];
      } catch {
        config = d.destination_config as unknown as Body['destination_config']; // the schema check names it
      }
    }
    return {
      name: d.name.trim(),
      description: d.description.trim() || null,
      flow_type: d.flow_type,
      target_type: d.target_type,
      target_id: d.target?.id ?? '',
      repository_id: backup && d.repository_id ? Number(d.repository_id) : null,
      policy_id: d.policy_id ? Number(d.policy_id) : null,
      destination_type: backup ? null : ((d.destination_type || null) as Body['destination_type']),
      destination_config: backup ? null : config,
      schedule_id: d.schedule && d.schedule !== NEW_SCHEDULE ? d.schedule : null,
      enabled: d.enabled,
      vm_start_window_minutes: Number(d.window),
    };
  };

  return (
    <FormModal<Body>
      wide
      title={flow ? `Edit flow: ${flow.name}` : 'Create flow'}
      submitLabel={flow ? 'Save changes' : 'Create flow'}
      schema={flow ? UpdateFlowRequest : CreateFlowRequest}
      build={build}
      check={(b) => {
        const shape = toFieldErrors(flowShapeProblems(b));
        if (!b.target_id) shape.target_id = 'is required: choose one';
        return Object.keys(shape).length ? shape : undefined;
      }}
      send={async (body) => {
        if (d.schedule === NEW_SCHEDULE) {
          const s = await inline.current?.ensureSaved();
          if (!s) throw new UserProblem('The new schedule is not valid', 'Correct the schedule fields marked below, then save again.');
          body = { ...body, schedule_id: s.id };
        }
        const saved = flow ? await call(flowEndpoints.update, { params: { id: flow.id }, body }) : await call(flowEndpoints.create, { body });
        await changed();
        onSaved?.(saved);
      }}
      onClose={onClose}
    >
      {(e) => (
        <>
        <div className="form-row">
          <Field label="Name" error={e.name}>
            {(p) => <input {...p} value={d.name} onChange={(ev) => set('name', ev.target.value)} data-autofocus />}
          </Field>
          <Field label="Type" error={e.flow_type}>
            {(p) => (
              <select {...p} value={d.flow_type} onChange={(ev) => set('flow_type', ev.target.value as Flow['flow_type'])}>
                <option value="backup">Backup</option>
                <option value="replication">Replication</option>
              </select>
            )}
          </Field>
        </div>
        <Field label="Description" error={e.description}>
          {(p) => <textarea {...p} rows={2} value={d.description} onChange={(ev) => set('description', ev.target.value)} />}
        </Field>
        <fieldset className="fieldset">
          <legend>What to protect</legend>
          <div className="radio-row" role="radiogroup" aria-label="Target type">
            {(['vm', 'group'] as const).map((t) => (
              <label key={t}>
                <input type="radio" name="target_type" checked={d.target_type === t} onChange={() => setD((x) => ({ ...x, target_type: t, target: undefined }))} />{' '}
                {t === 'vm' ? 'One virtual machine' : 'A protection group'}
              </label>
            ))}
          </div>
          <Field label={d.target_type === 'vm' ? 'Virtual machine' : 'Protection group'} error={e.target_id}>
            {(p) => <TargetPicker targetType={d.target_type} value={d.target} onChange={(c) => set('target', c)} control={p} />}
          </Field>
        </fieldset>
        <div className="form-row">
          {backup ? (
            <Field label="Repository" error={e.repository_id}>
              {(p) => <RepositorySelect control={p} value={d.repository_id} onChange={(v) => set('repository_id', v)} />}
            </Field>
          ) : (
            <Field label="Destination type" error={e.destination_type}>
              {(p) => (
                <select {...p} value={d.destination_type} onChange={(ev) => set('destination_type', ev.target.value)}>
                  <option value="">Choose a destination</option>
                  {DESTINATION_TYPES.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
          <Field label="Retention policy" error={e.policy_id}>
            {(p) => <PolicySelect control={p} value={d.policy_id} onChange={(v) => set('policy_id', v)} />}
          </Field>
        </div>
        {!backup && (
          <Field label="Destination settings (JSON)" error={e.destination_config} hint='For example {"host": "target.example", "datastore": "ds1"}'>
            {(p) => <textarea {...p} className="mono" rows={3} value={d.destination_config} onChange={(ev) => set('destination_config', ev.target.value)} />}
          </Field>
        )}
        <Field label="Schedule" error={e.schedule_id}>
          {(p) => <ScheduleSelect control={p} value={d.schedule} onChange={(v) => set('schedule', v)} />}
        </Field>
        {(d.schedule === NEW_SCHEDULE || (inlineId && d.schedule === inlineId)) && (
          <InlineSchedule
            handle={inline}
            defaultName={d.name.trim() ? `${d.name.trim()} schedule` : ''}
            onSaved={(s) => {
              setInlineId(s.id);
              set('schedule', s.id);
            }}
          />
        )}
        <div className="form-row">
          <Field label="VM start window (minutes)" error={e.vm_start_window_minutes} hint="A VM that cannot start within this time is skipped.">
            {(p) => <input {...p} type="number" min={1} max={10080} value={d.window} onChange={(ev) => set('window', ev.target.value)} />}
          </Field>
          <label className="checkbox">
            <input type="checkbox" checked={d.enabled} onChange={(ev) => set('enabled', ev.target.checked)} /> Enabled (runs on its schedule)
          </label>
        </div>
        </>
      )}
    </FormModal>
  );
}
