import { describe, expect, it } from 'vitest';
import { describeCron, formatBytes, formatDuration, formatUtc, successRatio } from './format.js';
import { bucketsFor, fillBuckets } from '../pages/dashboard/execution-buckets.js';
import type { Execution } from '../api/types.js';

describe('formatting', () => {
  it('bytes, durations and ratios', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(50 * 1024 ** 3)).toBe('50.0 GiB');
    expect(formatBytes(null)).toBe('—');
    expect(formatDuration(5)).toBe('5 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(3725)).toBe('1 h 2 min');
    expect(successRatio(3, 4)).toBe('75% (3/4)');
    expect(successRatio(0, 0)).toBe('—');
  });

  it('UTC on hover, and cron in words (undefined when unreadable)', () => {
    expect(formatUtc('2026-03-03T13:05:09.123Z')).toBe('2026-03-03 13:05:09 UTC');
    expect(describeCron('0 2 * * *')).toBe('At 02:00');
    expect(describeCron('30 1 * * 1-5')).toBe('At 01:30, Monday through Friday');
    expect(describeCron('not cron')).toBeUndefined();
  });
});

describe('executions chart buckets', () => {
  const exec = (started_at: string, status: Execution['status']) => ({ started_at, created_at: started_at, status }) as Execution;

  it('counts executions by hour of the last 24 hours and by outcome', () => {
    const now = new Date('2026-11-27T12:30:00');
    const buckets = fillBuckets(bucketsFor('24h', now), [exec(new Date('2026-11-27T12:10:00').toISOString(), 'success'), exec(new Date('2026-11-27T12:20:00').toISOString(), 'error'), exec(new Date('2026-11-27T09:59:00').toISOString(), 'running'), exec(new Date('2026-11-25T09:59:00').toISOString(), 'success')], '24h');
    expect(buckets).toHaveLength(24);
    expect(buckets[23]!.counts).toMatchObject({ success: 1, error: 1 });
    expect(buckets[20]!.counts.running).toBe(1);
    expect(buckets.reduce((s, b) => s + b.counts.success, 0)).toBe(1); // two days ago is outside
  });

  it('uses 7 daily buckets for the week', () => {
    const now = new Date('2026-11-27T12:30:00');
    const buckets = fillBuckets(bucketsFor('7d', now), [exec(new Date('2026-11-21T23:00:00').toISOString(), 'warning'), exec(new Date('2026-11-20T23:00:00').toISOString(), 'success')], '7d');
    expect(buckets).toHaveLength(7);
    expect(buckets[0]!.counts.warning).toBe(1);
    expect(buckets.reduce((s, b) => s + b.counts.success, 0)).toBe(0);
  });
});
