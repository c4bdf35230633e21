const SIZES = [10, 25, 50, 100];

/** "1–25 of 80" with Previous / Next and a page size. */
export function Pager({ total, limit, offset, onChange }: { total: number; limit: number; offset: number; onChange: (p: { limit: number; offset: number }) => void }) {
  if (total === 0) return null;
  const from = Math.min(total, offset + 1);
  const to = Math.min(total, offset + limit);
  return (
    <nav className="pager" aria-label="Pages">
      <span aria-live="polite">
        {from}–{to} of {total}
      </span>
      <button type="button" className="btn btn-small" disabled={offset === 0} onClick={() => onChange({ limit, offset: Math.max(0, offset - limit) })}>
        Previous
      </button>
      <button type="button" className="btn btn-small" disabled={to >= total} onClick={() => onChange({ limit, offset: offset + limit })}>
        Next
      </button>
      <label className="pager-size">
        Rows per page{' '}
        <select value={limit} onChange={(e) => onChange({ limit: Number(e.target.value), offset: 0 })}>
          {SIZES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
    </nav>
  );
}
