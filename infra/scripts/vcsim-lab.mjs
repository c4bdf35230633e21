// The simulated vCenter of `npm start`: govmomi's vcsim with CBT (infra/vcsim, built binary
// infra/vcsim/bin/vcsimcbt), run as a child of start.mjs on a fixed loopback port, with its datastore
// under DATA_DIR/vcsim. See infra/vcsim/README.md for what the simulator does and its control endpoints.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { has, ROOT, run } from './bootstrap.mjs';

/** The simulator binary built by infra/vcsim/build.sh. */
export const VCSIM_BINARY = path.join(ROOT, 'infra/vcsim/bin/vcsimcbt');

/** The lab `npm start` runs: VMs DC0_H0_VM0..2 in datacenter DC0, each with two 256 MiB disks. */
export const LAB = { vms: 3, disks: 2, diskMb: 256 };

const READY_TIMEOUT_MS = 30_000;

/**
 * Makes sure the simulator can run: installs the Debian packages and builds vcsimcbt through
 * infra/scripts/ensure-system-deps.sh when the binary, Go or the qemu/nbdkit tools are missing
 * (apt, as root; a cold build takes about two minutes), otherwise lets infra/vcsim/build.sh
 * rebuild it if its sources changed (a no-op check of about 0.05 s when nothing did).
 */
export function ensureSimulatorBuilt(log) {
  const missing = [
    !existsSync(VCSIM_BINARY) && 'the vcsimcbt binary',
    !has('go') && 'Go',
    !has('qemu-img') && 'qemu-utils',
    !has('nbdkit') && 'nbdkit',
  ].filter(Boolean);
  if (missing.length > 0) {
    log(`missing ${missing.join(', ')}: running infra/scripts/ensure-system-deps.sh (apt-get and a Go build, about 2 minutes the first time)`);
    run('bash infra/scripts/ensure-system-deps.sh');
  } else {
    run('bash infra/vcsim/build.sh');
  }
}

/** Removes datastore folders a killed simulator left behind (a clean stop removes its own). */
function removeStaleDatastores(stateDir, log) {
  const stale = readdirSync(stateDir).filter((e) => e.startsWith('govcsim-'));
  for (const e of stale) rmSync(path.join(stateDir, e), { recursive: true, force: true });
  if (stale.length > 0) log(`removed ${stale.length} datastore folder(s) a previous simulator left in ${stateDir}`);
}

/**
 * Starts vcsimcbt on 127.0.0.1:`port` with the {@link LAB} inventory. Returns the child process at once
 * and `ready`, which resolves with its ready line ({url, sdk, user, password, datacenter}) or rejects
 * when it exits or stays silent for 30 s. The simulator keeps its disks in
 * `stateDir` (its TMPDIR) and deletes them when it stops: vcsim holds its inventory in memory, so
 * every start begins with fresh, empty disks. It runs in its own process group (Ctrl-C in the
 * terminal does not reach it: start.mjs stops it after the services) and exits by itself when
 * start.mjs dies (it watches its stdin).
 */
export function startSimulator({ port, stateDir, log }) {
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  removeStaleDatastores(stateDir, log);
  const args = ['-listen', `127.0.0.1:${port}`, '-vms', String(LAB.vms), '-disks', String(LAB.disks), '-disk-mb', String(LAB.diskMb), '-watch-stdin'];
  const child = spawn(VCSIM_BINARY, args, { env: { ...process.env, TMPDIR: stateDir }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`[vcsim] ${line}\n`));
  const ready = new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(new Error(`the vCenter simulator did not start on 127.0.0.1:${port} (${why}; its messages are above, marked [vcsim]). Free the port or set VCSIM_PORT; VCSIM=off runs the hub without it`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const onExit = (code, signal) => fail(`exited with ${signal ?? code}`);
    child.once('close', onExit); // after its stderr is read: its last words come first
    child.once('error', (err) => fail(err.message));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let ready;
      try {
        ready = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof ready?.url !== 'string') return;
      clearTimeout(timer);
      child.off('close', onExit);
      resolve(ready);
    });
  });
  return { child, ready };
}
