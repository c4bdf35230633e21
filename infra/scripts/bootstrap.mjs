// Makes a checkout runnable: pnpm present, dependencies installed for the current lockfile.
// Used by `npm start` and `npm test`; cheap when nothing changed.
import { execSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PNPM_VERSION = '10.34.9';

function log(msg) {
  process.stderr.write(`[vaultflow] ${msg}\n`);
}

/** Whether `cmd` is on the PATH. */
export function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function run(cmd, opts = {}) {
  execSync(cmd, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, npm_config_nodedir: '/usr' }, ...opts });
}

export function ensurePnpm() {
  if (has('pnpm')) return;
  log(`pnpm not found: installing pnpm@${PNPM_VERSION} with npm`);
  run(`npm install -g pnpm@${PNPM_VERSION}`);
}

export function ensureDependencies() {
  const lock = path.join(ROOT, 'pnpm-lock.yaml');
  const stamp = path.join(ROOT, 'node_modules', '.vaultflow-install-stamp');
  const want = createHash('sha256')
    .update(readFileSync(lock))
    .update(readFileSync(path.join(ROOT, 'package.json')))
    .digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  log('installing dependencies (pnpm install --frozen-lockfile)');
  run('pnpm install --frozen-lockfile');
  writeFileSync(stamp, want);
}

export function bootstrap() {
  ensurePnpm();
  ensureDependencies();
}
