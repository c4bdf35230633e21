import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { flowEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import { BlockSkeleton, ErrorMessage } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { LIVE_POLL_MS } from './live-run.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** The job log of an execution (oldest first), refreshed while the execution runs. */
export function JobLog({ flowId, executionId, live }: { flowId: string; executionId: string; live: boolean }) {
  const [level, setLevel] = useState<Level | ''>('');
  const q = useQuery({
    ...endpointQuery(flowEndpoints.logs, { params: { id: flowId, execId: executionId }, query: { limit: 5000, level: level || undefined } }),
    refetchInterval: live ? LIVE_POLL_MS : false,
  });
  return (
    <section className="job-log" aria-label="Job log">
      <div className="job-log-head">
        <h4>Job log</h4>
        <label className="filter">
          <span>Lowest level</span>
          <select value={level} onChange={(e) => setLevel(e.target.value as Level | '')}>
            <option value="">Everything</option>
            <option value="info">Info</option>
            <option value="warn">Warnings</option>
            <option value="error">Errors</option>
          </select>
        </label>
      </div>
      {q.isPending && <BlockSkeleton lines={3} />}
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} />
      {q.data && q.data.logs.length === 0 && <p className="muted">No log lines{level ? ' at this level' : ' yet'}.</p>}
      {q.data && q.data.logs.length > 0 && (
        <ol className="log-lines">
          {q.data.logs.map((l) => (
            <li key={l.id} className={`log-${l.level}`}>
              <Time value={l.at} seconds /> <span className="log-level">{l.level}</span> <span className="log-step">{l.step}</span> <span>{l.message}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
