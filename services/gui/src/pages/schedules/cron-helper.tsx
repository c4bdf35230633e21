import { useId } from 'react';
import { describeCron } from '../../format/format.js';
import { Field } from '../../forms/field.js';

const PRESETS: { label: string; cron: string }[] = [
  { label: 'Every hour', cron: '0 * * * *' },
  { label: 'Daily at 02:00', cron: '0 2 * * *' },
  { label: 'Weekdays at 22:00', cron: '0 22 * * 1-5' },
  { label: 'Sundays at 03:00', cron: '0 3 * * 0' },
  { label: 'Monthly on the 1st at 04:00', cron: '0 4 1 * *' },
];

let zones: string[] | undefined;
function timeZones(): string[] {
  zones ??= (() => {
    try {
      return ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
    } catch {
      return ['UTC'];
    }
  })();
  return zones;
}

/**
 * The cron expression and time zone of a schedule, with presets and the expression in words. The
 * hub computes the actual fire times (see SchedulePreview).
 */
export function CronHelper({ cron, timezone, onCron, onTimezone, errors }: { cron: string; timezone: string; onCron: (v: string) => void; onTimezone: (v: string) => void; errors: { cron_expression?: string; timezone?: string } }) {
  const listId = useId();
  const words = describeCron(cron);
  return (
    <div className="cron-helper">
      <div className="presets" role="group" aria-label="Common schedules">
        {PRESETS.map((p) => (
          <button key={p.cron} type="button" className={`chip${p.cron === cron ? ' chip-on' : ''}`} aria-pressed={p.cron === cron} onClick={() => onCron(p.cron)}>
            {p.label}
          </button>
        ))}
      </div>
      <div className="form-row">
        <Field
          label="Cron expression"
          error={errors.cron_expression}
          hint={
            <span aria-live="polite">
              {words ? `Runs ${words.charAt(0).toLowerCase()}${words.slice(1)}.` : 'Five fields: minute hour day-of-month month day-of-week (e.g. 30 1 * * 1-5).'}
            </span>
          }
        >
          {(p) => <input {...p} className="mono" value={cron} onChange={(e) => onCron(e.target.value)} spellCheck={false} autoComplete="off" />}
        </Field>
        <Field label="Time zone" error={errors.timezone} hint="The zone the times above are read in.">
          {(p) => (
            <>
              <input {...p} list={listId} value={timezone} onChange={(e) => onTimezone(e.target.value)} autoComplete="off" />
              <datalist id={listId}>
                {timeZones().map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </>
          )}
        </Field>
      </div>
    </div>
  );
}
