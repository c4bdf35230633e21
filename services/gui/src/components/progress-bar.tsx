/** A labelled progress bar; `percent` null means unknown (an indeterminate bar). */
export function ProgressBar({ percent, label }: { percent: number | null | undefined; label: string }) {
  const known = percent !== null && percent !== undefined && Number.isFinite(percent);
  const value = known ? Math.max(0, Math.min(100, percent)) : undefined;
  return (
    <div
      className={`progress${known ? '' : ' progress-unknown'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value === undefined ? undefined : Math.round(value)}
      aria-valuetext={value === undefined ? 'starting' : `${Math.round(value)}%`}
    >
      <div className="progress-fill" style={{ width: `${value ?? 100}%` }} />
      <span className="progress-text">{value === undefined ? '…' : `${Math.round(value)}%`}</span>
    </div>
  );
}
