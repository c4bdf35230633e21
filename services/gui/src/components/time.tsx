import { formatLocal, formatUtc } from '../format/format.js';

/** An instant in the user's time zone; hovering shows it in UTC. `empty` is shown for null. */
export function Time({ value, empty = '—', seconds = false }: { value: string | null | undefined; empty?: string; seconds?: boolean }) {
  if (!value) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={value} title={formatUtc(value)}>
      {formatLocal(value, seconds)}
    </time>
  );
}
