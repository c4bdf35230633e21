/** Every snapshot this product makes starts with this, so orphans can be found and removed. */
export const SNAPSHOT_PREFIX = 'vaultflow-';

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `20260131T235959Z` for a date (UTC, seconds). */
function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The name of a backup snapshot: `vaultflow-<executionId>-<UTC timestamp>`, e.g.
 * `vaultflow-42-20260131T235959Z`. The id may hold letters, digits, `.`, `_` and `-`.
 */
export function snapshotName(executionId: string | number, at: Date = new Date()): string {
  const id = String(executionId);
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new RangeError(`execution id ${JSON.stringify(id)} is not usable in a snapshot name`);
  return `${SNAPSHOT_PREFIX}${id}-${stamp(at)}`;
}

/** Reads a name made by {@link snapshotName}; undefined for any other name. */
export function parseSnapshotName(name: string): { executionId: string; takenAt: Date } | undefined {
  if (!name.startsWith(SNAPSHOT_PREFIX)) return undefined;
  const rest = name.slice(SNAPSHOT_PREFIX.length);
  const dash = rest.lastIndexOf('-');
  const m = STAMP.exec(rest.slice(dash + 1));
  const executionId = rest.slice(0, dash);
  if (dash <= 0 || !m || !/^[A-Za-z0-9._-]+$/.test(executionId)) return undefined;
  const takenAt = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(takenAt.getTime()) ? undefined : { executionId, takenAt };
}
