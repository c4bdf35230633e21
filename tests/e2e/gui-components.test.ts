import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GUI_ROOT } from './support/gui-build.js';

// The console's component tests (forms, tables, validation messages) run in vitest with happy-dom
// inside services/gui. This file runs them once while mocha loads it and turns each vitest test
// into a mocha test, so `npm test` counts them one by one and a failure shows its own message.

interface VitestReport {
  success: boolean;
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { ancestorTitles: string[]; title: string; status: string; failureMessages: string[] }[];
  }[];
}

function runVitest(): { report?: VitestReport; problem?: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vf-vitest-'));
  const out = path.join(dir, 'report.json');
  try {
    const r = spawnSync(path.join(GUI_ROOT, 'node_modules', '.bin', 'vitest'), ['run', '--reporter=json', `--outputFile=${out}`], {
      cwd: GUI_ROOT,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, NODE_OPTIONS: '' }, // not mocha's tsx loader: vitest compiles on its own
    });
    try {
      return { report: JSON.parse(readFileSync(out, 'utf8')) as VitestReport };
    } catch {
      return { problem: `vitest did not report (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`.slice(0, 8000) };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { report, problem } = runVitest();

describe('web console components (vitest, happy-dom)', () => {
  if (!report) {
    it('runs the component tests', () => {
      throw new Error(problem);
    });
    return;
  }
  it('found the component tests (at least 40)', () => {
    const n = report.testResults.reduce((s, f) => s + f.assertionResults.length, 0);
    if (n < 40) throw new Error(`only ${n} component tests ran`);
  });
  for (const file of report.testResults) {
    const rel = path.relative(GUI_ROOT, file.name);
    describe(rel, () => {
      if (file.status === 'failed' && file.assertionResults.length === 0) {
        it('loads', () => {
          throw new Error(file.message ?? 'the test file failed to load');
        });
      }
      for (const t of file.assertionResults) {
        it([...t.ancestorTitles, t.title].join(' › '), function () {
          if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo') throw new Error(`vitest ${t.status} this test: nothing may be skipped`);
          if (t.status !== 'passed') throw new Error(t.failureMessages.join('\n') || `status ${t.status}`);
        });
      }
    });
  }
});
