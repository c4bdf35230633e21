import { CronExpressionParser } from 'cron-parser';

/**
 * Cron rules, computed with the same parser (and the same call) BullMQ's job schedulers use, so a
 * preview here is the fire time the scheduler will produce.
 */

/** Returns undefined when `expr` is a valid 5-field (or 6-field, seconds first) cron, else why not. */
export function cronProblem(expr: string, timezone = 'UTC'): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got ${fields.length}`;
  }
  try {
    const it = CronExpressionParser.parse(expr, { currentDate: new Date(), tz: timezone, strict: false });
    it.next();
  } catch (err) {
    return `is not a valid cron expression: ${(err as Error).message}`;
  }
  return undefined;
}

/** True when `tz` names an IANA time zone the runtime knows (UTC included). */
export function isValidTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/.test(tz) || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The canonical name of `tz` as the runtime's IANA database resolves it: case is fixed and
 * links follow ICU (`europe/berlin` -> `Europe/Berlin`, `Etc/UTC` -> `UTC`), so one zone is stored
 * under one name. Returns undefined when `tz` is not a time zone (see isValidTimeZone).
 */
export function canonicalTimeZone(tz: string): string | undefined {
  if (!isValidTimeZone(tz)) return undefined;
  return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
}

/** The next `count` fire times strictly after `after`, in UTC instants. */
export function nextFires(expr: string, timezone: string, count: number, after: Date = new Date()): Date[] {
  const it = CronExpressionParser.parse(expr, { currentDate: after, tz: timezone });
  const out: Date[] = [];
  for (let i = 0; i < count; i++) {
    try {
      out.push(new Date(it.next().getTime()));
    } catch {
      break; // the expression has no further fire
    }
  }
  return out;
}

/** The next fire after `after`, or undefined when the expression never fires again. */
export function nextFire(expr: string, timezone: string, after: Date = new Date()): Date | undefined {
  return nextFires(expr, timezone, 1, after)[0];
}

/** Formats an instant as local wall-clock time in `timezone` with its offset, e.g. 2026-03-29T03:30:00+02:00. */
export function formatInZone(at: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const off = (parts.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}

/** Offset of `timezone` from UTC at instant `at`, in milliseconds (positive east of Greenwich). */
export function zoneOffsetMs(at: Date, timezone: string): number {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(at)
      .map((x) => [x.type, Number(x.value)]),
  ) as Record<string, number>;
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant of the last local midnight (start of "today") in `timezone`. */
export function startOfDay(now: Date, timezone: string): Date {
  const local = new Date(now.getTime() + zoneOffsetMs(now, timezone));
  const midnightLocal = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  // The offset at midnight may differ from now's (DST): correct once with the offset at the guess.
  let guess = midnightLocal - zoneOffsetMs(now, timezone);
  guess = midnightLocal - zoneOffsetMs(new Date(guess), timezone);
  return new Date(guess);
}

/**
 * The schedule's period: the gap between its next two fires after `after`, in milliseconds. For
 * irregular expressions (e.g. "0 2 * * 1,4") it is the gap that comes next. Undefined when the
 * expression fires fewer than two more times.
 */
export function schedulePeriodMs(expr: string, timezone: string, after: Date = new Date()): number | undefined {
  const [a, b] = nextFires(expr, timezone, 2, after);
  return a && b ? b.getTime() - a.getTime() : undefined;
}
