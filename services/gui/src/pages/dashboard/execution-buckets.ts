import type { Execution } from '../../api/types.js';

/** What bucketing needs of an execution (a full one or a row of the list across flows). */
type Timed = Pick<Execution, 'status' | 'started_at' | 'created_at'>;

export type Window = '24h' | '7d';
export const OUTCOMES = ['success', 'warning', 'error', 'cancelled', 'running'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Bucket {
  start: Date;
  label: string;
  counts: Record<Outcome, number>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The period a window covers, ending now: 24 hourly buckets or 7 daily ones (in the user's zone). */
export function bucketsFor(window: Window, now: Date): Bucket[] {
  const empty = () => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  if (window === '24h') {
    const top = new Date(now);
    top.setMinutes(0, 0, 0);
    return Array.from({ length: 24 }, (_, i) => {
      const start = new Date(top.getTime() - (23 - i) * HOUR);
      return { start, label: `${String(start.getHours()).padStart(2, '0')}h`, counts: empty() };
    });
  }
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  return Array.from({ length: 7 }, (_, i) => {
    const start = new Date(today);
    start.setDate(today.getDate() - (6 - i));
    return { start, label: start.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' }), counts: empty() };
  });
}

/** Counts executions by the bucket they started in and their outcome (pending and running count as running). */
export function fillBuckets(buckets: Bucket[], executions: Timed[], window: Window): Bucket[] {
  const width = window === '24h' ? HOUR : DAY;
  for (const e of executions) {
    const at = new Date(e.started_at ?? e.created_at).getTime();
    const b = buckets.find((x, i) => at >= x.start.getTime() && at < (buckets[i + 1]?.start.getTime() ?? x.start.getTime() + width));
    if (!b) continue;
    const outcome: Outcome = e.status === 'pending' ? 'running' : e.status;
    b.counts[outcome]++;
  }
  return buckets;
}
