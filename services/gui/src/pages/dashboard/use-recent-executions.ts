import { useQuery } from '@tanstack/react-query';
import { executionEndpoints } from '@vaultflow/schemas';
import { endpointQuery } from '../../api/queries.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The most the API answers in one page; the chart needs one page for a week. */
const LIMIT = 1000;

/**
 * Executions of every flow in the last 7 days, newest first (GET /executions?since=). The start is
 * rounded down to the hour so the query keeps one cache key between polls.
 */
export function useRecentExecutions(refetchMs: number | false) {
  const since = new Date(Math.floor(Date.now() / HOUR) * HOUR - 7 * DAY).toISOString();
  const q = useQuery({ ...endpointQuery(executionEndpoints.list, { query: { since, limit: LIMIT } }), refetchInterval: refetchMs });
  return {
    executions: q.data?.executions ?? [],
    /** More executions matched than one page holds: the chart shows the newest LIMIT. */
    truncated: (q.data?.total ?? 0) > (q.data?.executions.length ?? 0),
    isPending: q.isPending,
    error: q.error,
    refetch: () => q.refetch(),
  };
}
