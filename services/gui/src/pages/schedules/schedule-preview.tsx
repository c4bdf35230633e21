import { useQuery } from '@tanstack/react-query';
import { ScheduleDraftPreviewRequest, scheduleEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import { BlockSkeleton, ErrorMessage } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { userTimeZone } from '../../format/format.js';
import { useDebounced } from '../../forms/use-debounced.js';
import { checkBody } from '../../forms/validation.js';

interface Fires {
  timezone: string;
  fires: { at: string; local: string }[];
}

/** The fire times the hub computed, in the user's zone (and the schedule's own when it differs). */
function FireList({ data }: { data: Fires }) {
  return (
    <ol className="fire-list">
      {data.fires.map((f) => (
        <li key={f.at}>
          <Time value={f.at} />
          {data.timezone !== userTimeZone() && <span className="muted small"> ({f.local.replace('T', ' ').slice(0, 16)} {data.timezone})</span>}
        </li>
      ))}
      {data.fires.length === 0 && <li className="muted">This expression never fires.</li>}
    </ol>
  );
}

/** The next fire times of a saved schedule, as the hub computes them (GET /schedules/{id}/preview). */
export function SchedulePreview({ scheduleId, count = 5, title = 'Next runs' }: { scheduleId: string; count?: number; title?: string }) {
  const q = useQuery(endpointQuery(scheduleEndpoints.preview, { params: { id: scheduleId }, query: { count } }));
  return (
    <section className="preview" aria-label={title}>
      <h3>{title}</h3>
      {q.isPending && <BlockSkeleton lines={2} />}
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} />
      {q.data && <FireList data={q.data} />}
    </section>
  );
}

/**
 * The next fire times of a cron and zone not saved yet (POST /schedules/preview; the hub writes
 * nothing). Asks once typing pauses, and only for input the API's schema accepts.
 */
export function DraftSchedulePreview({ cron, timezone, count = 5, title = 'Next runs' }: { cron: string; timezone: string; count?: number; title?: string }) {
  const body = useDebounced({ cron_expression: cron.trim(), timezone: timezone.trim() || 'UTC', count }, 300);
  const acceptable = !checkBody(ScheduleDraftPreviewRequest, body);
  const q = useQuery({ ...endpointQuery(scheduleEndpoints.previewDraft, { body }), enabled: acceptable, retry: false });
  return (
    <section className="preview" aria-label={title}>
      <h3>{title}</h3>
      {!acceptable && <p className="muted small">Enter a valid cron expression and time zone to see when it runs.</p>}
      {acceptable && q.isPending && <BlockSkeleton lines={2} />}
      {acceptable && <ErrorMessage error={q.error} />}
      {acceptable && q.data && <FireList data={q.data} />}
    </section>
  );
}
