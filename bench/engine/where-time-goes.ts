// Where the time of a bench phase goes: SQL statements by shape (count, total and mean time, as seen
// by the client) and CPU seconds of this process, MariaDB and Redis. Printed with BENCH_PROFILE=1.
import { readFileSync, readdirSync } from 'node:fs';
import { DirectConnection, type Db } from '@vaultflow/db';

interface Shape {
  n: number;
  ms: number;
}

const shapeOf = (sql: string) =>
  sql
    .replace(/\(\s*\?(\s*,\s*\?)*\s*\)/g, '(?…)')
    .replace(/(WHEN \? THEN \? ?)+/gi, 'WHEN … ')
    .replace(/\s+/g, ' ')
    .slice(0, 110);

/** Times every statement of the given pools by shape until `stop()`. */
export function profileSql(dbs: Db[]) {
  const shapes = new Map<string, Shape>();
  const started = new Map<string, { at: number; shape: string }>();
  const onQuery = (q: { __knexQueryUid: string; sql: string }) => started.set(q.__knexQueryUid, { at: performance.now(), shape: shapeOf(q.sql) });
  const onDone = (_r: unknown, q: { __knexQueryUid: string }) => {
    const s = started.get(q.__knexQueryUid);
    if (!s) return;
    started.delete(q.__knexQueryUid);
    const e = shapes.get(s.shape) ?? { n: 0, ms: 0 };
    e.n += 1;
    e.ms += performance.now() - s.at;
    shapes.set(s.shape, e);
  };
  for (const db of dbs) {
    db.on('query', onQuery);
    db.on('query-response', onDone);
  }
  // Statements sent straight to the connection (the engine's hot paths) bypass Knex's events.
  const direct = DirectConnection.prototype.query;
  DirectConnection.prototype.query = async function (this: DirectConnection, sql: string, values?: unknown[]) {
    const at = performance.now();
    try {
      return await direct.call(this, sql, values);
    } finally {
      const shape = `direct: ${shapeOf(sql.replace(/^BEGIN NOT ATOMIC START TRANSACTION; /, 'TRIP '))}`;
      const e = shapes.get(shape) ?? { n: 0, ms: 0 };
      e.n += 1;
      e.ms += performance.now() - at;
      shapes.set(shape, e);
    }
  } as typeof direct;
  return {
    stop(): string {
      for (const db of dbs) {
        db.off('query', onQuery);
        db.off('query-response', onDone);
      }
      DirectConnection.prototype.query = direct;
      const rows = [...shapes].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
      return ['| statements | n | total ms | mean ms |', '|---|---|---|---|', ...rows.map(([k, v]) => `| ${k.replace(/\|/g, '/')} | ${v.n} | ${v.ms.toFixed(0)} | ${(v.ms / v.n).toFixed(2)} |`)].join('\n');
    },
  };
}

const TICK = 100; // clock ticks per second on Linux

function cpuOfProcess(name: string): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== name) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / TICK;
}

/** CPU seconds spent by this process, mariadbd and redis-server between start and `stop()`. */
export function profileCpu() {
  const t0 = performance.now();
  const me0 = process.cpuUsage();
  const db0 = cpuOfProcess('mariadbd');
  const redis0 = cpuOfProcess('redis-server');
  return {
    stop(): string {
      const wall = (performance.now() - t0) / 1000;
      const me = process.cpuUsage(me0);
      const rows: [string, number][] = [
        ['this process (node)', (me.user + me.system) / 1e6],
        ['mariadbd', cpuOfProcess('mariadbd') - db0],
        ['redis-server', cpuOfProcess('redis-server') - redis0],
      ];
      return ['| process | cpu s | of wall |', '|---|---|---|', ...rows.map(([k, s]) => `| ${k} | ${s.toFixed(2)} | ${((100 * s) / wall).toFixed(0)}% |`), `| wall | ${wall.toFixed(2)} | |`].join('\n');
    },
  };
}

/** A V8 CPU profile of this process until `stop()`, summarised by package (self time). */
export async function profileNode() {
  const { Session } = await import('node:inspector/promises');
  const s = new Session();
  s.connect();
  await s.post('Profiler.enable');
  await s.post('Profiler.setSamplingInterval', { interval: 200 });
  await s.post('Profiler.start');
  return {
    async stop(): Promise<string> {
      const { profile } = (await s.post('Profiler.stop')) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[] } };
      s.disconnect();
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const parent = new Map<number, number>();
      for (const n of profile.nodes as { id: number; children?: number[] }[]) for (const c of n.children ?? []) parent.set(c, n.id);
      /** Native frames (socket writes, GC) are charged to the nearest caller with a source file. */
      const ownerOf = (id: number): string => {
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
          const url = byId.get(cur)!.callFrame.url;
          if (!url || url.startsWith('node:')) continue;
          const m = /node_modules\/\.pnpm\/([^/]+)/.exec(url) ?? /\/((?:packages|services|tests|bench)\/[^/]+)/.exec(url);
          return m ? m[1]!.replace(/@\d.*$/, '') : url.slice(-40);
        }
        return '(no caller)';
      };
      const owners = new Map<string, number>();
      const self = new Map<string, number>();
      const pkg = new Map<string, number>();
      profile.samples.forEach((id, i) => {
        const n = byId.get(id)!;
        const dt = (profile.timeDeltas[i] ?? 0) / 1000;
        const url = n.callFrame.url;
        const m = /node_modules\/\.pnpm\/([^/]+)/.exec(url) ?? /\/(packages|services|tests|bench)\/([^/]+)/.exec(url);
        const where = m ? (m[2] && m[1] !== undefined && /packages|services|tests|bench/.test(m[1]) ? `${m[1]}/${m[2]}` : m[1]!.replace(/@\d.*$/, '')) : url.startsWith('node:') ? 'node internals' : url ? url.slice(-40) : `(${n.callFrame.functionName || 'native'})`;
        pkg.set(where, (pkg.get(where) ?? 0) + dt);
        if (!url || url.startsWith('node:')) {
          const o = `${n.callFrame.functionName || url || '(native)'} <- ${ownerOf(id)}`;
          owners.set(o, (owners.get(o) ?? 0) + dt);
        }
        const fn = `${n.callFrame.functionName || '(anon)'} ${url.split('/').slice(-1)[0]}:${n.callFrame.lineNumber}`;
        self.set(fn, (self.get(fn) ?? 0) + dt);
      });
      const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
      return [
        '| package | self ms |',
        '|---|---|',
        ...top(pkg, 15).map(([k, v]) => `| ${k} | ${v.toFixed(0)} |`),
        '',
        '| native or node frame <- first caller with a source | self ms |',
        '|---|---|',
        ...top(owners, 15).map(([k, v]) => `| ${k} | ${v.toFixed(0)} |`),
        '',
        '| function | self ms |',
        '|---|---|',
        ...top(self, 25).map(([k, v]) => `| ${k} | ${v.toFixed(0)} |`),
      ].join('\n');
    },
  };
}
