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

const INSTALL_STAMP = path.join(ROOT, 'node_modules', '.vaultflow-install-stamp');

/** The digest of pnpm-lock.yaml and package.json that an install is recorded for. */
function installDigest() {
  return createHash('sha256')
    .update(readFileSync(path.join(ROOT, 'pnpm-lock.yaml')))
    .update(readFileSync(path.join(ROOT, 'package.json')))
    .digest('hex');
}

/** Whether node_modules is installed for the current lockfile (so {@link ensureDependencies} does nothing). */
export function dependenciesInstalled() {
  return existsSync(INSTALL_STAMP) && readFileSync(INSTALL_STAMP, 'utf8') === installDigest();
}

export function ensureDependencies() {
  if (dependenciesInstalled()) return;
  const want = installDigest();
  log('installing dependencies (pnpm install --frozen-lockfile)');
  run('pnpm install --frozen-lockfile');
  writeFileSync(INSTALL_STAMP, want);
}

export function bootstrap() {
  ensurePnpm();
  ensureDependencies();
}
