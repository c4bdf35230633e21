// First-run setup of `npm start` with the vCenter simulator: through the flows-api HTTP API (never the
// database), a hub that has no vCenter and no repository yet gets the simulated vCenter, a local
// repository, a retention policy, a schedule, a protection group of the simulated VMs and an enabled
// flow that protects them, and the flow runs once. Every step finds its object by name before it
// creates it, and DATA_DIR/first-run.json records an unfinished setup, so a setup interrupted half
// way resumes at the next start instead of being skipped; a finished one is never repeated.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The names of what the first run creates (found again by these names when a setup resumes). */
export const NAMES = {
  vcenter: 'Simulated vCenter (vcsim)',
  repository: 'Local repository',
  policy: 'Last 24 and 14 daily',
  schedule: 'Every hour',
  group: 'Simulated VMs',
  flow: 'Protect simulated VMs',
};

/** A small client of /api/v1 with a bearer token; non-2xx answers throw with the API's error code and message. */
export function apiClient(baseUrl, token) {
  return async (method, p, body) => {
    const res = await fetch(`${baseUrl}/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const e = json?.error;
      const fields = e?.details?.length ? ` (${e.details.map((d) => `${d.field}: ${d.message}`).join('; ')})` : '';
      throw Object.assign(new Error(`${method} /api/v1${p}: HTTP ${res.status} ${e?.code ?? ''} ${e?.message ?? text}${fields}`), { code: e?.code });
    }
    return json;
  };
}

async function findByName(api, collection, key, name) {
  const list = await api('GET', `/${collection}?search=${encodeURIComponent(name)}&limit=1000`);
  return list[key].find((x) => x.name === name);
}

/** Finds the object named `name` in `collection`, or creates it with `body`; logs which. */
async function ensure(api, log, what, collection, key, name, body) {
  const found = await findByName(api, collection, key, name);
  if (found) {
    log(`first run: ${what} "${name}" exists already (${found.id})`);
    return { ...found, created: false };
  }
  const made = await api('POST', `/${collection}`, { name, ...body });
  log(`first run: created ${what} "${name}" (${made.id})`);
  return { ...made, created: true };
}

function readMarker(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The machine's IANA time zone, for the schedule. */
function localTimeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The registration of the simulator of this start (plain http on loopback: vcsim has no TLS, so no thumbprint). */
function simulatorEndpoint(vcsim) {
  return { host: '127.0.0.1', port: vcsim.port, protocol: 'http', insecure: true, username: vcsim.user, password: vcsim.password };
}

/** Points a registered simulated vCenter at this start's simulator when VCSIM_PORT changed. */
async function followSimulatorPort(api, log, vcsim) {
  const vc = await findByName(api, 'vcenters', 'vcenters', NAMES.vcenter);
  if (!vc || vc.port === vcsim.port || vc.host !== '127.0.0.1') return vc;
  const moved = await api('PUT', `/vcenters/${vc.id}`, simulatorEndpoint(vcsim));
  log(`"${NAMES.vcenter}" now points at the simulator on port ${vcsim.port} (was ${vc.port})`);
  return moved;
}

async function setUp(api, log, { dataDir, vcsim }) {
  await followSimulatorPort(api, log, vcsim);
  const vc = await ensure(api, log, 'vCenter', 'vcenters', 'vcenters', NAMES.vcenter, simulatorEndpoint(vcsim));
  // Registration discovers at once; discover again so a resumed setup sees the simulator of this start.
  const found = await api('POST', `/vcenters/${vc.id}/discover`);
  log(`first run: discovered ${found.vms_found} VMs with ${found.disks} disks on the simulator`);
  const vms = (await api('GET', `/vms?vcenter_id=${vc.id}&inventory_status=present&limit=1000`)).vms;
  if (vms.length === 0) throw new Error('discovery found no VM on the simulated vCenter');

  const repo = await ensure(api, log, 'repository', 'repositories', 'repositories', NAMES.repository, {
    repository_type: 'local', config: { path: path.join(dataDir, 'repository') }, description: 'Restore points of this hub, on its own disk',
  });
  const policy = await ensure(api, log, 'retention policy', 'policies', 'policies', NAMES.policy, {
    retention: { keep_last: 24, keep_daily: 14 }, description: 'The last 24 restore points, and one a day for 14 days',
  });
  const schedule = await ensure(api, log, 'schedule', 'schedules', 'schedules', NAMES.schedule, {
    cron_expression: '0 * * * *', timezone: localTimeZone(), description: 'At minute 0 of every hour',
  });
  const group = await ensure(api, log, 'protection group', 'machine-groups', 'groups', NAMES.group, {
    description: 'The VMs of the simulated vCenter', max_concurrent_vms: 2,
  });
  // VMs already in the group are left as they are
  await api('POST', `/machine-groups/${group.id}/members`, { vm_context_ids: vms.map((v) => v.context_id) });
  log(`first run: "${NAMES.group}" holds the simulated VMs ${vms.map((v) => v.vm_name).join(', ')}`);
  const flow = await ensure(api, log, 'protection flow', 'protection-flows', 'flows', NAMES.flow, {
    flow_type: 'backup', target_type: 'group', target_id: group.id, repository_id: repo.id, policy_id: policy.id, schedule_id: schedule.id, enabled: true,
    description: 'Backs up every simulated VM into the local repository, every hour',
  });
  return { flow, repo, schedule };
}

/**
 * Runs the first-run setup when the hub has no vCenter and no repository yet (or a previous setup
 * did not finish), and starts the flow once. Resolves with `{ flowId, executionId }` when it set the
 * hub up and started the flow, or undefined when there was nothing to do (or the flow was running already).
 * Throws (with the API's message) when a step fails.
 */
export async function firstRun({ apiUrl, token, dataDir, database, vcsim, log }) {
  const api = apiClient(apiUrl, token);
  const markerFile = path.join(dataDir, 'first-run.json');
  const marker = readMarker(markerFile);
  const resume = marker?.database === database && marker.state === 'incomplete';
  const [vcenters, repositories] = await Promise.all([api('GET', '/vcenters?limit=1'), api('GET', '/repositories?limit=1')]);
  if (!resume && (vcenters.total > 0 || repositories.total > 0)) {
    log(`first-run setup not needed: the hub has ${vcenters.total} vCenter(s) and ${repositories.total} repositor${repositories.total === 1 ? 'y' : 'ies'}`);
    await followSimulatorPort(api, log, vcsim);
    return undefined;
  }
  log(resume ? 'first-run setup: resuming the setup an earlier start did not finish' : 'first-run setup: this hub has no vCenter and no repository yet; setting up the simulated lab through the API');
  writeFileSync(markerFile, JSON.stringify({ database, state: 'incomplete', at: new Date().toISOString() }) + '\n');
  const { flow, repo, schedule } = await setUp(api, log, { dataDir, vcsim });
  // a resumed setup may find the flow running already (its schedule, or an operator): then that run is the first
  const execution = await api('POST', `/protection-flows/${flow.id}/execute`).catch((err) => {
    if (err.code !== 'EXECUTION_IN_PROGRESS') throw err;
    return undefined;
  });
  writeFileSync(markerFile, JSON.stringify({ database, state: 'done', at: new Date().toISOString(), flow_id: flow.id }) + '\n');
  log(`first run: done. Flow "${NAMES.flow}" protects the simulated VMs into ${repo.config.path} every hour (${schedule.timezone}); ${execution ? `its first execution ${execution.id} runs now` : 'an execution of it is running already'}`);
  return execution ? { flowId: flow.id, executionId: execution.id } : undefined;
}

/** Polls an execution until it ends and logs the outcome (for the first run's execution; never throws). */
export async function reportExecution({ apiUrl, token, flowId, executionId, log, timeoutMs = 30 * 60_000 }) {
  const api = apiClient(apiUrl, token);
  const end = Date.now() + timeoutMs;
  try {
    while (Date.now() < end) {
      const e = await api('GET', `/protection-flows/${flowId}/executions/${executionId}`);
      if (['success', 'warning', 'error', 'cancelled'].includes(e.status)) {
        const mib = (e.bytes_transferred / 1024 / 1024).toFixed(1);
        log(`first backup of the simulated VMs: ${e.status}, ${e.vms_processed} VM(s), ${mib} MiB transferred${e.error_message ? ` (${e.error_message})` : ''}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 2000).unref());
    }
    log(`first backup of the simulated VMs is still running after ${timeoutMs / 60_000} minutes; see the flow's executions`);
  } catch (err) {
    log(`could not follow the first backup: ${err.message}`);
  }
}
