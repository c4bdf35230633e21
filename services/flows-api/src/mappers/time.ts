/** ISO 8601 UTC, or null. */
export function iso(d: Date | string | null | undefined): string | null {
  if (d === null || d === undefined) return null;
  return new Date(d).toISOString();
}

/** ISO 8601 UTC of a column that is never null. */
export function isoNN(d: Date | string): string {
  return new Date(d).toISOString();
}
