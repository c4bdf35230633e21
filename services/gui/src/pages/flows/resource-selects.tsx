import { useQuery } from '@tanstack/react-query';
import { policyEndpoints, repositoryEndpoints, scheduleEndpoints } from '@vaultflow/schemas';
import { listQuery } from '../../api/queries.js';
import { describeCron, formatBytes } from '../../format/format.js';
import type { ControlProps } from '../../forms/field.js';

interface SelectProps {
  value: string;
  onChange: (v: string) => void;
  control: ControlProps;
}

/** Repositories with their free space; disabled ones cannot be chosen. */
export function RepositorySelect({ value, onChange, control }: SelectProps) {
  const q = useQuery(listQuery(repositoryEndpoints.list, { query: { limit: 1000, sort: 'name' } }));
  return (
    <select {...control} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{q.isPending ? 'Loading repositories…' : q.data?.repositories.length ? 'Choose a repository' : 'No repositories yet: create one first'}</option>
      {q.data?.repositories.map((r) => (
        <option key={r.id} value={String(r.id)} disabled={!r.enabled}>
          {r.name} ({r.repository_type}, {r.capacity.available_bytes === null ? 'free space unknown' : `${formatBytes(r.capacity.available_bytes)} free`}){r.enabled ? '' : ' — disabled'}
        </option>
      ))}
    </select>
  );
}

/** Retention policies, or none. */
export function PolicySelect({ value, onChange, control }: SelectProps) {
  const q = useQuery(listQuery(policyEndpoints.list, { query: { limit: 1000, sort: 'name' } }));
  return (
    <select {...control} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">No retention policy (keep every restore point)</option>
      {q.data?.policies.map((p) => (
        <option key={p.id} value={String(p.id)}>
          {p.name}
        </option>
      ))}
    </select>
  );
}

export const NEW_SCHEDULE = 'new';

/** Existing schedules, none (on demand only), or a new one defined inline. */
export function ScheduleSelect({ value, onChange, control }: SelectProps) {
  const q = useQuery(listQuery(scheduleEndpoints.list, { query: { limit: 1000, sort: 'name' } }));
  return (
    <select {...control} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">No schedule (run on demand only)</option>
      {q.data?.schedules.map((s) => (
        <option key={s.id} value={s.id}>
          {s.name}: {describeCron(s.cron_expression) ?? s.cron_expression} ({s.timezone}){s.enabled ? '' : ' — disabled'}
        </option>
      ))}
      <option value={NEW_SCHEDULE}>New schedule…</option>
    </select>
  );
}
