/**
 * Which restore points a retention policy keeps, the way restic's `forget` and Proxmox Backup
 * Server's prune read the same settings:
 * - keep_last N: the N newest points;
 * - keep_daily / keep_weekly / keep_monthly / keep_yearly N: the newest point of each of the N newest
 *   days (weeks, months, years) that have a point. Days, ISO weeks, months and years are those of
 *   `timeZone` (an IANA zone; the flow's schedule zone, UTC by default);
 * - a point kept by any rule is kept; a policy without any rule keeps everything; the newest point
 *   is always kept, so a policy can never leave a VM without a backup.
 */
export interface RetentionRules {
  keep_last: number | null;
  keep_daily: number | null;
  keep_weekly: number | null;
  keep_monthly: number | null;
  keep_yearly: number | null;
}

export interface DatedPoint {
  id: string;
  /** When the point was taken. */
  at: Date;
}

export type KeepReason = 'last' | 'daily' | 'weekly' | 'monthly' | 'yearly' | 'newest';

export interface RetentionPlan {
  /** Point id -> the rules that keep it. */
  keep: Map<string, KeepReason[]>;
  /** Points no rule keeps, newest first. */
  forget: string[];
}

type Period = Exclude<KeepReason, 'last' | 'newest'>;

const PERIODS: Array<[Period, keyof RetentionRules]> = [
  ['daily', 'keep_daily'],
  ['weekly', 'keep_weekly'],
  ['monthly', 'keep_monthly'],
  ['yearly', 'keep_yearly'],
];

/** The calendar date of `at` in `timeZone`: [year, month 1-12, day]. */
function localDate(at: Date, timeZone: string): [number, number, number] {
  const parts = dateFormat(timeZone).formatToParts(at);
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  return [get('year'), get('month'), get('day')];
}

const formats = new Map<string, Intl.DateTimeFormat>();
function dateFormat(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    formats.set(timeZone, f);
  }
  return f;
}

/** ISO 8601 week of a calendar date: "2026-W48" (the week's Thursday decides its year). */
function isoWeek(y: number, m: number, d: number): string {
  const date = new Date(Date.UTC(y, m - 1, d));
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0
  date.setUTCDate(date.getUTCDate() - weekday + 3); // the Thursday of this week
  const year = date.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(year, 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() - ((firstThursday.getUTCDay() + 6) % 7) + 3);
  return `${year}-W${1 + Math.round((date.getTime() - firstThursday.getTime()) / (7 * 86_400_000))}`;
}

function periodKey(period: Period, at: Date, timeZone: string): string {
  const [y, m, d] = localDate(at, timeZone);
  switch (period) {
    case 'daily':
      return `${y}-${m}-${d}`;
    case 'weekly':
      return isoWeek(y, m, d);
    case 'monthly':
      return `${y}-${m}`;
    case 'yearly':
      return String(y);
  }
}

/** Applies `rules` to `points` (any order). */
export function planRetention(points: readonly DatedPoint[], rules: RetentionRules, timeZone = 'UTC'): RetentionPlan {
  const newestFirst = [...points].sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : -1));
  const keep = new Map<string, KeepReason[]>();
  const mark = (id: string, why: KeepReason): void => {
    const reasons = keep.get(id);
    if (reasons) reasons.push(why);
    else keep.set(id, [why]);
  };
  const anyRule = rules.keep_last !== null || PERIODS.some(([, field]) => rules[field] !== null);
  if (!anyRule) {
    for (const p of newestFirst) mark(p.id, 'last');
    return { keep, forget: [] };
  }
  if (newestFirst[0]) mark(newestFirst[0].id, 'newest');
  newestFirst.slice(0, rules.keep_last ?? 0).forEach((p) => mark(p.id, 'last'));
  for (const [period, field] of PERIODS) {
    const want = rules[field];
    if (!want) continue;
    const seen = new Set<string>();
    for (const p of newestFirst) {
      if (seen.size >= want) break;
      const key = periodKey(period, p.at, timeZone);
      if (seen.has(key)) continue;
      seen.add(key);
      mark(p.id, period);
    }
  }
  return { keep, forget: newestFirst.filter((p) => !keep.has(p.id)).map((p) => p.id) };
}
