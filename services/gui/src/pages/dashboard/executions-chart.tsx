import { OUTCOMES, type Bucket, type Outcome } from './execution-buckets.js';

const COLORS: Record<Outcome, string> = { success: 'var(--ok)', warning: 'var(--warn)', error: 'var(--bad)', cancelled: 'var(--idle)', running: 'var(--live)' };
const LABELS: Record<Outcome, string> = { success: 'Succeeded', warning: 'Warnings', error: 'Failed', cancelled: 'Cancelled', running: 'Running' };

/** Executions per bucket as stacked bars (an SVG), with the same numbers in a table for screen readers. */
export function ExecutionsChart({ buckets, title }: { buckets: Bucket[]; title: string }) {
  const W = 720;
  const H = 180;
  const pad = { l: 28, r: 8, t: 8, b: 24 };
  const totals = buckets.map((b) => OUTCOMES.reduce((s, o) => s + b.counts[o], 0));
  const max = Math.max(1, ...totals);
  const step = (W - pad.l - pad.r) / buckets.length;
  const bar = Math.max(4, step * 0.7);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const sum = totals.reduce((a, b) => a + b, 0);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${sum} executions`}>
        {[...new Set([0, Math.round(max / 2), max])].map((v) => (
          <g key={v}>
            <line x1={pad.l} x2={W - pad.r} y1={y(v)} y2={y(v)} className="chart-grid" />
            <text x={pad.l - 4} y={y(v) + 4} textAnchor="end" className="chart-axis">
              {v}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => {
          let acc = 0;
          const x = pad.l + i * step + (step - bar) / 2;
          return (
            <g key={b.start.toISOString()}>
              <title>{`${b.label}: ${OUTCOMES.filter((o) => b.counts[o]).map((o) => `${b.counts[o]} ${LABELS[o].toLowerCase()}`).join(', ') || 'none'}`}</title>
              {OUTCOMES.map((o) => {
                const v = b.counts[o];
                if (!v) return null;
                const top = y(acc + v);
                const rect = <rect key={o} x={x} width={bar} y={top} height={y(acc) - top} fill={COLORS[o]} />;
                acc += v;
                return rect;
              })}
              {(buckets.length <= 12 || i % 3 === 0) && (
                <text x={x + bar / 2} y={H - 6} textAnchor="middle" className="chart-axis">
                  {b.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {OUTCOMES.map((o) => (
          <span key={o}>
            <span className="legend-dot" style={{ background: COLORS[o] }} aria-hidden="true" /> {LABELS[o]}
          </span>
        ))}
      </figcaption>
      <div className="sr-only">
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th>Period</th>
            {OUTCOMES.map((o) => <th key={o}>{LABELS[o]}</th>)}
          </tr>
        </thead>
        <tbody>
          {buckets.map((b) => (
            <tr key={b.start.toISOString()}>
              <th>{b.label}</th>
              {OUTCOMES.map((o) => <td key={o}>{b.counts[o]}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}
