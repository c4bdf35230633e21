import { useImperativeHandle, useState, type Ref } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { CreateScheduleRequest, scheduleEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { keyOf } from '../../api/queries.js';
import type { Schedule } from '../../api/types.js';
import { ErrorMessage } from '../../components/feedback.js';
import { userTimeZone } from '../../format/format.js';
import { Field } from '../../forms/field.js';
import { checkBody, fieldErrorsOf, type FieldErrors } from '../../forms/validation.js';
import { CronHelper } from '../schedules/cron-helper.js';
import { DraftSchedulePreview, SchedulePreview } from '../schedules/schedule-preview.js';

export interface InlineScheduleHandle {
  /** Saves the schedule unless saved already; undefined when its fields have problems (shown beside them). */
  ensureSaved(): Promise<Schedule | undefined>;
}

/**
 * A new schedule defined inside the flow form. Its next runs show while it is typed (the hub
 * computes them without saving anything); saving it (its own button, or creating the flow) stores it.
 */
export function InlineSchedule({ defaultName, onSaved, handle }: { defaultName: string; onSaved: (s: Schedule) => void; handle: Ref<InlineScheduleHandle> }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [cron, setCron] = useState('0 2 * * *');
  const [timezone, setTimezone] = useState(userTimeZone());
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<Schedule>();

  const save = async (): Promise<Schedule | undefined> => {
    if (saved) return saved;
    const body = { name: (name.trim() || defaultName.trim() || '').slice(0, 255), cron_expression: cron.trim(), timezone: timezone.trim() || 'UTC' };
    const problems = checkBody(CreateScheduleRequest, body);
    setError(undefined);
    if (problems) {
      setErrors(problems);
      return undefined;
    }
    setBusy(true);
    try {
      const s = await call(scheduleEndpoints.create, { body });
      setErrors({});
      setSaved(s);
      onSaved(s);
      await qc.invalidateQueries({ queryKey: keyOf(scheduleEndpoints.list) });
      return s;
    } catch (err) {
      setErrors(fieldErrorsOf(err));
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  useImperativeHandle(handle, () => ({ ensureSaved: save }));

  if (saved) {
    return (
      <div className="inline-schedule" role="group" aria-label="New schedule">
        <p className="alert alert-ok" role="status">
          Schedule <strong>{saved.name}</strong> saved ({saved.cron_expression}, {saved.timezone}).
        </p>
        <SchedulePreview scheduleId={saved.id} />
      </div>
    );
  }
  return (
    <div className="inline-schedule" role="group" aria-label="New schedule">
      <Field label="Schedule name" error={errors.name} hint={defaultName && !name ? `Default: ${defaultName}` : undefined}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} placeholder={defaultName} />}
      </Field>
      <CronHelper cron={cron} timezone={timezone} onCron={setCron} onTimezone={setTimezone} errors={errors} />
      <DraftSchedulePreview cron={cron} timezone={timezone} />
      <ErrorMessage error={error} />
      <div className="inline-actions">
        <button type="button" className="btn" onClick={() => void save()} disabled={busy}>
          {busy ? 'Saving…' : 'Save schedule'}
        </button>
        <span className="muted small">Creating the flow saves the schedule too.</span>
      </div>
    </div>
  );
}
