import { useState } from 'react';
import { CreateScheduleRequest, UpdateScheduleRequest, scheduleEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import type { Schedule } from '../../api/types.js';
import { userTimeZone } from '../../format/format.js';
import { Field } from '../../forms/field.js';
import { NameFields, formTitles } from '../../forms/name-fields.js';
import { FormModal } from '../../forms/form-modal.js';
import { CronHelper } from './cron-helper.js';

/** Create a schedule, or edit `schedule`; the flows using it follow the change. */
export function ScheduleFormModal({ schedule, onClose }: { schedule?: Schedule; onClose: () => void }) {
  const [name, setName] = useState(schedule?.name ?? '');
  const [description, setDescription] = useState(schedule?.description ?? '');
  const [cron, setCron] = useState(schedule?.cron_expression ?? '0 2 * * *');
  const [timezone, setTimezone] = useState(schedule?.timezone ?? userTimeZone());
  const [enabled, setEnabled] = useState(schedule?.enabled ?? true);
  const [grace, setGrace] = useState(String(schedule?.misfire_grace_seconds ?? 300));
  const invalidate = useInvalidate(scheduleEndpoints.list, scheduleEndpoints.get, scheduleEndpoints.preview);
  const build = () => ({
    name: name.trim(),
    description: description.trim() || null,
    cron_expression: cron.trim(),
    timezone: timezone.trim(),
    enabled,
    misfire_grace_seconds: Number(grace),
  });
  return (
    <FormModal
      {...formTitles('schedule', schedule?.name)}
      schema={schedule ? UpdateScheduleRequest : CreateScheduleRequest}
      build={build}
      send={async (body) => {
        if (schedule) await call(scheduleEndpoints.update, { params: { id: schedule.id }, body });
        else await call(scheduleEndpoints.create, { body });
        await invalidate();
      }}
      onClose={onClose}
    >
      {(e) => (
        <>
          <NameFields name={name} description={description} onName={setName} onDescription={setDescription} errors={e} />
          <CronHelper cron={cron} timezone={timezone} onCron={setCron} onTimezone={setTimezone} errors={e} />
          <div className="form-row">
            <Field label="Misfire grace (seconds)" error={e.misfire_grace_seconds} hint="A fire missed by less than this (hub down) still runs late; older ones are recorded as missed.">
              {(p) => <input {...p} type="number" min={0} value={grace} onChange={(ev) => setGrace(ev.target.value)} />}
            </Field>
            <label className="checkbox">
              <input type="checkbox" checked={enabled} onChange={(ev) => setEnabled(ev.target.checked)} /> Enabled
            </label>
          </div>
        </>
      )}
    </FormModal>
  );
}
