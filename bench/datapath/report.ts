// The figures of bench:datapath per tool, our ratios to the peers, and the targets.
import type { Tool } from './peers.js';
import { round } from './measure.js';

export interface StepFigures {
  wall_s: number;
  cpu_s: number;
  user_s: number;
  sys_s: number;
  peak_rss_mb: number;
}

export interface ToolFigures {
  full_s: number;
  incremental_s: number;
  restore_s: number;
  /** user + sys of all three steps. */
  cpu_s: number;
  /** Largest of the three steps. */
  peak_rss_mb: number;
  repo_bytes_full: number;
  /** Growth of the repository by the incremental. */
  repo_bytes_incremental: number;
  restore_sha256_ok: boolean;
  steps: { full: StepFigures; incremental: StepFigures; restore: StepFigures };
  /** Ours only: what each step reported (phase times, writer stats, transfer counters, memory). */
  engine?: Record<string, unknown>;
}

export interface Target {
  name: string;
  measure: keyof ToolFigures;
  peer: Tool;
  /** Our figure must be <= max_ratio x the peer's. */
  max_ratio: number;
  ratio?: number;
  met?: boolean;
}

export const TARGETS: Target[] = [
  { name: 'full time <= 0.25x restic', measure: 'full_s', peer: 'restic', max_ratio: 0.25 },
  { name: 'full time <= 0.5x borg', measure: 'full_s', peer: 'borg', max_ratio: 0.5 },
  { name: 'incremental time <= 0.1x restic', measure: 'incremental_s', peer: 'restic', max_ratio: 0.1 },
  { name: 'restore time <= 0.5x restic', measure: 'restore_s', peer: 'restic', max_ratio: 0.5 },
  { name: 'incremental repository growth <= restic', measure: 'repo_bytes_incremental', peer: 'restic', max_ratio: 1 },
  { name: 'peak memory <= restic', measure: 'peak_rss_mb', peer: 'restic', max_ratio: 1 },
];

/** Our ratio to a peer for each measure (undefined when the peer did not run). */
export function ratios(results: Partial<Record<Tool, ToolFigures>>, peer: Tool): Record<string, number> | undefined {
  const ours = results.vaultflow;
  const theirs = results[peer];
  if (!ours || !theirs) return undefined;
  const keys = ['full_s', 'incremental_s', 'restore_s', 'cpu_s', 'peak_rss_mb', 'repo_bytes_full', 'repo_bytes_incremental'] as const;
  return Object.fromEntries(keys.map((k) => [k, theirs[k] > 0 ? round(ours[k] / theirs[k], 3) : NaN]));
}

export function evaluateTargets(results: Partial<Record<Tool, ToolFigures>>): Target[] {
  return TARGETS.map((t) => {
    const ours = results.vaultflow?.[t.measure];
    const theirs = results[t.peer]?.[t.measure];
    if (typeof ours !== 'number' || typeof theirs !== 'number' || theirs <= 0) return { ...t };
    const ratio = round(ours / theirs, 3);
    return { ...t, ratio, met: ratio <= t.max_ratio };
  });
}

const MB = 1e6;

/** The results as a text table, with our ratios to each peer, then the targets. */
export function table(results: Partial<Record<Tool, ToolFigures>>, targets: Target[]): string {
  const tools = (['vaultflow', 'restic', 'borg'] as const).filter((t) => results[t]);
  const peers = tools.filter((t) => t !== 'vaultflow' && results.vaultflow);
  const rows: Array<[string, (f: ToolFigures) => number, string]> = [
    ['full_s', (f) => f.full_s, 's'],
    ['incremental_s', (f) => f.incremental_s, 's'],
    ['restore_s', (f) => f.restore_s, 's'],
    ['cpu_s (3 steps)', (f) => f.cpu_s, 's'],
    ['  cpu full/incr/restore', (f) => NaN, ''],
    ['peak_rss_mb', (f) => f.peak_rss_mb, 'MB'],
    ['repo_bytes_full (MB)', (f) => f.repo_bytes_full / MB, 'MB'],
    ['repo_bytes_incremental (MB)', (f) => f.repo_bytes_incremental / MB, 'MB'],
  ];
  const head = ['', ...tools, ...peers.map((p) => `ours/${p}`)];
  const lines = [head];
  for (const [label, get] of rows) {
    if (label.startsWith('  cpu')) {
      lines.push([label, ...tools.map((t) => { const s = results[t]!.steps; return `${s.full.cpu_s}/${s.incremental.cpu_s}/${s.restore.cpu_s}`; }), ...peers.map(() => '')]);
      continue;
    }
    const v = tools.map((t) => get(results[t]!));
    const ours = get(results.vaultflow!);
    lines.push([label, ...v.map((x) => fmt(x)), ...peers.map((p) => fmt(ours / get(results[p]!), 3))]);
  }
  lines.push(['restore sha256 == image', ...tools.map((t) => (results[t]!.restore_sha256_ok ? 'yes' : 'NO')), ...peers.map(() => '')]);
  const widths = head.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const text = lines.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
  const tgt = targets.map((t) => `  ${t.met === undefined ? 'n/a   ' : t.met ? 'MET   ' : 'MISSED'}  ${t.name.padEnd(42)} ratio ${t.ratio ?? '-'}`).join('\n');
  return `${text}\n\nTargets (ratios in this run):\n${tgt}`;
}

function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '-';
  return x >= 1000 ? String(Math.round(x)) : x.toFixed(digits);
}

/**
 * One figure set per tool over several rounds: the median of each measure (restore_sha256_ok only when
 * every round restored correctly); the per-step details are those of the last round.
 */
export function medianOfRounds(rounds: ReadonlyArray<Partial<Record<Tool, ToolFigures>>>): Partial<Record<Tool, ToolFigures>> {
  const out: Partial<Record<Tool, ToolFigures>> = {};
  const last = rounds[rounds.length - 1] ?? {};
  for (const tool of Object.keys(last) as Tool[]) {
    const all = rounds.map((r) => r[tool]).filter((f): f is ToolFigures => f !== undefined);
    const med = (k: keyof ToolFigures): number => median(all.map((f) => f[k] as number));
    out[tool] = {
      ...last[tool]!,
      full_s: med('full_s'), incremental_s: med('incremental_s'), restore_s: med('restore_s'), cpu_s: med('cpu_s'),
      peak_rss_mb: med('peak_rss_mb'), repo_bytes_full: med('repo_bytes_full'), repo_bytes_incremental: med('repo_bytes_incremental'),
      restore_sha256_ok: all.every((f) => f.restore_sha256_ok),
    };
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : round((s[mid - 1]! + s[mid]!) / 2, 3);
}

