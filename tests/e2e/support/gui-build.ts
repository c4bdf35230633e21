import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const GUI_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../services/gui');
/**
 * Makes sure services/gui/dist (what flows-api serves) is built from the current sources: runs the
 * console's own build script, which rebuilds only when an input is newer than dist/. Throws when
 * the build fails.
 */
export function ensureGuiBuilt(): void {
  const r = spawnSync(process.execPath, [path.join(GUI_ROOT, 'scripts', 'build.mjs')], { cwd: GUI_ROOT, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`build of services/gui failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}
