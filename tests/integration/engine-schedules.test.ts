import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowSchedulers, QUEUES, openQueue } from '@vaultflow/queue';
import { TEST_REDIS_URL, deleteRedisPrefix } from '@vaultflow/testing';
import { startEngineHub, type EngineHub } from '../support/engine-hub.js';
import { makeGroup, makeRepository, makeVm } from '../support/fixtures.js';
import { unique } from '../support/hub.js';
import { startTestProcessor } from '../support/test-vm-processor.js';

const P = '/api/v1/protection-flows';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scheduledFlow(hub: EngineHub, cron: string, vmPrefix = 'quick') {
  const vm = await makeVm(hub, { vm_name: `${vmPrefix}-${unique('v').replace(/\W/g, '')}` });
  const group = await makeGroup(hub, [vm]);
  const repo = await makeRepository(hub);
  const schedule = (await hub.admin.post('/api/v1/schedules', { name: unique('every'), cron_expression: cron })).body;
  const flow = (await hub.admin.post(P, { name: unique('sched'), flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repo.id, schedule_id: schedule.id })).body;
  return { flow, schedule };
}

async function executionsOf(hub: EngineHub, flowId: string) {
  return hub.db.db('protection_flow_executions').where({ flow_id: flowId }).orderBy('scheduled_for');
}

describe('engine: schedules fire exactly once', function () {
  this.timeout(90_000);
  let hub: EngineHub;
  before(async () => {
    hub = await startEngineHub({ concurrency: 10, defaults: { delayMs: 100 }, behaviours: [['slow', { delayMs: 2500 }], ['crash', { delayMs: 6000 }]] });
  });
  after(async () => hub?.stopAll());

  it('a schedule with a seconds field fires several times; two orchestrators make one execution per fire', async () => {
    await hub.startOrchestrator();
    const { flow } = await scheduledFlow(hub, '*/2 * * * * *');
    const scheduler = await new FlowSchedulers(openQueue(QUEUES.flowRuns, hub.redis, hub.prefix)).get(flow.id);
    expect(scheduler).to.include({ pattern: '*/2 * * * * *', tz: 'UTC' });
    expect(new Date(flow.status.next_execution_time).getTime()).to.equal(scheduler!.next);
    await sleep(7_500);
    await hub.admin.patch(`${P}/${flow.id}/disable`);
    await sleep(1_500);
    const rows = await executionsOf(hub, flow.id);
    expect(rows.length).to.be.within(3, 5);
    const fires = rows.map((r: { scheduled_for: Date }) => new Date(r.scheduled_for).getTime());
    expect(new Set(fires).size).to.equal(fires.length);
    for (const f of fires) expect(f % 2000).to.equal(0);
    for (const r of rows) expect(r).to.include({ execution_type: 'scheduled', triggered_by: 'scheduler', status: 'success', jobs_created: 1, jobs_completed: 1 });
    const vmRuns = await hub.db.db('protection_flow_vm_runs').whereIn('execution_id', rows.map((r: { id: string }) => r.id));
    expect(vmRuns).to.have.length(rows.length);
    const triggered = await hub.db.db('schedule_executions').where({ flow_id: flow.id, status: 'triggered' });
    expect(triggered).to.have.length(rows.length);
    const f = (await hub.admin.get(`${P}/${flow.id}`)).body;
    expect(f.status.total_executions).to.equal(rows.length);
    expect(f.status.next_execution_time).to.equal(null);
    expect(await new FlowSchedulers(openQueue(QUEUES.flowRuns, hub.redis, hub.prefix)).get(flow.id)).to.equal(undefined);
  });

  it('many flows due at one moment fire together: one execution each, swept by one orchestrator, next run moved on at once', async () => {
    const N = 24;
    const fireAt = new Date(Math.ceil((Date.now() + 9_000) / 1000) * 1000);
    const cron = `${fireAt.getUTCSeconds()} ${fireAt.getUTCMinutes()} ${fireAt.getUTCHours()} * * *`;
    const repo = await makeRepository(hub);
    const schedule = (await hub.admin.post('/api/v1/schedules', { name: unique('moment'), cron_expression: cron })).body;
    const flows: { id: string }[] = [];
    for (let i = 0; i < N; i++) {
      const vm = await makeVm(hub, { vm_name: `quick-moment-${i}-${unique('v').replace(/\W/g, '')}` });
      flows.push((await hub.admin.post(P, { name: unique('moment'), flow_type: 'backup', target_type: 'vm', target_id: vm, repository_id: repo.id, schedule_id: schedule.id })).body);
    }
    // One flow is disabled before the moment: the sweep must leave it alone.
    await hub.admin.patch(`${P}/${flows[N - 1]!.id}/disable`);
    while (Date.now() < fireAt.getTime() + 4_000) await sleep(250);
    const ids = flows.map((f) => f.id);
    const rows = await hub.db.db('protection_flow_executions').whereIn('flow_id', ids);
    expect(rows).to.have.length(N - 1);
    expect(new Set(rows.map((r: { flow_id: string }) => r.flow_id)).size).to.equal(N - 1);
    for (const r of rows) expect(new Date(r.scheduled_for).getTime()).to.equal(fireAt.getTime());
    for (const r of rows) if (!['success', 'warning', 'error'].includes(r.status)) await hub.waitForExecution(r.flow_id, r.id);
    const done = await hub.db.db('protection_flow_executions').whereIn('flow_id', ids);
    for (const r of done) expect(r).to.include({ status: 'success', jobs_created: 1, jobs_completed: 1 });
    // Two orchestrators run (the first test started a second one): the moment was claimed once.
    expect(await hub.redis.get(`${hub.prefix}:fire-sweep:${fireAt.getTime()}`)).to.not.equal(null);
    // next_execution_time moved to tomorrow's fire at the fire, not at the reconciler's next pass (an hour away here).
    const next = await hub.db.db('protection_flows').whereIn('id', ids.slice(0, N - 1)).select('next_execution_time');
    for (const n of next) expect(new Date(n.next_execution_time).getTime()).to.equal(fireAt.getTime() + 86_400_000);
    const disabled = await hub.db.db('protection_flow_executions').where({ flow_id: flows[N - 1]!.id });
    expect(disabled).to.have.length(0);
  });

  it('a big moment is armed ahead: its flows fire on the dot from MariaDB even when no scheduler job comes', async () => {
    const N = 21;
    const fireAt = new Date(Math.ceil((Date.now() + 8_000) / 1000) * 1000);
    const cron = `${fireAt.getUTCSeconds()} ${fireAt.getUTCMinutes()} ${fireAt.getUTCHours()} * * *`;
    const repo = await makeRepository(hub);
    const schedule = (await hub.admin.post('/api/v1/schedules', { name: unique('armed'), cron_expression: cron })).body;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const vm = await makeVm(hub, { vm_name: `quick-armed-${i}-${unique('v').replace(/\W/g, '')}` });
      ids.push((await hub.admin.post(P, { name: unique('armed'), flow_type: 'backup', target_type: 'vm', target_id: vm, repository_id: repo.id, schedule_id: schedule.id })).body.id);
    }
    // Redis loses the schedulers (no job will come); MariaDB still says these flows fire at fireAt.
    const schedulers = new FlowSchedulers(openQueue(QUEUES.flowRuns, hub.redis, hub.prefix));
    for (const id of ids) await schedulers.remove(id);
    expect(await hub.orchestrator.fireSweep.armUpcoming(60_000)).to.equal(1);
    while (Date.now() < fireAt.getTime() + 3_000) await sleep(250);
    const rows = await hub.db.db('protection_flow_executions').whereIn('flow_id', ids);
    expect(rows).to.have.length(N);
    for (const r of rows) expect(new Date(r.scheduled_for).getTime()).to.equal(fireAt.getTime());
    const lag = Math.max(...rows.map((r: { created_at: Date }) => new Date(r.created_at).getTime() - fireAt.getTime()));
    expect(lag).to.be.below(2_000);
    for (const r of rows) await hub.waitForExecution(r.flow_id, r.id);
  });

  it('a fire while the previous execution still runs is skipped and recorded, never run in parallel', async () => {
    const { flow } = await scheduledFlow(hub, '* * * * * *', 'slow');
    await sleep(5_000);
    await hub.admin.patch(`${P}/${flow.id}/disable`);
    const rows = await executionsOf(hub, flow.id);
    for (const r of rows) if (!['success', 'warning', 'error'].includes(r.status)) await hub.waitForExecution(flow.id, r.id);
    const done = await executionsOf(hub, flow.id);
    expect(done.length).to.be.within(1, 3);
    const spans = done.map((r: { started_at: Date; completed_at: Date }) => [new Date(r.started_at).getTime(), new Date(r.completed_at).getTime()]).sort((a, b) => a[0]! - b[0]!);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).to.be.at.least(spans[i - 1]![1]! - 1000);
    const skipped = await hub.db.db('schedule_executions').where({ flow_id: flow.id, status: 'skipped' });
    expect(skipped.length).to.be.at.least(2);
    expect(skipped[0].reason).to.match(/is still (running|pending)/);
    await hub.orchestrator.engine.log.flush();
    const logs = await hub.db.db('job_logs').where({ flow_id: flow.id, step: 'schedule', level: 'warn' });
    expect(logs.length).to.equal(skipped.length);
  });

  it('after the Redis prefix is wiped, the reconciler brings the schedulers back and they fire', async () => {
    const { flow } = await scheduledFlow(hub, '*/2 * * * * *');
    await sleep(500);
    await deleteRedisPrefix(hub.prefix);
    const schedulers = new FlowSchedulers(openQueue(QUEUES.flowRuns, hub.redis, hub.prefix));
    expect(await schedulers.get(flow.id)).to.equal(undefined);
    const report = await hub.orchestrator.reconciler.reconcile();
    expect(report.added).to.be.at.least(1);
    expect(await schedulers.get(flow.id)).to.not.equal(undefined);
    const before = (await executionsOf(hub, flow.id)).length;
    await sleep(5_000);
    await hub.admin.patch(`${P}/${flow.id}/disable`);
    expect((await executionsOf(hub, flow.id)).length - before).to.be.at.least(2);
  });

  it('removes orphan schedulers and restores a scheduler whose cron or zone drifted from MariaDB', async () => {
    const schedulers = new FlowSchedulers(openQueue(QUEUES.flowRuns, hub.redis, hub.prefix));
    await schedulers.upsert('00000000-dead-beef-0000-000000000000', '0 3 * * *', 'UTC');
    const { flow } = await scheduledFlow(hub, '0 4 * * *');
    await schedulers.upsert(flow.id, '0 5 * * *', 'Asia/Tokyo');
    const report = await hub.orchestrator.reconciler.reconcile();
    expect(report.removed).to.be.at.least(1);
    expect(report.updated).to.be.at.least(1);
    expect(await schedulers.get('00000000-dead-beef-0000-000000000000')).to.equal(undefined);
    const restored = await schedulers.get(flow.id);
    expect(restored).to.include({ pattern: '0 4 * * *', tz: 'UTC' });
    expect((await hub.admin.get(`${P}/${flow.id}`)).body.status.next_execution_time).to.equal(new Date(restored!.next!).toISOString());
    await hub.admin.patch(`${P}/${flow.id}/disable`);
  });

  it('on start, runs the newest missed fire within the misfire grace once and records older ones as missed', async () => {
    const now = Date.now();
    const recent = new Date(Math.floor((now - 20 * 60_000) / 60_000) * 60_000);
    const old = new Date(recent.getTime() - 2 * 3600_000);
    const cron = `${recent.getUTCMinutes()} ${old.getUTCHours()},${recent.getUTCHours()} * * *`;
    const { flow } = await scheduledFlow(hub, cron);
    await hub.db.db('protection_flows').where({ id: flow.id }).update({ schedule_armed_at: new Date(now - 3 * 3600_000) });
    const report = await hub.orchestrator.reconciler.reconcile();
    expect(report.misfiresRun).to.equal(1);
    expect(report.misfiresMissed).to.equal(1);
    let rows: { id: string; scheduled_for: Date; execution_type: string }[] = [];
    for (let i = 0; i < 100 && rows.length === 0; i++) {
      await sleep(100);
      rows = await executionsOf(hub, flow.id);
    }
    expect(rows).to.have.length(1);
    expect(new Date(rows[0]!.scheduled_for).toISOString()).to.equal(recent.toISOString());
    expect(rows[0]!.execution_type).to.equal('scheduled');
    await hub.waitForExecution(flow.id, rows[0]!.id);
    const missed = await hub.db.db('schedule_executions').where({ flow_id: flow.id, status: 'missed' });
    expect(missed.map((m: { scheduled_for: Date }) => new Date(m.scheduled_for).toISOString())).to.deep.equal([old.toISOString()]);
    const again = await hub.orchestrator.reconciler.reconcile();
    expect(again.misfiresRun + again.misfiresMissed).to.equal(0);
    expect(await executionsOf(hub, flow.id)).to.have.length(1);
  });

  it('a fire later than the misfire grace is recorded as missed, not run', async () => {
    const { flow, schedule } = await scheduledFlow(hub, '0 0 1 1 *');
    await hub.admin.put(`/api/v1/schedules/${schedule.id}`, { misfire_grace_seconds: 60 });
    const late = new Date(Date.now() - 10 * 60_000);
    const out = await hub.orchestrator.engine.fires.handle(flow.id, late);
    expect(out.outcome).to.equal('missed');
    expect(await executionsOf(hub, flow.id)).to.have.length(0);
    const again = await hub.orchestrator.engine.fires.handle(flow.id, late);
    expect(again.outcome).to.equal('missed');
    expect(await hub.db.db('schedule_executions').where({ flow_id: flow.id, status: 'missed' })).to.have.length(1);
  });

  it('a worker killed with SIGKILL mid-job: the job is picked up again and the execution ends with exact counters', async function () {
    this.timeout(120_000);
    const vm = await makeVm(hub, { vm_name: `crash-${unique('c').replace(/\W/g, '')}` });
    const repo = await makeRepository(hub);
    const flow = (await hub.admin.post(P, { name: unique('crash'), flow_type: 'backup', target_type: 'vm', target_id: vm, repository_id: repo.id })).body;
    // Only the separate process consumes at first: pause the in-process test processor.
    await hub.processor.worker.pause();
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', path.join(HERE, '../support/test-vm-processor.main.ts')], {
      env: { ...process.env, TP_DATABASE_URL: hub.db.url, TP_REDIS_URL: TEST_REDIS_URL, TP_PREFIX: hub.prefix, TP_DEFAULTS: JSON.stringify({ delayMs: 6000 }), TP_WORKER_ID: 'doomed' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', () => reject(new Error('processor exited early')));
    });
    const exec = (await hub.admin.post(`${P}/${flow.id}/execute`)).body;
    for (let i = 0; ; i++) {
      const d = (await hub.admin.get(`${P}/${flow.id}/executions/${exec.id}`)).body;
      if (d.vms[0]?.status === 'running') break;
      if (i > 200) throw new Error('never started');
      await sleep(50);
    }
    child.kill('SIGKILL');
    const t0 = Date.now();
    hub.processor.worker.resume();
    const done = await hub.waitForExecution(flow.id, exec.id, 90_000);
    const recoveredIn = Date.now() - t0;
    expect(done).to.include({ status: 'success', jobs_created: 1, jobs_completed: 1, jobs_failed: 0, vms_processed: 1 });
    expect(done.vms[0]).to.include({ status: 'success', attempts: 2 });
    expect(recoveredIn).to.be.below(60_000);
    const f = (await hub.admin.get(`${P}/${flow.id}`)).body;
    expect(f.status.total_executions).to.equal(1);
  });
});
