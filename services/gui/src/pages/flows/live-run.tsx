import { useEffect, useRef } from 'react';
import { useQuery } from '@tanstack/react-query';
import { flowEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';
import { ProgressBar } from '../../components/progress-bar.js';
import { StatusBadge } from '../../components/status-badge.js';
import { formatBytes } from '../../format/format.js';
import { isActive } from './flow-api.js';

/** How often a running execution is asked for its progress. */
export const LIVE_POLL_MS = 1_500;

/**
 * The execution a row is running: status and overall progress, polled while it runs. Calls
 * `onFinished` once it has ended.
 */
export function LiveRun({ flowId, executionId, onFinished }: { flowId: string; executionId: string; onFinished?: (status: string) => void }) {
  const q = useQuery({
    ...endpointQuery(flowEndpoints.execution, { params: { id: flowId, execId: executionId } }),
    refetchInterval: (query) => (query.state.data && !isActive(query.state.data.status) ? false : LIVE_POLL_MS),
  });
  const e = q.data;
  const done = e && !isActive(e.status);
  // reported once per execution, whatever the parent re-renders with
  const report = useRef(onFinished);
  report.current = onFinished;
  const reported = useRef(false);
  useEffect(() => {
    if (done && !reported.current) {
      reported.current = true;
      report.current?.(e.status);
    }
  }, [done, e?.status]);
  if (!e) return <StatusBadge status="pending" label="Starting" />;
  if (done) return <StatusBadge status={e.status} />;
  const p = e.progress;
  return (
    <div className="live-run">
      <StatusBadge status={e.status} />
      <ProgressBar percent={p.percent} label={`Progress of ${e.flow_name}`} />
      <span className="muted small">
        {p.vms_done}/{p.vms_total} VMs{p.bytes_total ? ` · ${formatBytes(p.bytes_done)} of ${formatBytes(p.bytes_total)}` : ''}
      </span>
    </div>
  );
}
