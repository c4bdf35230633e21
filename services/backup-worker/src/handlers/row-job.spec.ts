import { expect } from 'chai';
import { RepositoryError } from '@vaultflow/backup-repository';
import { TransientError } from '@vaultflow/errors';
import { runRowJob, type JobProgress, type JobRows } from './row-job.js';

/** Rows in memory: what the lifecycle did to them. */
function fakeRows(takeable = true) {
  const calls: string[] = [];
  const progress: JobProgress[] = [];
  const rows: JobRows = {
    take: async (id, worker) => (calls.push(`take ${id} ${worker}`), takeable),
    progress: async (_id, p) => void progress.push(p),
    backToQueue: async (id, error) => void calls.push(`queue ${id}: ${error}`),
    fail: async (id, error) => void calls.push(`fail ${id}: ${error}`),
  };
  return { rows, calls, progress };
}

const opts = (attempt: number) => ({ workerId: 'w1', attempt, maxAttempts: 3, checkEveryMs: 10 });

describe('runRowJob', () => {
  it('drops the job when its row has ended, without running the work', async () => {
    const f = fakeRows(false);
    let ran = false;
    const out = await runRowJob(f.rows, 'b1', opts(1), async () => {
      ran = true;
    });
    expect(out).to.deep.equal({ state: 'dropped', reason: 'the row has ended' });
    expect(ran).to.equal(false);
  });

  it('runs the work, saves its latest progress every few milliseconds and reports it', async () => {
    const f = fakeRows();
    const reported: JobProgress[] = [];
    const out = await runRowJob(f.rows, 'b1', { ...opts(1), onProgress: (p) => reported.push(p) }, async (progress) => {
      progress({ phase: 'transfer', disk: 2000, bytes_done: 1, bytes_total: 10 });
      await new Promise((r) => setTimeout(r, 40));
      progress({ phase: 'transfer', disk: 2000, bytes_done: 10, bytes_total: 10 });
      await new Promise((r) => setTimeout(r, 40));
    });
    expect(out).to.deep.equal({ state: 'done' });
    expect(f.calls).to.deep.equal(['take b1 w1']);
    expect(f.progress.map((p) => p.bytes_done)).to.deep.equal([1, 10]); // each value once
    expect(reported).to.deep.equal(f.progress);
  });

  it('queues the row again after a transient failure while attempts remain, and fails it on the last one', async () => {
    for (const err of [new TransientError('connection reset'), new RepositoryError('LOCKED', 'a prune holds the repository')]) {
      const f = fakeRows();
      const out = await runRowJob(f.rows, 'b1', opts(2), async () => {
        throw err;
      });
      expect(out).to.deep.equal({ state: 'retry', error: err });
      expect(f.calls[1]).to.equal(`queue b1: attempt 2 of 3 failed, will retry: ${err.message}`);
    }
    const last = fakeRows();
    expect(await runRowJob(last.rows, 'b1', opts(3), async () => {
      throw new TransientError('connection reset');
    })).to.deep.equal({ state: 'failed', error: 'connection reset' });
    expect(last.calls[1]).to.equal('fail b1: connection reset');
  });

  it('fails the row at once on a permanent error', async () => {
    const f = fakeRows();
    const out = await runRowJob(f.rows, 'b1', opts(1), async () => {
      throw new Error('Repository "R" has 1 MiB free');
    });
    expect(out).to.deep.equal({ state: 'failed', error: 'Repository "R" has 1 MiB free' });
    expect(f.calls).to.deep.equal(['take b1 w1', 'fail b1: Repository "R" has 1 MiB free']);
  });
});
