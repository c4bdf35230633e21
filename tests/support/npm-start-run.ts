// Runs `node infra/scripts/start.mjs` (what `npm start` runs) as a child process group and watches it:
// its output, the processes it starts (through /proc), and the ports of the hub.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const START_SCRIPT = path.join(ROOT, 'infra/scripts/start.mjs');

/** The ports of a hub started with PORT=`base`: flows-api, the two metrics ports and the vCenter simulator. */
export const hubPorts = (base: number): number[] => [base, base + 1, base + 2, base + 10];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A PORT whose hub ports are all free, below the kernel's ephemeral range (outgoing connections do not take it meanwhile). */
export async function freeBasePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const base = 20_000 + randomInt(12_000);
    const free = await Promise.all(hubPorts(base).map(canListen));
    if (free.every(Boolean)) return base;
  }
  throw new Error('found no free block of ports for the hub');
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

interface ProcInfo {
  ppid: number;
  state: string;
  /** Clock ticks after boot: with the pid, names one process even when the pid is reused later. */
  started: string;
}

function procStat(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name may hold spaces and parentheses
    return { state: rest[0]!, ppid: Number(rest[1]), started: rest[19]! };
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live process (a zombie has exited), and the one that started at `started` when given. */
function alive(pid: number, started?: string): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z' && (started === undefined || s.started === started);
}

/** A process start.mjs ran. */
export interface HubProcess {
  pid: number;
  started: string;
  cmd: string;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Every live descendant of `root`. */
function descendants(root: number): HubProcess[] {
  const children = new Map<number, { pid: number; started: string }[]>();
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    const s = Number.isInteger(pid) ? procStat(pid) : undefined;
    if (s && s.state !== 'Z') children.set(s.ppid, [...(children.get(s.ppid) ?? []), { pid, started: s.started }]);
  }
  const found: HubProcess[] = [];
  const todo = [...(children.get(root) ?? [])];
  while (todo.length > 0) {
    const p = todo.pop()!;
    found.push({ ...p, cmd: commandLine(p.pid) });
    todo.push(...(children.get(p.pid) ?? []));
  }
  return found;
}

/** One run of start.mjs in a process group of its own, stdout and stderr kept together. */
export class StartRun {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private out = '';
  private readonly seen = new Map<string, HubProcess>();

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [START_SCRIPT], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) stream.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get output(): string {
    return this.out;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 60): string {
    return this.out.split('\n').slice(-lines).join('\n');
  }

  /** Waits until the output matches `pattern`; throws at once when it matches `failure` or start.mjs ends. */
  async waitFor(pattern: RegExp, timeoutMs: number, what: string, failure?: RegExp): Promise<RegExpMatchArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = this.out.match(pattern);
      if (m) return m;
      const bad = failure && this.out.match(failure);
      if (bad) throw new Error(`npm start logged "${bad[0]}" while waiting for ${what}:\n${this.tail()}`);
      if (!this.running) throw new Error(`npm start exited (${this.child.signalCode ?? this.child.exitCode}) before ${what}:\n${this.tail()}`);
      if (Date.now() > end) throw new Error(`no ${what} within ${timeoutMs / 1000} s:\n${this.tail()}`);
      await sleep(250);
    }
  }

  /** Records the processes start.mjs runs now (services, simulator and theirs); returns every one recorded so far. */
  recordProcesses(): HubProcess[] {
    if (this.child.pid && this.running) for (const p of descendants(this.child.pid)) this.seen.set(`${p.pid}@${p.started}`, p);
    return [...this.seen.values()];
  }

  /** Recorded processes (and start.mjs itself) that still run. */
  leftovers(): string[] {
    const left = [...this.seen.values()].filter((p) => alive(p.pid, p.started)).map((p) => `${p.pid} ${p.cmd}`);
    if (this.running) left.push(`${this.child.pid} start.mjs`);
    return left;
  }

  /** Signals the whole process group (as Ctrl-C in a terminal does), or start.mjs alone. */
  signal(signal: NodeJS.Signals, { group }: { group: boolean }): void {
    process.kill(group ? -this.child.pid! : this.child.pid!, signal);
  }

  /** Kills whatever is left: the process group, then every recorded process still running (the simulator has a group of its own). */
  kill(): void {
    const attempt = (fn: () => void) => {
      try {
        fn();
      } catch {
        /* gone already */
      }
    };
    if (this.running) attempt(() => process.kill(-this.child.pid!, 'SIGKILL')); // while its leader lives, the group id is ours
    for (const p of this.seen.values()) if (alive(p.pid, p.started)) attempt(() => process.kill(p.pid, 'SIGKILL'));
  }
}
