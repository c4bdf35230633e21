// What the simulated guests of `npm start` hold and do: at every simulator start their disks get the
// same data (partly random, partly compressible text, mostly zeros, like a real VM disk), written
// through the simulator's guest-write endpoint (POST /harness/write), and while the hub runs each guest
// keeps changing a few blocks, so scheduled incremental backups have real changes to carry.
import { createCipheriv, createHash, randomBytes, randomInt } from 'node:crypto';

const MiB = 1024 * 1024;
const WRITE_BYTES = 4 * MiB;
const BLOCK = 64 * 1024;

/**
 * The data runs of disk `disk` (0-based, by device key) of the `vm`-th VM, in MiB: random runs stand
 * for binaries and media, text runs for logs and documents; everything else stays zero (never
 * allocated). About 64 to 88 MiB per VM.
 */
function layout(vm, disk) {
  return disk === 0
    ? [{ kind: 'random', at: 0, mb: 24 + 4 * vm }, { kind: 'text', at: 32, mb: 16 }, { kind: 'random', at: 192, mb: 4 }]
    : [{ kind: 'random', at: 64, mb: 16 + 8 * vm }, { kind: 'text', at: 160, mb: 4 }];
}

/** A deterministic stream of random-looking bytes per (VM, disk, run), so every start writes the same data. */
function randomStream(seed) {
  const key = createHash('sha256').update(`vaultflow-lab/${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return (n) => cipher.update(Buffer.alloc(n));
}

/** A deterministic stream of log-like text lines. */
function textStream(vmName) {
  let line = 0;
  let pending = Buffer.alloc(0);
  const services = ['sshd', 'cron', 'nginx', 'postgres', 'systemd', 'kernel'];
  return (n) => {
    const parts = [pending];
    let have = pending.length;
    while (have < n) {
      const s = `2025-01-${String(1 + (line % 28)).padStart(2, '0')}T${String(line % 24).padStart(2, '0')}:${String(line % 60).padStart(2, '0')}:00Z ${vmName} ${services[line % services.length]}[${1000 + (line % 977)}]: request ${line} handled in ${line % 97} ms, status ${line % 7 === 0 ? 500 : 200}\n`;
      const b = Buffer.from(s);
      parts.push(b);
      have += b.length;
      line++;
    }
    const all = Buffer.concat(parts);
    pending = all.subarray(n);
    return all.subarray(0, n);
  };
}

async function guestWrite(url, vm, key, offset, data) {
  const q = new URLSearchParams({ vm, key: String(key), offset: String(offset) });
  const res = await fetch(`${url}/harness/write?${q}`, { method: 'POST', body: data });
  if (res.status !== 204) throw new Error(`guest write into ${vm}/${key} at ${offset}: HTTP ${res.status} ${(await res.text()).trim()}`);
}

/** The simulator's inventory: VMs sorted by name, disks by key (GET /harness/info). */
export async function labInventory(url) {
  const res = await fetch(`${url}/harness/info`);
  if (!res.ok) throw new Error(`vCenter simulator /harness/info: HTTP ${res.status}`);
  return (await res.json()).vms;
}

/** Writes the guest data of every simulated VM (in parallel per VM). Resolves with the bytes written. */
export async function seedGuestDisks(url) {
  const vms = await labInventory(url);
  const perVm = await Promise.all(
    vms.map(async (vm, i) => {
      let written = 0;
      for (const [d, disk] of vm.disks.entries()) {
        for (const [r, run] of layout(i, d).entries()) {
          const start = run.at * MiB;
          const end = Math.min(disk.capacityInBytes, start + run.mb * MiB);
          const next = run.kind === 'random' ? randomStream(`${vm.name}/${d}/${r}`) : textStream(vm.name);
          for (let off = start; off < end; off += WRITE_BYTES) {
            const data = next(Math.min(WRITE_BYTES, end - off));
            await guestWrite(url, vm.ref, disk.key, off, data);
            written += data.length;
          }
        }
      }
      return written;
    }),
  );
  return { vms: vms.length, bytes: perVm.reduce((a, b) => a + b, 0) };
}

/**
 * Every `everyMs`, each simulated guest writes `blocks` random 64 KiB blocks at random places of
 * its disks. Failures are reported once through `log` (the simulator may be stopping). Returns
 * `{ tick, stop }`: `tick()` makes the guests write now, `stop()` ends the activity.
 */
export function startGuestActivity(url, log, { everyMs = 60_000, blocks = 4 } = {}) {
  let reported = false;
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      for (const vm of await labInventory(url)) {
        for (let b = 0; b < blocks; b++) {
          const disk = vm.disks[randomInt(vm.disks.length)];
          const offset = randomInt(Math.floor(disk.capacityInBytes / BLOCK)) * BLOCK;
          await guestWrite(url, vm.ref, disk.key, offset, randomBytes(BLOCK));
        }
      }
    } catch (err) {
      if (!reported) log(`simulated guest activity failed: ${err.message}`);
      reported = true;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return {
    tick,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
