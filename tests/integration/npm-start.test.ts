// Acceptance test of `npm start` as the README's "Quick start" promises it: start.mjs runs the whole hub
// with the simulated vCenter, a new hub gets its first-run setup through the API and backs the simulated
// VMs up once, Ctrl-C stops every process, and a second start leaves the hub as it is.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { deleteRedisPrefix, dropDatabase, TEST_REDIS_URL, TEST_SERVER_URL, uniqueRedisPrefix, uniqueTestName } from '@vaultflow/testing';
import { Client } from '../support/hub.js';
import { freeBasePort, hubPorts, listening, ROOT, sleep, StartRun } from '../support/npm-start-run.js';

const FIRST_START_MS = 300_000; // incremental build, migration, simulator, services, setup and the first full backup
const RESTART_MS = 240_000;
const RUN_MS = 120_000;
const STOP_MS = 20_000;
const FINAL = ['success', 'warning', 'error', 'cancelled'];
/** What the README says the first-run setup creates. */
const SETUP = { vcenter: 'Simulated vCenter (vcsim)', repository: 'Local repository', policy: 'Last 24 and 14 daily', schedule: 'Every hour', group: 'Simulated VMs', flow: 'Protect simulated VMs' };
const LAST_STEP = 'left node_modules, its install stamp and the lockfile as they were';
const VM_NAMES = ['DC0_H0_VM0', 'DC0_H0_VM1', 'DC0_H0_VM2'];
const SERVICES = ['vcsimcbt', 'services/flows-api/dist/main.js', 'services/flow-orchestrator/dist/main.js', 'services/backup-worker/dist/main.js'];

/** bootstrap()'s own check: false means start.mjs would run pnpm install, which this test must never cause. */
async function dependenciesInstalled(): Promise<boolean> {
  const bootstrap = (await import(pathToFileURL(path.join(ROOT, 'infra/scripts/bootstrap.mjs')).href)) as { dependenciesInstalled(): boolean };
  return bootstrap.dependenciesInstalled();
}

/**
 * The lockfile and package.json, and the install stamp bootstrap() rewrites after every install it runs, to
 * prove a run left them alone. (pnpm's own node_modules/.modules.yaml is not compared: other work on the
 * checkout may run pnpm meanwhile.)
 */
function dependencyState() {
  const digest = (f: string) => createHash('sha256').update(readFileSync(path.join(ROOT, f))).digest('hex');
  return { lockfile: digest('pnpm-lock.yaml'), packageJson: digest('package.json'), stampWritten: statSync(path.join(ROOT, 'node_modules/.vaultflow-install-stamp')).mtimeMs };
}

/** The environment of the hub under test: the machine's basics, and its own ports, data folder, database and Redis prefix. */
function hubEnv(port: number, dataDir: string, database: string, prefix: string): NodeJS.ProcessEnv {
  const basics = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'].filter((k) => process.env[k] !== undefined);
  const db = new URL(TEST_SERVER_URL);
  db.pathname = `/${database}`;
  return {
    ...Object.fromEntries(basics.map((k) => [k, process.env[k]])),
    PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: db.toString(), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: 'info',
  };
}

/** Calls `probe` until it answers something other than undefined; fails when `run` ends or time is up. */
async function until<T>(run: StartRun, timeoutMs: number, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (!run.running) throw new Error(`npm start exited before ${what}:\n${run.tail()}`);
    if (Date.now() > end) throw new Error(`no ${what} within ${timeoutMs / 1000} s:\n${run.tail()}`);
    await sleep(500);
  }
}

/** The one object named `name` of a list answer. */
async function named(api: Client, collection: string, key: string, name: string): Promise<any> {
  const res = await api.get(`/api/v1/${collection}?search=${encodeURIComponent(name)}&limit=1000`);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  const found = (res.body[key] as { name: string }[]).filter((x) => x.name === name);
  expect(found, `${collection} named "${name}"`).to.have.length(1);
  return found[0];
}

describe('npm start (README "Quick start")', function () {
  this.timeout(RUN_MS);
  const database = uniqueTestName('start');
  const prefix = uniqueRedisPrefix('start');
  const runs: StartRun[] = [];
  let dataDir: string;
  let port: number;
  let env: NodeJS.ProcessEnv;
  let depsBefore: ReturnType<typeof dependencyState>;
  let hub: StartRun;
  let password: string;
  let api: Client;
  let flow: any;
  let repository: any;
  let firstRun: any;
  let requestedRuns: string[] = []; // ids of the executions not started by the schedule

  const start = () => {
    const run = new StartRun(env);
    runs.push(run);
    return run;
  };
  const apiReady = () => fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => (r.ok ? true : undefined), () => undefined);
  const login = async () => {
    const res = await new Client(`http://127.0.0.1:${port}`).post('/api/v1/auth/login', { username: 'admin', password });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return new Client(`http://127.0.0.1:${port}`, res.body.token);
  };
  const executions = async () => (await api.get(`/api/v1/protection-flows/${flow.id}/executions?limit=100`)).body.executions as any[];
  const backupsOf = async (executionId: string) => (await api.get(`/api/v1/backups?flow_execution_id=${executionId}&limit=100`)).body.backups as any[];
  const files = async (dir: string, ext: string) => {
    const names = (await readdir(path.join(dataDir, 'repository', dir))).filter((f) => f.endsWith(ext));
    return Promise.all(names.map(async (f) => (await stat(path.join(dataDir, 'repository', dir, f))).size));
  };

  /** Signals `run`, then checks that start.mjs, every process it ran and every port of the hub are gone within STOP_MS. */
  async function stopAndCheck(run: StartRun, signal: NodeJS.Signals, group: boolean): Promise<void> {
    const recorded = run.recordProcesses();
    for (const s of SERVICES) expect(recorded.map((p) => p.cmd).join('\n'), 'the processes of the hub').to.include(s);
    const t0 = Date.now();
    run.signal(signal, { group });
    const ended = await Promise.race([run.exited, sleep(STOP_MS).then(() => undefined)]);
    expect(ended, `start.mjs still runs ${STOP_MS / 1000} s after ${signal}:\n${run.tail()}`).to.not.equal(undefined);
    expect(ended, run.tail()).to.deep.equal({ code: 0, signal: null });
    while (run.leftovers().length > 0 && Date.now() - t0 < STOP_MS) await sleep(100);
    expect(run.leftovers(), `processes left ${STOP_MS / 1000} s after ${signal}`).to.deep.equal([]);
    for (const p of hubPorts(port)) expect(await listening(p), `something still listens on port ${p}`).to.equal(false);
    expect(run.output).to.include('[vaultflow] stopped');
    // each service ended through its own shutdown, not start.mjs's SIGKILL after 15 s
    for (const name of ['flows-api', 'flow-orchestrator', 'backup-worker']) expect(run.output, `${name} stopped cleanly`).to.include(`"msg":"${name} stopped"`);
    const disks = (await readdir(path.join(dataDir, 'vcsim'))).filter((e) => e.startsWith('govcsim-'));
    expect(disks, 'simulator disk folders left in DATA_DIR/vcsim').to.deep.equal([]);
  }

  before(async () => {
    if (!(await dependenciesInstalled())) {
      throw new Error('node_modules is not installed for the current pnpm-lock.yaml, so npm start would run pnpm install: run `npm test` (it installs first) or `pnpm install --frozen-lockfile` first');
    }
    depsBefore = dependencyState();
    dataDir = await mkdtemp(path.join(tmpdir(), 'vaultflow-start-'));
    port = await freeBasePort();
    env = hubEnv(port, dataDir, database, prefix);
  });

  // each step builds on the one before: after a failure the later steps are skipped (the last one always runs)
  let failed = false;
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });
  beforeEach(function () {
    if (failed && this.currentTest?.title !== LAST_STEP) this.skip();
  });

  after(async function () {
    this.timeout(60_000);
    for (const run of runs) run.kill();
    await Promise.race([Promise.all(runs.map((r) => r.exited)), sleep(10_000)]);
    await dropDatabase(database).catch((err: Error) => console.error(`could not drop ${database}: ${err.message}`));
    await deleteRedisPrefix(prefix).catch((err: Error) => console.error(`could not delete ${prefix}: ${err.message}`));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts the hub, sets a new hub up through the API and takes the first backup of the simulated VMs', async function () {
    this.timeout(FIRST_START_MS + 10_000);
    const t0 = Date.now();
    hub = start();
    await until(hub, FIRST_START_MS, 'answer of flows-api on /readyz', apiReady);
    const [, status] = await hub.waitFor(/first backup of the simulated VMs: (\w+)/, FIRST_START_MS - (Date.now() - t0), 'the end of the first backup', /first-run setup failed.*|flows-api did not become ready.*/);
    expect(status, hub.tail()).to.equal('success');
    expect(hub.output).to.not.include('installing dependencies');
    expect(hub.output).to.include('first-run setup: this hub has no vCenter and no repository yet');
    password = hub.output.match(/created the first user\.\s+username: admin\s+password: (\S+)/)?.[1] ?? '';
    expect(password, 'the admin password printed on first start').to.have.length.greaterThan(11);
    api = await login();
  });

  it('registered the simulated vCenter with its 3 VMs, the repository, the policy, the schedule, the group and the enabled flow', async () => {
    const vcenters = (await api.get('/api/v1/vcenters')).body;
    expect(vcenters.total).to.equal(1);
    expect(vcenters.vcenters[0]).to.include({ name: SETUP.vcenter, host: '127.0.0.1', port: port + 10, protocol: 'http', vm_count: 3, last_error: null });
    const vms = (await api.get(`/api/v1/vms?vcenter_id=${vcenters.vcenters[0].id}&inventory_status=present`)).body.vms as any[];
    expect(vms.map((v) => v.vm_name).sort()).to.deep.equal(VM_NAMES);

    const repositories = (await api.get('/api/v1/repositories')).body;
    expect(repositories.total).to.equal(1);
    repository = repositories.repositories[0];
    expect(repository).to.include({ name: SETUP.repository, repository_type: 'local', enabled: true });
    expect(repository.config.path).to.equal(path.join(dataDir, 'repository'));

    const policy = await named(api, 'policies', 'policies', SETUP.policy);
    expect(policy.retention).to.include({ keep_last: 24, keep_daily: 14 });
    const schedule = await named(api, 'schedules', 'schedules', SETUP.schedule);
    expect(schedule).to.include({ cron_expression: '0 * * * *', enabled: true });
    const group = await named(api, 'machine-groups', 'groups', SETUP.group);
    const members = (await api.get(`/api/v1/machine-groups/${group.id}/members`)).body.members as any[];
    expect(members.map((m) => m.vm_name).sort()).to.deep.equal(VM_NAMES);

    const flows = (await api.get('/api/v1/protection-flows')).body;
    expect(flows.total).to.equal(1);
    flow = flows.flows[0];
    expect(flow).to.include({ name: SETUP.flow, enabled: true, flow_type: 'backup', target_type: 'group', target_id: group.id, repository_id: repository.id, policy_id: policy.id, schedule_id: schedule.id });
  });

  it('ran the flow once: a successful execution whose restore points are on disk under DATA_DIR/repository', async () => {
    // the hourly schedule may fire during the test: only runs it did not start count as the first-run's
    const started = (await executions()).filter((e) => e.execution_type !== 'scheduled');
    expect(started, 'executions not started by the schedule').to.have.length(1);
    firstRun = started[0];
    expect(firstRun).to.include({ status: 'success', vms_processed: 3 });
    expect(firstRun.bytes_transferred).to.be.greaterThan(0);

    const backups = await backupsOf(firstRun.id);
    expect(backups.map((b) => [b.vm_name, b.status, b.backup_type]).sort()).to.deep.equal(VM_NAMES.map((n) => [n, 'success', 'full']));
    const listed = (await api.get('/api/v1/backups?status=success&limit=100')).body.backups as any[];
    expect(listed.map((b) => b.id)).to.include.members(backups.map((b) => b.id));

    expect(existsSync(path.join(dataDir, 'repository', 'config.json'))).to.equal(true);
    expect(await files('points', '.point')).to.have.length(3);
    const packBytes = (await files('packs', '.pack')).reduce((a, b) => a + b, 0);
    const stored = backups.reduce((a, b) => a + b.bytes_stored, 0);
    expect(stored).to.be.greaterThan(0);
    expect(packBytes, 'bytes in pack files').to.be.at.least(stored);

    const verify = await api.post(`/api/v1/repositories/${repository.id}/verify`);
    expect(verify.status, JSON.stringify(verify.body)).to.equal(200);
    expect(verify.body).to.include({ ok: true, points_checked: 3 });
    expect(verify.body.bytes_checked).to.be.greaterThan(0);

    // the first 64 KiB of a guest's first disk hold random data (lab-guests.mjs), read back from the repository
    const detail = (await api.get(`/api/v1/backups/${backups[0].id}`)).body;
    const key = Math.min(...(detail.disks as any[]).map((d) => d.disk_key));
    const image = await fetch(`http://127.0.0.1:${port}/api/v1/backups/${detail.id}/disks/${key}/image`, { headers: { authorization: `Bearer ${api.token}`, range: 'bytes=0-65535' } });
    expect(image.status).to.equal(206);
    const bytes = new Uint8Array(await image.arrayBuffer());
    expect(bytes.length).to.equal(65536);
    expect(bytes.some((b) => b !== 0), 'guest data read back from the restore point').to.equal(true);
  });

  it('runs the flow again on request: an incremental that carries the guests\' changes, far less than the first', async () => {
    const end = Date.now() + RUN_MS;
    let res = await api.post(`/api/v1/protection-flows/${flow.id}/execute`);
    while (res.status === 409 && res.body?.error?.code === 'EXECUTION_IN_PROGRESS' && Date.now() < end) {
      await sleep(2000); // a scheduled run (top of the hour) is running: the next one waits for it
      res = await api.post(`/api/v1/protection-flows/${flow.id}/execute`);
    }
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    const second = await until(hub, end - Date.now(), 'end of the second execution', async () => {
      const e = (await api.get(`/api/v1/protection-flows/${flow.id}/executions/${res.body.id}`)).body;
      return FINAL.includes(e.status) ? e : undefined;
    });
    expect(second, JSON.stringify(second)).to.include({ status: 'success', vms_processed: 3 });
    expect(second.bytes_transferred).to.be.greaterThan(0);
    expect(second.bytes_transferred).to.be.lessThan(firstRun.bytes_transferred);
    const backups = await backupsOf(second.id);
    expect(backups.map((b) => [b.vm_name, b.status, b.backup_type]).sort()).to.deep.equal(VM_NAMES.map((n) => [n, 'success', 'incremental']));
    expect(await files('points', '.point')).to.have.length.at.least(6);
    requestedRuns = (await executions()).filter((e) => e.execution_type !== 'scheduled').map((e) => e.id);
    expect(requestedRuns).to.have.members([firstRun.id, second.id]);
  });

  it('stops every process of the hub within 20 s on Ctrl-C (SIGINT to its process group)', async () => {
    await stopAndCheck(hub, 'SIGINT', true);
  });

  it('starts again with the same environment without repeating the first-run setup, and stops on SIGTERM', async function () {
    this.timeout(RESTART_MS + STOP_MS + 10_000);
    const t0 = Date.now();
    hub = start();
    await until(hub, RESTART_MS, 'answer of flows-api on /readyz', apiReady);
    await hub.waitFor(/\[vaultflow\] ready: http/, RESTART_MS - (Date.now() - t0), 'the ready line', /first-run setup failed.*/);
    expect(hub.output).to.match(/first-run setup not needed: the hub has 1 vCenter\(s\) and 1 repository/);
    expect(hub.output).to.not.include('first-run setup: this hub has no vCenter');
    expect(hub.output).to.not.include('first run: created');
    expect(hub.output).to.not.include('installing dependencies');
    expect(hub.output).to.not.include('created the first user');

    api = await login(); // the password printed on the first start still works
    for (const [collection, key, name] of [['vcenters', 'vcenters', SETUP.vcenter], ['repositories', 'repositories', SETUP.repository], ['protection-flows', 'flows', SETUP.flow]] as const) {
      const list = (await api.get(`/api/v1/${collection}`)).body;
      expect([list.total, list[key].map((x: { name: string }) => x.name)], collection).to.deep.equal([1, [name]]);
    }
    await named(api, 'policies', 'policies', SETUP.policy);
    await named(api, 'schedules', 'schedules', SETUP.schedule);
    await named(api, 'machine-groups', 'groups', SETUP.group);
    const now = (await executions()).filter((e) => e.execution_type !== 'scheduled').map((e) => e.id);
    expect(now, 'the restart ran no flow').to.deep.equal(requestedRuns);

    await stopAndCheck(hub, 'SIGTERM', false);
  });

  it(LAST_STEP, () => {
    expect(dependencyState()).to.deep.equal(depsBefore);
  });
});
