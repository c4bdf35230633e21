import { useMutation } from '@tanstack/react-query';
import { repositoryEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import type { Repository } from '../../api/types.js';
import { ErrorMessage } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { formatBytes } from '../../format/format.js';

/** A repository's capacity as a bar (used of total), with a button that reads it from the file system now. */
export function Capacity({ repo }: { repo: Repository }) {
  const invalidate = useInvalidate(repositoryEndpoints.list);
  const check = useMutation({ mutationFn: () => call(repositoryEndpoints.storage, { params: { id: repo.id } }), onSuccess: () => invalidate() });
  const now = check.data;
  const total = now?.total_bytes ?? repo.capacity.total_bytes;
  const used = now?.used_bytes ?? repo.capacity.used_bytes;
  const free = now?.available_bytes ?? repo.capacity.available_bytes;
  const at = now?.checked_at ?? repo.capacity.checked_at;
  const pct = total && used !== null ? Math.round((used / total) * 100) : undefined;
  return (
    <div className="capacity">
      {pct === undefined ? (
        <span className="muted small">Not measured yet</span>
      ) : (
        <>
          <div className={`capacity-bar${pct >= 90 ? ' capacity-full' : pct >= 75 ? ' capacity-high' : ''}`} role="meter" aria-label={`Used space of ${repo.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-valuetext={`${pct}% used`}>
            <div style={{ width: `${pct}%` }} />
          </div>
          <span className="small">
            {formatBytes(free)} free of {formatBytes(total)} ({pct}% used)
          </span>
        </>
      )}
      <span className="muted small">
        {' '}
        checked <Time value={at} empty="never" />
      </span>
      <button type="button" className="btn btn-small" onClick={() => check.mutate()} disabled={check.isPending} aria-label={`Check capacity of ${repo.name} now`}>
        {check.isPending ? 'Checking…' : 'Check now'}
      </button>
      <ErrorMessage error={check.error} />
    </div>
  );
}
