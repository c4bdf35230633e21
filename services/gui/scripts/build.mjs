// `pnpm run build` of the web console: type-check and `vite build`, skipped when dist/ is newer than
// every input (the console's sources and the workspace packages it imports), so `npm start` and the
// tests do not pay ~30-60 s for an unchanged console. `--force` rebuilds regardless.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INPUTS = ['src', 'index.html', 'vite.config.ts', 'tsconfig.json', 'package.json', 'public', '../../packages/schemas/src', '../../packages/domain/src'];

function newest(p) {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

/** True when dist/index.html is newer than every input. */
export function guiIsCurrent() {
  const index = path.join(ROOT, 'dist', 'index.html');
  if (!existsSync(index)) return false;
  return statSync(index).mtimeMs > Math.max(...INPUTS.map((i) => newest(path.join(ROOT, i))));
}

function run(bin, args) {
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', bin), args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--force') && guiIsCurrent()) {
    process.stdout.write('web console is up to date (services/gui/dist)\n');
  } else {
    run('tsc', ['-p', 'tsconfig.json', '--noEmit']);
    run('vite', ['build', '--logLevel', 'warn']);
  }
}
