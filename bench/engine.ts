// npm run bench:engine — the execution engine against raw BullMQ, in one run on the same Redis.
// Prints a table and writes bench/results/engine.json. Not part of npm test.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { createDb, createStores } from '@vaultflow/db';
import { startOrchestrator } from '@vaultflow/flow-orchestrator';
import { createLogger } from '@vaultflow/logging';
import { createRedis } from '@vaultflow/queue';
import { TEST_REDIS_URL, createTestDatabase, deleteRedisPrefix, uniqueRedisPrefix } from '@vaultflow/testing';
import { startTestProcessor } from '../tests/support/test-vm-processor.js';
import { profileCpu, profileNode, profileSql } from './engine/where-time-goes.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const N_RAW = Number(process.env.BENCH_RAW_JOBS ?? 20_000);
const N_FLOWS = Number(process.env.BENCH_FLOWS ?? 10_000);
const N_FIRE = Number(process.env.BENCH_FIRE ?? 2_000);
const N_GROUP = Number(process.env.BENCH_GROUP ?? 5_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
/** A first round that is not counted: both sides' code is compiled by then (BENCH_WARMUP=0 to skip). */
const WARMUP = process.env.BENCH_WARMUP !== '0';
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Lets MariaDB finish the previous phase's background work (purge, flushing) before a timed phase. */
const settle = () => new Promise((r) => setTimeout(r, 2000));
type Round = { raw_bullmq_jobs_per_s: number; fanout_5000_s: number; finalize_5000_s: number; engine_vm_jobs_per_s: number; ratio: number };
const rounds: Round[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function rawBullmq(prefix: string): Promise<number> {
  const conn = createRedis(TEST_REDIS_URL);
  const q = new Queue('raw-bench', { connection: conn, prefix });
  let done = 0;
  const t0 = performance.now();
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const w = new Worker('raw-bench', async () => undefined, { connection: createRedis(TEST_REDIS_URL), prefix, concurrency: 50 });
  w.on('completed', () => ++done === N_RAW && resolveAll());
  for (let i = 0; i < N_RAW; i += 1000) await q.addBulk(Array.from({ length: Math.min(1000, N_RAW - i) }, (_, j) => ({ name: 'noop', data: { i: i + j }, opts: { removeOnComplete: true } })));
  await all;
  const s = (performance.now() - t0) / 1000;
  await w.close();
  await q.close();
  conn.disconnect();
  return N_RAW / s;
}

async function main() {
  const t = await createTestDatabase({ tag: 'bench' });
  const prefix = uniqueRedisPrefix('bench');
  const db = t.db;
  const stores = createStores(db);
  const logger = createLogger('bench', (process.env.BENCH_LOG_LEVEL as 'info' | undefined) ?? 'silent');
  const out: Record<string, number> = {};
  try {

    // Inventory: one vCenter, enough VMs, one repository.
    const vcenter = randomUUID();
    await db('vcenters').insert({ id: vcenter, name: 'bench-vc', host: 'vc.bench', username: 'u', password_encrypted: 'v1:x:y:z', insecure: true });
    const nVms = N_FIRE + N_GROUP;
    const vms = Array.from({ length: nVms }, (_, i) => ({ context_id: randomUUID(), vcenter_id: vcenter, vm_name: `bench-vm-${i}`, moref: `vm-${i}`, inventory_status: 'present', power_state: 'poweredOn', cbt_enabled: true }));
    for (let i = 0; i < vms.length; i += 1000) await db('vm_contexts').insert(vms.slice(i, i + 1000));
    const [repoId] = (await db('backup_repositories').insert({ name: 'bench-repo', repository_type: 'local', config: JSON.stringify({ path: '/tmp' }) })) as number[];

    // 1. register 10,000 scheduled flows: the reconciler creates their job schedulers.
    const orch = await startOrchestrator({ db, redisUrl: TEST_REDIS_URL, redisPrefix: prefix, logger, reconcileSeconds: 3600, sweepSeconds: 3600 });
    const daily = randomUUID();
    await db('replication_schedules').insert({ id: daily, name: 'bench-daily', cron_expression: '0 3 * * *', timezone: 'Europe/Berlin' });
    const flows = Array.from({ length: N_FLOWS }, (_, i) => ({ id: randomUUID(), name: `bench-flow-${i}`, flow_type: 'backup', target_type: 'vm', target_id: vms[i % nVms]!.context_id, repository_id: repoId, schedule_id: daily, schedule_armed_at: new Date() }));
    for (let i = 0; i < flows.length; i += 1000) await db('protection_flows').insert(flows.slice(i, i + 1000));
    log(`registering ${N_FLOWS} flows (reconciler -> upsertJobScheduler)`);
    let t0 = performance.now();
    const rep = await orch.reconciler.reconcile();
    out.register_10000_s = (performance.now() - t0) / 1000;
    if (rep.added < N_FLOWS) throw new Error(`only ${rep.added} schedulers added`);
    await db('protection_flows').update({ enabled: false });
    await orch.reconciler.reconcile();

    // 2. 2,000 flows firing in the same second.
    const fireAt = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
    const sec = randomUUID();
    await db('replication_schedules').insert({ id: sec, name: 'bench-same-second', cron_expression: `${fireAt.getUTCSeconds()} ${fireAt.getUTCMinutes()} ${fireAt.getUTCHours()} * * *`, timezone: 'UTC' });
    const fireFlows = Array.from({ length: N_FIRE }, (_, i) => ({ id: randomUUID(), name: `bench-fire-${i}`, flow_type: 'backup', target_type: 'vm', target_id: vms[i]!.context_id, repository_id: repoId, schedule_id: sec, schedule_armed_at: new Date() }));
    for (let i = 0; i < fireFlows.length; i += 1000) await db('protection_flows').insert(fireFlows.slice(i, i + 1000));
    await orch.reconcile(); // what every replica does each minute: schedulers, and timers for big moments
    log(`${N_FIRE} flows fire at ${fireAt.toISOString()}`);
    while (Date.now() < fireAt.getTime()) await sleep(50);
    for (;;) {
      const n = Number(((await db('protection_flow_vm_runs').whereIn('status', ['queued', 'running', 'success']).count({ n: '*' })) as { n: number }[])[0]?.n ?? 0);
      if (n >= N_FIRE) break;
      if (Date.now() - fireAt.getTime() > 120_000) throw new Error(`only ${n} of ${N_FIRE} VM jobs queued after 120 s`);
      await sleep(20);
    }
    out.fire_2000_s = (Date.now() - fireAt.getTime()) / 1000;
    const lags = ((await db('protection_flow_vm_runs as r').join('protection_flow_executions as e', 'e.id', 'r.execution_id').whereNotNull('e.scheduled_for').select(db.raw('TIMESTAMPDIFF(MICROSECOND, e.scheduled_for, r.created_at) / 1000 AS lag')))) as { lag: number }[];
    const lagMs = lags.map((l) => Number(l.lag));
    out.lag_p50_ms = pct(lagMs, 50);
    out.lag_p99_ms = pct(lagMs, 99);
    await db('protection_flows').update({ enabled: false });
    await orch.reconciler.reconcile();
    await deleteRedisPrefix(prefix);

    // 3. one group of 5,000 VMs fanned out, then 4. 5,000 results finalized by a processor.
    const group = randomUUID();
    await db('machine_groups').insert({ id: group, name: 'bench-group', max_concurrent_vms: 1000, priority: 50 });
    const members = vms.slice(N_FIRE, N_FIRE + N_GROUP).map((v) => ({ group_id: group, vm_context_id: v.context_id }));
    for (let i = 0; i < members.length; i += 1000) await db('vm_group_memberships').insert(members.slice(i, i + 1000));
    const gflow = randomUUID();
    await db('protection_flows').insert({ id: gflow, name: 'bench-group-flow', flow_type: 'backup', target_type: 'group', target_id: group, repository_id: repoId });
    // The workers are their own service in production, with their own connection pool.
    const workerDb = createDb(t.url, { poolMax: 10 });
    // Raw BullMQ and the engine take turns, ROUNDS times: the machine's speed drifts (other tenants),
    // and a ratio means something only between runs side by side. Medians are reported.
    for (let round = WARMUP ? 0 : 1; round <= ROUNDS; round++) {
      const tag = round === 0 ? 'warm-up round (not counted)' : `round ${round}`;
      await settle();
      log(`${tag} of ${ROUNDS}: raw BullMQ, ${N_RAW} empty jobs through addBulk and one worker (concurrency 50)`);
      const raw = await rawBullmq(prefix);
      const exec = randomUUID();
      await stores.executions.insert({ id: exec, flow_id: gflow, execution_type: 'api', triggered_by: 'bench' });
      await settle();
      log(`${tag}: fan-out of a ${N_GROUP}-VM group (limit 1000 at once)`);
      t0 = performance.now();
      await orch.engine.starter.start(exec);
      const fanout = (performance.now() - t0) / 1000;
      const rows = await stores.vmRuns.countsByStatus(exec);
      if (rows.waiting + rows.queued !== N_GROUP || rows.queued !== Math.min(1000, N_GROUP)) throw new Error(`fan-out left ${JSON.stringify(rows)}`);
      await settle();
      log(`${tag}: ${N_GROUP} VM results through a test processor (no data path, concurrency 50)`);
      t0 = performance.now();
      const profile = process.env.BENCH_PROFILE && round === ROUNDS ? { sql: profileSql([db, workerDb]), cpu: profileCpu(), node: process.env.BENCH_PROFILE === 'cpu' ? await profileNode() : undefined } : undefined;
      const proc = await startTestProcessor({ db: workerDb, redisUrl: TEST_REDIS_URL, prefix, concurrency: 50, defaults: { delayMs: 0, bytes: 1 } });
      for (;;) {
        // a light read: the bench must not compete with what it measures
        const e = (await db('protection_flow_executions').where({ id: exec }).first('status', 'jobs_completed')) as { status: string; jobs_completed: number } | undefined;
        if (e && ['success', 'warning', 'error'].includes(e.status)) {
          if (e.jobs_completed !== N_GROUP) throw new Error(`finalized with ${e.jobs_completed} completed`);
          break;
        }
        if (performance.now() - t0 > 600_000) throw new Error('not finalized after 10 min');
        await sleep(20);
      }
      const finalize = (performance.now() - t0) / 1000;
      if (profile) log(`where the time of the ${N_GROUP} results went:\n${profile.cpu.stop()}\n\n${profile.sql.stop()}${profile.node ? `\n\n${await profile.node.stop()}` : ''}`);
      await proc.close();
      if (round > 0) rounds.push({ raw_bullmq_jobs_per_s: raw, fanout_5000_s: fanout, finalize_5000_s: finalize, engine_vm_jobs_per_s: N_GROUP / finalize, ratio: N_GROUP / finalize / raw });
      log(`${tag}: raw ${raw.toFixed(0)} jobs/s, engine ${(N_GROUP / finalize).toFixed(0)} VM jobs/s (${(N_GROUP / finalize / raw).toFixed(3)}x), fan-out ${fanout.toFixed(2)} s, finalize ${finalize.toFixed(2)} s`);
    }
    for (const k of ['raw_bullmq_jobs_per_s', 'fanout_5000_s', 'finalize_5000_s', 'engine_vm_jobs_per_s'] as const) out[k] = median(rounds.map((r) => r[k]));
    await workerDb.destroy();
    await orch.close();
  } finally {
    if (process.env.BENCH_KEEP_DB) log(`kept database ${t.name} for analysis`);
    else await t.drop();
    await deleteRedisPrefix(prefix);
  }

  const targets: Record<string, string> = {
    raw_bullmq_jobs_per_s: '',
    engine_vm_jobs_per_s: '>= 0.3x raw',
    register_10000_s: '',
    fire_2000_s: '<= 10',
    lag_p50_ms: '',
    lag_p99_ms: '<= 1000',
    fanout_5000_s: '<= 3',
    finalize_5000_s: '<= 5',
  };
  const raw = out.raw_bullmq_jobs_per_s!;
  out.engine_ratio_median_round = median(rounds.map((r) => r.ratio));
  const ratio = (k: string, v: number) => (k.endsWith('_per_s') ? (v / raw).toFixed(3) : k.endsWith('_s') ? (v / (N_GROUP / raw)).toFixed(1) : '');
  const lines = ['| measure | value | vs raw BullMQ | target |', '|---|---|---|---|'];
  for (const [k, target] of Object.entries(targets)) lines.push(`| ${k} | ${out[k]!.toFixed(k.endsWith('_ms') ? 0 : 2)} | ${ratio(k, out[k]!)} | ${target} |`);
  lines.push(`| engine ratio, median of the rounds' own ratios | | ${out.engine_ratio_median_round!.toFixed(3)} | >= 0.3 |`);
  process.stdout.write(lines.join('\n') + `\n\n(medians of ${ROUNDS} rounds in which raw BullMQ and the engine take turns; vs raw BullMQ: throughput as a ratio; durations as multiples of the time raw BullMQ takes for 5,000 jobs)\n`);
  mkdirSync(path.join(HERE, 'results'), { recursive: true });
  writeFileSync(path.join(HERE, 'results', 'engine.json'), JSON.stringify({ measured_at: new Date().toISOString(), machine: '2 vCPU, MariaDB 10.11 and Redis 7 on the same host', rounds_note: `raw BullMQ and the engine's fan-out and finalize phases take turns ${ROUNDS} times after ${WARMUP ? 'a warm-up round' : 'no warm-up'}; figures are medians`, ...out, rounds }, null, 2) + '\n');
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
