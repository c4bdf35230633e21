import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startVcsim, type Vcsim } from '@vaultflow/testing';
import { startEngineHub, type EngineHub } from '../support/engine-hub.js';
import { launchChromium, screenshot, watchErrors } from './support/browser.js';
import { ensureGuiBuilt } from './support/gui-build.js';

// The web console in Debian's chromium against a real hub started here: flows-api (serving the built
// console), the orchestrator and a VM processor (the engine's job lifecycle around scripted work that
// takes a few seconds, so progress can be watched), on this run's MariaDB database and Redis prefix.
// VMs come from the vCenter simulator, registered and discovered through the Settings page.

const FLOWS = '/api/v1/protection-flows';
const VM_SECONDS = 5;

describe('web console (chromium, end to end)', function () {
  this.timeout(120_000);
  let hub: EngineHub;
  let vc: Vcsim;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const tag = randomBytes(2).toString('hex');
  const admin = { username: `e2e-admin-${tag}`, password: `pw-${randomBytes(9).toString('hex')}` };
  const viewer = { username: `e2e-viewer-${tag}`, password: `pw-${randomBytes(9).toString('hex')}` };
  const names = { group: `Web tier ${tag}`, flow: `Nightly web ${tag}`, repo: `Primary ${tag}`, vc: `Lab vCenter ${tag}` };
  let groupId: string;
  let flowId: string;
  let repoId: number;

  const url = (p: string) => `${hub.url}${p}`;
  const flowRow = (name: string): Locator => page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
  const dialog = (name: string | RegExp): Locator => page.getByRole('dialog', { name });

  async function signIn(p: Page, who: { username: string; password: string }) {
    await p.getByLabel('Username').fill(who.username);
    await p.getByLabel('Password').fill(who.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
  }

  before(async function () {
    this.timeout(120_000);
    ensureGuiBuilt();
    hub = await startEngineHub({ defaults: { delayMs: VM_SECONDS * 1000, bytes: 48 * 1024 * 1024 } });
    vc = await startVcsim({ vms: 3, disks: 1, diskMb: 8 });
    for (const [who, role] of [[admin, 'admin'], [viewer, 'viewer']] as const) {
      const r = await hub.admin.post('/api/v1/users', { ...who, role });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
    }
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: 'Europe/Berlin' });
    page = await context.newPage();
    page.setDefaultTimeout(30_000); // generous: the CI machine may be busy
    errors = watchErrors(page);
  });

  afterEach(async function () {
    // a failed step leaves a picture of the page and what the page reported
    if (this.currentTest?.state !== 'failed' || !page) return;
    await screenshot(page, `failed-${this.currentTest.title.slice(0, 40).replace(/[^A-Za-z0-9]+/g, '-')}`).catch(() => undefined);
    if (errors.length) console.error(`page errors so far:\n${errors.join('\n')}`);
  });

  after(async () => {
    await browser?.close();
    await vc?.stop();
    await hub?.stopAll();
  });

  it('serves the console at / and its pages, but never swallows the API, the queue board or the probes', async () => {
    const html = await fetch(url('/protection-flows/some-id'), { headers: { accept: 'text/html' } });
    expect(html.status).to.equal(200);
    expect(await html.text()).to.include('<div id="root">');
    expect(html.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
    const json = await fetch(url('/'), { headers: { accept: 'application/json' } });
    expect((await json.json()) as object).to.include({ api: '/api/v1' });
    const api = await fetch(url('/api/v1/protection-flows'), { headers: { accept: 'text/html' } });
    expect(api.status).to.equal(401);
    const missing = await fetch(url('/api/v1/no-such-route'), { headers: { accept: 'text/html' } });
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).to.equal('ROUTE_NOT_FOUND');
    const board = await fetch(url('/admin/queues'), { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(board.status).to.equal(302);
    expect(board.headers.get('location')).to.equal('/login?next=/admin/queues');
    expect((await fetch(url('/healthz'), { headers: { accept: 'text/html' } })).headers.get('content-type')).to.match(/json/);
  });

  it('sends a visitor to /login, refuses a wrong password with what to do, and signs in', async () => {
    await page.goto(url('/protection-flows'));
    await page.waitForURL(/\/login\?next=%2Fprotection-flows$/);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Username is required').waitFor();
    await page.getByText('Password is required').waitFor();
    await signIn(page, { username: admin.username, password: 'not the password' });
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).getByText('Check the username and password').waitFor();
    await screenshot(page, '01-login');
    await signIn(page, admin);
    await page.waitForURL(url('/protection-flows'));
    await page.getByRole('heading', { name: 'Protection Flows' }).waitFor();
    await page.getByText('No protection flows yet').waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Create flow' }).waitFor(); // the session survives a reload
  });

  it('registers the simulated vCenter after a connection test, and its VMs are discovered', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Register vCenter' }).click();
    const form = dialog('Register vCenter');
    const sim = new URL(vc.url);
    await form.getByLabel('Name', { exact: true }).fill(names.vc);
    await form.getByLabel('Host').fill(sim.hostname);
    await form.getByLabel('Port').fill(sim.port);
    await form.getByLabel('Protocol').selectOption('http');
    await form.getByLabel('vCenter user').fill(vc.username);
    await form.getByLabel('vCenter password').fill('wrong-password');
    await form.getByLabel('Trust any certificate').check();
    await form.getByRole('button', { name: 'Test connection and register' }).click();
    // the API names the password field: the message sits under it
    await form.locator('.field', { has: page.getByLabel('vCenter password') }).locator('.field-error').waitFor();
    await form.getByLabel('vCenter password').fill(vc.password);
    await form.getByRole('button', { name: 'Test connection and register' }).click();
    await form.waitFor({ state: 'detached' });
    const row = page.getByRole('row').filter({ hasText: names.vc });
    await row.getByRole('cell', { name: '3', exact: true }).waitFor();
    await screenshot(page, '02-settings');
  });

  it('creates a repository, showing its capacity', async () => {
    await page.goto(url('/repositories'));
    await page.getByRole('button', { name: 'Create repository' }).click();
    const form = dialog('Create repository');
    await form.getByLabel('Name', { exact: true }).fill(names.repo);
    await form.getByLabel('Path').fill('relative/path');
    await form.getByRole('button', { name: 'Create repository' }).click();
    await form.getByText(/^Path must be an absolute path on the hub/).waitFor(); // the API's own schema, checked before sending
    await form.getByLabel('Path').fill(path.join(hub.dataDir, `repo-${tag}`));
    await form.getByRole('button', { name: 'Create repository' }).click();
    await form.waitFor({ state: 'detached' });
    const row = page.getByRole('row').filter({ hasText: names.repo });
    await row.getByRole('button', { name: `Check capacity of ${names.repo} now` }).click();
    await row.getByRole('meter').waitFor();
    repoId = (await hub.admin.get(`/api/v1/repositories?search=${encodeURIComponent(names.repo)}`)).body.repositories[0].id;
    await screenshot(page, '03-repositories');
    await row.getByRole('button', { name: `Verify ${names.repo}` }).click();
    const verify = dialog(`Verify ${names.repo}`);
    await verify.getByText('Every restore point is intact. Checked 0 restore points').waitFor();
    await verify.getByRole('button', { name: 'Close', exact: true }).last().click();
  });

  it('creates a protection group and adds two discovered VMs to it', async () => {
    await page.goto(url('/protection-groups'));
    await page.getByText('No protection groups yet').waitFor();
    await page.getByRole('button', { name: 'Create group' }).click();
    const form = dialog('Create group');
    await form.getByLabel('Name', { exact: true }).fill(names.group);
    await form.getByLabel('Concurrent VMs').fill('2');
    await form.getByRole('button', { name: 'Create group' }).click();
    await form.waitFor({ state: 'detached' });
    const add = page.getByRole('region', { name: 'Add VMs' });
    const boxes = add.getByRole('checkbox');
    await boxes.nth(2).waitFor();
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await add.getByRole('button', { name: 'Add 2 selected VMs' }).click();
    const members = page.getByRole('table', { name: `Members of ${names.group}` });
    await members.getByRole('row').nth(2).waitFor(); // header + 2 members
    expect(await members.getByRole('row').count()).to.equal(3);
    const groups = (await hub.admin.get(`/api/v1/machine-groups?search=${encodeURIComponent(names.group)}`)).body.groups;
    expect(groups[0]).to.include({ member_count: 2, enabled_member_count: 2, max_concurrent_vms: 2 });
    groupId = groups[0].id;
    await screenshot(page, '04-groups');
  });

  it('creates a flow for the group with a new schedule defined inline, whose next runs the hub computes', async () => {
    await page.goto(url('/protection-flows'));
    await page.getByRole('button', { name: 'Create flow' }).click();
    const form = dialog('Create flow');
    await form.getByRole('button', { name: 'Create flow' }).click();
    await form.getByText('Name is required').waitFor();
    await form.getByText('Repository is required for a backup flow').waitFor();
    await form.getByLabel('Name', { exact: true }).fill(names.flow);
    await form.getByLabel('A protection group').check();
    await form.getByLabel('Protection group', { exact: true }).selectOption(groupId);
    await form.getByLabel('Repository').selectOption(String(repoId));
    await form.getByLabel('Schedule', { exact: true }).selectOption('new');
    await form.getByLabel('Cron expression').fill('30 1 * * 1-5');
    await form.getByText('Runs at 01:30, Monday through Friday.').waitFor();
    // the hub computes the next runs of the unsaved schedule (POST /schedules/preview) before anything is saved
    const fires = form.getByRole('region', { name: 'Next runs' }).getByRole('listitem');
    await fires.nth(4).waitFor();
    expect(await fires.count()).to.equal(5);
    const saved = (await hub.admin.get('/api/v1/schedules?limit=1000')).body.schedules as { cron_expression: string }[];
    expect(saved.filter((s) => s.cron_expression === '30 1 * * 1-5'), 'nothing saved yet').to.deep.equal([]);
    await screenshot(page, '05-create-flow');
    await form.getByRole('button', { name: 'Create flow' }).click();
    await form.waitFor({ state: 'detached' });
    const row = flowRow(names.flow);
    await row.getByText('At 01:30, Monday through Friday').waitFor();
    await row.getByText('Never run').waitFor();
    const flows = (await hub.admin.get(`${FLOWS}?search=${encodeURIComponent(names.flow)}`)).body.flows;
    expect(flows[0]).to.include({ target_type: 'group', target_id: groupId, repository_id: repoId, schedule_cron: '30 1 * * 1-5', schedule_timezone: 'Europe/Berlin', enabled: true });
    flowId = flows[0].id;
  });

  it('"Test" shows the dry-run checks', async () => {
    await flowRow(names.flow).getByRole('button', { name: 'Test', exact: true }).click();
    const d = dialog(`Test: ${names.flow}`);
    await d.getByText('Ready to run').waitFor();
    const checks = d.getByRole('list', { name: 'Checks' }).getByRole('listitem');
    await checks.filter({ hasText: `Protection group "${names.group}": 2 enabled of 2 VMs` }).waitFor();
    await checks.filter({ hasText: 'No retention policy' }).waitFor();
    await screenshot(page, '06-test-flow');
    await d.getByRole('button', { name: 'Close', exact: true }).last().click();
    await d.waitFor({ state: 'detached' });
  });

  it('"Run now" starts an execution; the row shows it running with progress until it succeeds', async function () {
    this.timeout(90_000);
    const row = flowRow(names.flow);
    await row.getByRole('button', { name: 'Run now', exact: true }).click();
    const bar = row.getByRole('progressbar');
    await bar.waitFor();
    const seen = new Set<number>();
    let shot = false;
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      if (await row.getByText('Success', { exact: true }).isVisible()) break;
      const now = await bar.getAttribute('aria-valuenow', { timeout: 1000 }).catch(() => null);
      if (now !== null) seen.add(Number(now));
      if (!shot && now !== null && Number(now) > 0) {
        await screenshot(page, '07-flow-running');
        shot = true;
      }
      await page.waitForTimeout(250);
    }
    await row.getByText('Success', { exact: true }).waitFor({ timeout: 5_000 });
    expect([...seen].some((v) => v > 0 && v < 100), `progress values seen: ${[...seen]}`).to.equal(true);
    await row.getByText('100% (1/1)').waitFor();
    await screenshot(page, '08-flow-success');
  });

  it('the details page shows configuration, next five runs, the history, per-VM rows and the job log', async () => {
    await flowRow(names.flow).getByRole('link', { name: names.flow }).click();
    await page.waitForURL(url(`/protection-flows/${flowId}`));
    await page.getByRole('heading', { name: names.flow }).waitFor();
    expect(await page.getByRole('region', { name: 'Next five runs' }).getByRole('listitem').count()).to.equal(5);
    const history = page.getByRole('table', { name: 'Execution history' });
    const exec = history.getByRole('row').filter({ hasText: 'Success' });
    await exec.getByText(admin.username).waitFor();
    await exec.getByRole('button', { name: /Show details/ }).click();
    const vms = page.getByRole('table', { name: 'VMs of this execution' });
    await vms.getByRole('row').nth(2).waitFor();
    const bars = vms.getByRole('progressbar');
    expect([await bars.nth(0).getAttribute('aria-valuenow'), await bars.nth(1).getAttribute('aria-valuenow')]).to.deep.equal(['100', '100']);
    const log = page.getByRole('region', { name: 'Job log' });
    await log.getByText('vm-start').first().waitFor();
    expect(page.url()).to.match(/\?execution=/); // the opened execution is part of the URL
    await screenshot(page, '09-flow-details');
  });

  it('disables the flow with its Enabled switch', async () => {
    const sw = page.getByRole('switch', { name: 'Enabled' });
    expect(await sw.getAttribute('aria-checked')).to.equal('true');
    await sw.click();
    await page.locator('[role=switch][aria-checked=false]').waitFor();
    expect((await hub.admin.get(`${FLOWS}/${flowId}`)).body.enabled).to.equal(false);
    await page.getByRole('button', { name: 'Run now', exact: true }).isDisabled().then((d) => expect(d).to.equal(true));
  });

  it('bulk-deletes two flows after a confirmation that names them', async () => {
    const extra: { id: string; name: string }[] = [];
    for (const n of ['A', 'B']) {
      const name = `Bulk ${n} ${tag}`;
      const r = await hub.admin.post(FLOWS, { name, flow_type: 'backup', target_type: 'group', target_id: groupId, repository_id: repoId });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      extra.push({ id: r.body.id, name });
    }
    await page.goto(url('/protection-flows'));
    for (const f of extra) await page.getByRole('checkbox', { name: `Select ${f.name}` }).check();
    await page.getByRole('region', { name: 'Selected flows' }).getByText('2 flows').waitFor();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const d = dialog('Delete 2 flows');
    for (const f of extra) await d.getByText(f.name).waitFor();
    await screenshot(page, '10-bulk-delete');
    await d.getByRole('button', { name: 'Delete 2 flows' }).click();
    await d.waitFor({ state: 'detached' });
    for (const f of extra) {
      await flowRow(f.name).waitFor({ state: 'detached' });
      expect((await hub.admin.get(`${FLOWS}/${f.id}`)).status).to.equal(404);
    }
    await flowRow(names.flow).waitFor();
  });

  it('a viewer sees no buttons it may not use, and the API refuses those changes anyway', async () => {
    const vctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const v = await vctx.newPage();
    v.setDefaultTimeout(30_000);
    const verrors = watchErrors(v);
    try {
      await v.goto(url('/login'));
      await signIn(v, viewer);
      await v.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await v.goto(url('/protection-flows'));
      const row = v.getByRole('row').filter({ has: v.getByRole('link', { name: names.flow, exact: true }) });
      await row.getByRole('button', { name: 'Test', exact: true }).waitFor();
      for (const name of ['Run now', 'Edit', 'Delete']) expect(await row.getByRole('button', { name, exact: true }).count(), name).to.equal(0);
      expect(await row.getByRole('switch').count()).to.equal(0);
      expect(await v.getByRole('button', { name: 'Create flow' }).count()).to.equal(0);
      expect(await v.getByRole('checkbox').count()).to.equal(0);
      await screenshot(v, '11-viewer-flows');
      const login = await hub.anonymous.post('/api/v1/auth/login', viewer);
      const api = hub.anonymous.as(login.body.token);
      expect((await api.put(`${FLOWS}/${flowId}`, { name: 'renamed by a viewer' })).status).to.equal(403);
      expect((await api.post(`${FLOWS}/${flowId}/execute`)).status).to.equal(403);
      expect((await api.patch(`${FLOWS}/${flowId}/enable`)).status).to.equal(403);
      expect((await api.post(`${FLOWS}/bulk-delete`, { flow_ids: [flowId] })).status).to.equal(403);
      expect((await api.get(`${FLOWS}/${flowId}`)).body.name).to.equal(names.flow);
      expect(verrors).to.deep.equal([]);
    } finally {
      await vctx.close();
    }
  });

  it('every page renders from the API without errors, and signing out ends the session', async () => {
    const pages: [string, string][] = [
      ['/', 'Dashboard'],
      ['/vms', 'Virtual Machines'],
      ['/schedules', 'Schedules'],
      ['/policies', 'Policies'],
      ['/backups', 'Backups'],
      ['/protection-groups', 'Protection Groups'],
    ];
    for (const [p, title] of pages) {
      await page.goto(url(p));
      await page.getByRole('heading', { name: title, level: 1 }).waitFor();
      await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' }).catch(() => undefined);
      await screenshot(page, `12-page${p === '/' ? '-dashboard' : p.replace(/\//g, '-')}`);
    }
    await page.goto(url('/vms'));
    await page.getByRole('button', { name: 'DC0_H0_VM0' }).click();
    await page.getByRole('link', { name: names.flow }).waitFor(); // protected by the flow, through its group
    await page.getByRole('region', { name: 'Back up DC0_H0_VM0 now' }).waitFor();
    await screenshot(page, '13-vm-detail');
    await page.goto(url('/'));
    await page.getByRole('list', { name: 'Summary' }).getByText('Protection flows').waitFor();
    // the queue board opens with the session cookie set at sign-in
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queues' }).click();
    await page.waitForURL(url('/admin/queues'));
    await page.getByText('Vaultflow queues').first().waitFor();
    await page.goto(url('/'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(url('/login'));
    await page.goto(url('/settings'));
    await page.waitForURL(/\/login\?next=%2Fsettings$/);
    await page.goto(url('/admin/queues'));
    await page.waitForURL(/\/login\?next=\/admin\/queues$/);
    await page.getByText('Sign in to open the queue board.').waitFor();
    expect(errors).to.deep.equal([]);
  });
});
