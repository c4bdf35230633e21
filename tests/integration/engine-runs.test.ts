import { expect } from 'chai';
import { startEngineHub, type EngineHub } from '../support/engine-hub.js';
import { makeBackupFlow, makeGroup, makeRepository, makeVm } from '../support/fixtures.js';
import { unique } from '../support/hub.js';

const P = '/api/v1/protection-flows';

/** Largest number of intervals [start, end) open at one instant. */
function maxOverlap(rows: { started_at: string; completed_at: string }[]): number {
  const ev = rows.flatMap((r) => [[Date.parse(r.started_at), 1], [Date.parse(r.completed_at), -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of ev) max = Math.max(max, (cur += d));
  return max;
}

async function groupFlow(hub: EngineHub, vmNames: string[], limit: number, extra: Record<string, unknown> = {}) {
  const vms: string[] = [];
  for (const n of vmNames) vms.push(await makeVm(hub, { vm_name: `${n}-${unique('x').replace(/\W/g, '')}` }));
  const group = await makeGroup(hub, vms);
  await hub.admin.put(`/api/v1/machine-groups/${group}`, { max_concurrent_vms: limit });
  const repo = await makeRepository(hub);
  const flow = (await hub.admin.post(P, { name: unique('engine'), flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id, ...extra })).body;
  return { flow, vms, group };
}

describe('engine: manual runs, fan-out, concurrency and statistics', function () {
  this.timeout(60_000);
  let hub: EngineHub;
  before(async () => {
    hub = await startEngineHub({ concurrency: 20, defaults: { delayMs: 150, bytes: 4 << 20 }, behaviours: [['slow', { delayMs: 400 }], ['bad', { fail: true }], ['flaky', { transientFailures: 1 }], ['long', { delayMs: 30_000 }]] });
  });
  after(async () => hub?.stopAll());

  it('runs a group flow to success with exact counters, job ids, flow statistics, progress and logs', async () => {
    const { flow } = await groupFlow(hub, ['a', 'b', 'c'], 5);
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    const done = await hub.waitForExecution(flow.id, exec.id);
    expect(done).to.include({ status: 'success', jobs_created: 3, jobs_completed: 3, jobs_failed: 0, jobs_skipped: 0, vms_processed: 3, bytes_transferred: 3 * (4 << 20), error_message: null });
    expect(done.created_job_ids).to.have.length(3);
    expect(done.started_at).to.be.a('string');
    expect(done.completed_at).to.be.a('string');
    expect(done.execution_time_seconds).to.be.a('number').and.at.least(0);
    expect(done.progress).to.include({ vms_total: 3, vms_done: 3, percent: 100 });
    expect(done.vms.every((v: { status: string; attempts: number }) => v.status === 'success' && v.attempts === 1)).to.equal(true);
    const f = (await hub.admin.get(`${P}/${flow.id}`)).body;
    expect(f.status).to.include({ last_execution_id: exec.id, last_execution_status: 'success', total_executions: 1, successful_executions: 1, failed_executions: 0 });
    const logs = await hub.logsUntil(flow.id, exec.id, 'finish');
    const steps = logs.map((l: { step: string }) => l.step);
    expect(steps).to.include.members(['fan-out', 'vm-start', 'vm-result', 'finish']);
    expect(logs.filter((l: { step: string }) => l.step === 'vm-result')).to.have.length(3);
  });

  it('never runs more than max_concurrent_vms of a group at once (from the VM rows\' timestamps)', async () => {
    const { flow } = await groupFlow(hub, ['slow1', 'slow2', 'slow3', 'slow4', 'slow5', 'slow6'], 2);
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    const done = await hub.waitForExecution(flow.id, exec.id);
    expect(done.status).to.equal('success');
    const overlap = maxOverlap(done.vms);
    expect(overlap).to.equal(2);
  });

  it('backs up a VM that is in two running flows only once at a time', async () => {
    const shared = await makeVm(hub, { vm_name: `slow-shared-${unique('s').replace(/\W/g, '')}` });
    const repo = await makeRepository(hub);
    const g1 = await makeGroup(hub, [shared]);
    const g2 = await makeGroup(hub, [shared]);
    const f1 = (await hub.admin.post(P, { name: unique('dup1'), flow_type: 'backup', target_type: 'group', target_id: g1, repository_id: repo.id })).body;
    const f2 = (await hub.admin.post(P, { name: unique('dup2'), flow_type: 'backup', target_type: 'vm', target_id: shared, repository_id: repo.id })).body;
    const e1 = (await hub.admin.post(`${P}/${f1.id}/execute`)).body;
    const e2 = (await hub.admin.post(`${P}/${f2.id}/execute`)).body;
    const [d1, d2] = await Promise.all([hub.waitForExecution(f1.id, e1.id), hub.waitForExecution(f2.id, e2.id)]);
    expect(d1.status).to.equal('success');
    expect(d2.status).to.equal('success');
    expect(maxOverlap([...d1.vms, ...d2.vms])).to.equal(1);
    void g2;
  });

  it('skips missing VMs, disabled members and VMs of unknown vCenters with their reasons (warning)', async () => {
    const ok = await makeVm(hub);
    const missing = await makeVm(hub, { inventory_status: 'missing' });
    const disabled = await makeVm(hub);
    const orphan = await makeVm(hub);
    await hub.db.db('vm_contexts').where({ context_id: orphan }).update({ vcenter_id: null });
    const group = await makeGroup(hub, [ok, missing, disabled, orphan]);
    await hub.admin.patch(`/api/v1/machine-groups/${group}/members/${disabled}`, { enabled: false });
    const repo = await makeRepository(hub);
    const flow = (await hub.admin.post(P, { name: unique('skips'), flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id })).body;
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    const done = await hub.waitForExecution(flow.id, exec.id);
    expect(done).to.include({ status: 'warning', jobs_created: 4, jobs_completed: 1, jobs_skipped: 3, jobs_failed: 0, vms_processed: 1 });
    const reasons = Object.fromEntries(done.vms.map((v: { vm_context_id: string; error_message: string }) => [v.vm_context_id, v.error_message]));
    expect(reasons[missing]).to.match(/missing/);
    expect(reasons[disabled]).to.match(/disabled in group/);
    expect(reasons[orphan]).to.match(/vCenter is unknown/);
    const logs = await hub.logsUntil(flow.id, exec.id, 'fan-out', '?level=warn');
    expect(logs.filter((l: { message: string }) => /^Skipped/.test(l.message))).to.have.length(3);
  });

  it('fails a VM permanently at once, retries a transient failure, and ends warning; all failed ends error', async () => {
    const { flow } = await groupFlow(hub, ['bad', 'flaky', 'ok'], 5);
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    const done = await hub.waitForExecution(flow.id, exec.id, 40_000);
    expect(done).to.include({ status: 'warning', jobs_completed: 2, jobs_failed: 1, vms_processed: 3 });
    const byName = (p: string) => done.vms.find((v: { vm_name: string }) => v.vm_name.startsWith(p));
    expect(byName('bad')).to.include({ status: 'failed', attempts: 1, error_message: 'simulated permanent failure' });
    expect(byName('flaky')).to.include({ status: 'success', attempts: 2 });
    const all = await groupFlow(hub, ['bad1', 'bad2'], 5);
    const e2 = (await hub.admin.post(`${P}/${all.flow.id}/execute`)).body;
    const d2 = await hub.waitForExecution(all.flow.id, e2.id);
    expect(d2).to.include({ status: 'error', jobs_failed: 2, jobs_completed: 0 });
    expect(d2.error_message).to.match(/No VM was backed up/);
    const f = (await hub.admin.get(`${P}/${all.flow.id}`)).body;
    expect(f.status).to.include({ last_execution_status: 'error', failed_executions: 1, total_executions: 1 });
  });

  it('ends an execution whose target has nothing to back up as error, at once', async () => {
    const group = await makeGroup(hub, []);
    const repo = await makeRepository(hub);
    const flow = (await hub.admin.post(P, { name: unique('empty'), flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id })).body;
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    const done = await hub.waitForExecution(flow.id, exec.id);
    expect(done).to.include({ status: 'error', jobs_created: 0 });
    expect(done.error_message).to.match(/no VMs/);
  });

  it('keeps exact counters when 50 VM results land at once', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `burst${i}`);
    const { flow } = await groupFlow(hub, names, 50);
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    const done = await hub.waitForExecution(flow.id, exec.id, 40_000);
    expect(done).to.include({ status: 'success', jobs_created: 50, jobs_completed: 50, jobs_failed: 0, vms_processed: 50, bytes_transferred: 50 * (4 << 20) });
    expect(done.created_job_ids).to.have.length(50);
    const f = (await hub.admin.get(`${P}/${flow.id}`)).body;
    expect(f.status.total_executions).to.equal(1);
  });

  it('replaying a result changes nothing', async () => {
    const { flow } = await groupFlow(hub, ['r1', 'r2'], 5);
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    const done = await hub.waitForExecution(flow.id, exec.id);
    const run = await hub.api.stores.vmRuns.byExecutionAndVm(exec.id, done.vms[0].vm_context_id);
    const again = await hub.orchestrator.engine.recorder.record(run!.id, { status: 'failed', bytes_transferred: 999 });
    expect(again).to.deep.equal({ recorded: false, reason: 'already-final' });
    const after = (await hub.admin.get(`${P}/${flow.id}/executions/${exec.id}`)).body;
    expect(after).to.deep.equal(done);
  });

  it('cancels: queued VMs are withdrawn, running ones stop within seconds, status cancelled', async () => {
    const { flow } = await groupFlow(hub, ['long1', 'long2', 'long3', 'long4'], 2);
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    const until = Date.now() + 10_000;
    while ((await hub.admin.get(`${P}/${flow.id}/executions/${exec.id}`)).body.progress.vms_running < 2) {
      if (Date.now() > until) throw new Error('VMs did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = Date.now();
    const res = await hub.admin.post(`${P}/${flow.id}/executions/${exec.id}/cancel`);
    expect(res.status).to.equal(202);
    expect(res.body.cancel_requested_at).to.be.a('string');
    const done = await hub.waitForExecution(flow.id, exec.id, 15_000);
    expect(Date.now() - t0).to.be.below(10_000);
    expect(done.status).to.equal('cancelled');
    expect(done.vms.every((v: { status: string }) => v.status === 'cancelled')).to.equal(true);
    expect(done.jobs_completed).to.equal(0);
    const again = await hub.admin.post(`${P}/${flow.id}/executions/${exec.id}/cancel`);
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('EXECUTION_FINISHED');
  });
});

describe('engine: the sweeper', function () {
  this.timeout(60_000);
  let hub: EngineHub;
  before(async () => {
    hub = await startEngineHub({ behaviours: [['hold', { delayMs: 20_000 }]] });
  });
  after(async () => hub?.stopAll());

  it('skips a VM that could not start within its flow\'s window (busy in another execution), with the reason', async () => {
    const vm = await makeVm(hub, { vm_name: `hold-${unique('h').replace(/\W/g, '')}` });
    const repo = await makeRepository(hub);
    const a = (await hub.admin.post(P, { name: unique('holder'), flow_type: 'backup', target_type: 'vm', target_id: vm, repository_id: repo.id })).body;
    const b = (await hub.admin.post(P, { name: unique('waiter'), flow_type: 'backup', target_type: 'vm', target_id: vm, repository_id: repo.id, vm_start_window_minutes: 1 })).body;
    const ea = (await hub.admin.post(`${P}/${a.id}/execute`)).body;
    for (let i = 0; (await hub.admin.get(`${P}/${a.id}/executions/${ea.id}`)).body.vms[0]?.status !== 'running'; i++) {
      if (i > 100) throw new Error('holder did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const eb = (await hub.admin.post(`${P}/${b.id}/execute`)).body;
    await new Promise((r) => setTimeout(r, 500));
    expect((await hub.admin.get(`${P}/${b.id}/executions/${eb.id}`)).body.vms[0].status).to.equal('waiting');
    // as if two minutes had passed
    await hub.db.db('protection_flow_vm_runs').where({ execution_id: eb.id }).update({ created_at: new Date(Date.now() - 2 * 60_000) });
    const report = await hub.orchestrator.engine.sweeper.sweep();
    expect(report.skippedStale).to.equal(1);
    const done = await hub.waitForExecution(b.id, eb.id);
    expect(done).to.include({ status: 'error', jobs_skipped: 1, jobs_completed: 0 });
    expect(done.vms[0].error_message).to.match(/within the flow's 1-minute window/);
    await hub.admin.post(`${P}/${a.id}/executions/${ea.id}/cancel`);
    await hub.waitForExecution(a.id, ea.id);
  });

  it('the sweeper releases waiting VMs that may start when their release was lost (a crash after a result)', async () => {
    const { flow } = await groupFlow(hub, ['lostrel1', 'lostrel2'], 5);
    await hub.processor.worker.pause();
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    for (let i = 0; (await hub.db.db('protection_flow_vm_runs').where({ execution_id: exec.id, status: 'queued' }).count({ n: '*' }))[0]!.n !== 2; i++) {
      if (i > 100) throw new Error('VMs were not queued');
      await new Promise((r) => setTimeout(r, 50));
    }
    // as if the release never happened: rows waiting, no jobs in the queue
    await hub.db.db('protection_flow_vm_runs').where({ execution_id: exec.id }).update({ status: 'waiting', queued_at: null });
    for (const r of await hub.db.db('protection_flow_vm_runs').where({ execution_id: exec.id })) await hub.api.queues.vmBackups.remove(`vm-${exec.id}-${r.vm_context_id}`);
    hub.processor.worker.resume();
    const report = await hub.orchestrator.engine.sweeper.sweep();
    expect(report.released).to.equal(2);
    const done = await hub.waitForExecution(flow.id, exec.id);
    expect(done).to.include({ status: 'success', jobs_completed: 2 });
    expect((await hub.orchestrator.engine.sweeper.sweep()).released).to.equal(0);
  });

  it('finalizes a running execution whose VMs all ended but which was never finalized (a crash in between)', async () => {
    const f = await makeBackupFlow(hub, { name: unique('limbo') });
    const e = (await hub.admin.post(`${P}/${f.id}/execute`)).body;
    const done = await hub.waitForExecution(f.id, e.id);
    expect(done.status).to.equal('success');
    // undo the finalization, as if the process died after the VM row committed
    await hub.db.db('protection_flow_executions').where({ id: e.id }).update({ status: 'running', completed_at: null });
    const report = await hub.orchestrator.engine.sweeper.sweep();
    expect(report.finalized).to.equal(1);
    expect((await hub.admin.get(`${P}/${f.id}/executions/${e.id}`)).body.status).to.equal('success');
  });
});

describe('engine: Redis lost under a pending execution', function () {
  this.timeout(60_000);
  let hub: EngineHub;
  before(async () => {
    hub = await startEngineHub();
  });
  after(async () => hub?.stopAll());

  it('the sweeper starts a pending execution whose flow.run job is gone, and it runs to the end', async () => {
    const f = await makeBackupFlow(hub, { name: unique('lost') });
    // the orchestrator is paused: the job waits, then Redis loses it
    await hub.orchestrator.worker.pause();
    const e = (await hub.admin.post(`${P}/${f.id}/execute`)).body;
    await hub.api.queues.flowRuns.obliterate({ force: true });
    await hub.db.db('protection_flow_executions').where({ id: e.id }).update({ created_at: new Date(Date.now() - 5 * 60_000) });
    hub.orchestrator.worker.resume();
    const report = await hub.orchestrator.engine.sweeper.sweep();
    expect(report.started).to.equal(1);
    const done = await hub.waitForExecution(f.id, e.id);
    expect(done).to.include({ status: 'success', jobs_completed: 1 });
    expect((await hub.orchestrator.engine.sweeper.sweep()).started).to.equal(0);
  });
});
