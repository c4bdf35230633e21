/** What a Range header asks of a resource of `size` bytes. */
export type RangeAsk =
  | { kind: 'all' }
  /** Bytes [start, end], both included. */
  | { kind: 'range'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/**
 * Reads an HTTP Range header (RFC 9110 §14) for one range of bytes: `bytes=a-b`, `bytes=a-` and
 * `bytes=-n`. A missing, malformed or multi-range header is ignored (the whole resource is sent, as
 * the RFC allows); a range that starts at or after the end, or a zero suffix, is unsatisfiable. Pure.
 */
export function parseRange(header: string | undefined, size: number): RangeAsk {
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header ?? '');
  if (!m) return { kind: 'all' };
  const specs = m[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  if (specs.length !== 1) return { kind: 'all' };
  const spec = specs[0]!;
  const suffix = /^-(\d+)$/.exec(spec);
  if (suffix) {
    const n = Number(suffix[1]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const span = /^(\d+)-(\d*)$/.exec(spec);
  if (!span) return { kind: 'all' };
  const start = Number(span[1]);
  const last = span[2] === '' ? Infinity : Number(span[2]);
  if (last < start) return { kind: 'all' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(last, size - 1) };
}
