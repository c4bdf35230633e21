const LABELS: Record<string, string> = {
  success: 'Success',
  warning: 'Warning',
  error: 'Failed',
  failed: 'Failed',
  running: 'Running',
  pending: 'Pending',
  queued: 'Queued',
  waiting: 'Waiting',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
  never: 'Never run',
};

const TONES: Record<string, string> = {
  success: 'ok',
  warning: 'warn',
  error: 'bad',
  failed: 'bad',
  running: 'live',
  pending: 'live',
  queued: 'live',
  waiting: 'idle',
  skipped: 'idle',
  cancelled: 'idle',
  never: 'idle',
};

/** A status word with a colour; the word itself carries the meaning (not only the colour). */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge badge-${TONES[status] ?? 'idle'}`}>{label ?? LABELS[status] ?? status}</span>;
}
