import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const GUI_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../services/gui');
const INPUTS = ['src', 'index.html', 'vite.config.ts', 'package.json', 'public'];
const SCHEMAS = path.resolve(GUI_ROOT, '../../packages/schemas/src');

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

/**
 * Makes sure services/gui/dist (what flows-api serves) is built from the current sources: runs
 * `vite build` when index.html is missing or older than any input. Throws when the build fails.
 */
export function ensureGuiBuilt(): void {
  const index = path.join(GUI_ROOT, 'dist', 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const inputs = Math.max(...INPUTS.map((i) => newest(path.join(GUI_ROOT, i))), newest(SCHEMAS));
  if (built > inputs) return;
  const r = spawnSync(path.join(GUI_ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: GUI_ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`vite build of services/gui failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}
