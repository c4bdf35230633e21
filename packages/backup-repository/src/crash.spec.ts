import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Repository } from './index.js';
import { Prng, restoreToBuffer, sha256 } from './testing/images.js';

const CHILD = fileURLToPath(new URL('./testing/crash-writer.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface RoundLog {
  expect: Map<string, [string, string]>;
  committed: Map<string, string>;
  deleting: Set<string>;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the writer and SIGKILLs it `killAfterMs` after it starts writing. */
function runAndKill(root: string, round: number, killAfterMs: number, log: RoundLog): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, '--conditions=source', CHILD, root, String(round)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const [kind, a, b, c] = out.slice(0, nl).split(' ');
        out = out.slice(nl + 1);
        if (kind === 'READY') timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        if (kind === 'EXPECT') log.expect.set(a!, [b!, c!]);
        if (kind === 'COMMITTED') log.committed.set(a!, b!);
        if (kind === 'DELETING') log.deleting.add(a!);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      log.stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      log.code = code;
      log.signal = signal;
      resolve();
    });
  });
}

describe('crash safety (writer SIGKILLed at random moments)', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vf-crash-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves the previous state or the complete new point: every listed point restores and verifies', async () => {
    const root = path.join(dir, 'repo');
    await Repository.init(root, { packSize: 4 * 1024 * 1024 });
    const prng = new Prng(`kills-${process.pid}-${Date.now()}`);
    const log: RoundLog = { expect: new Map(), committed: new Map(), deleting: new Set(), stderr: '', code: null, signal: null };
    const kills: number[] = [];
    let listedTotal = 0;
    for (let round = 0; round < 6; round++) {
      const delay = prng.int(2500);
      kills.push(delay);
      await runAndKill(root, round, delay, log);
      expect(log.signal, `round ${round} was killed, not ended by itself: ${log.stderr}`).to.equal('SIGKILL');

      const repo = await Repository.open(root);
      const listed = await repo.listPoints('vm-crash');
      const ids = new Set(listed.map((p) => p.id));
      for (const [seq, id] of log.committed) {
        if (!log.deleting.has(id)) expect(ids.has(id), `committed point ${seq} is listed`).to.equal(true);
      }
      for (const p of listed) {
        const want = log.expect.get(String(p.meta.seq));
        expect(want, `point ${p.id} has an expectation`).to.not.equal(undefined);
        expect(sha256(await restoreToBuffer(repo, p.id, '2000')), `point ${String(p.meta.seq)} disk 2000`).to.equal(want![0]);
        expect(sha256(await restoreToBuffer(repo, p.id, '2001')), `point ${String(p.meta.seq)} disk 2001`).to.equal(want![1]);
      }
      const report = await repo.verify();
      expect(report.damaged_points, `round ${round} (killed after ${delay} ms)`).to.deep.equal([]);
      expect(report.ok).to.equal(true);
      listedTotal += listed.length;
    }
    expect(log.committed.size, `points committed across rounds (kills at ${kills.join(', ')} ms)`).to.be.greaterThan(5);
    expect(listedTotal).to.be.greaterThan(5);

    // leftovers of the killed writers (temp packs, stale locks) do not block or survive a prune
    const repo = await Repository.open(root);
    await repo.prune();
    const tmp = (await Promise.all(['packs', 'index', 'points'].map((d) => readdir(path.join(root, d))))).flat().filter((n) => n.endsWith('.tmp'));
    expect(tmp).to.deep.equal([]);
    expect((await repo.verify()).ok).to.equal(true);
  });
});
