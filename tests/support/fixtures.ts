import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { TestHub } from './hub.js';
import { unique } from './hub.js';

/**
 * Builders for the objects a flow needs. VMs come from vCenter discovery in the product; until a
 * test drives discovery, they are written through the data layer, as the inventory would be.
 */
export async function makeVcenter(hub: TestHub): Promise<string> {
  return makeVcenterRow(hub);
}

/**
 * A vCenter row written through the data layer, as registration would store it but without its
 * live login check (the host does not exist): for tests that need a vCenter to hang VMs on.
 */
export async function makeVcenterRow(hub: TestHub, over: { name?: string; host?: string; port?: number; username?: string; password?: string; enabled?: boolean } = {}): Promise<string> {
  const id = randomUUID();
  const secrets = (hub.api.services.vcenters as unknown as { secrets: { encrypt(plain: string): string } }).secrets;
  await hub.api.stores.vcenters.insert(id, {
    name: over.name ?? unique('vc'),
    host: over.host ?? `vc-${randomUUID().slice(0, 8)}.lab.local`,
    port: over.port ?? 443,
    protocol: 'https',
    username: over.username ?? 'administrator@vsphere.local',
    password_encrypted: secrets.encrypt(over.password ?? 'S3cret!pass'),
    tls_thumbprint: null,
    insecure: true,
    enabled: over.enabled ?? true,
    created_by: 'fixtures',
  });
  return id;
}

export async function makeVm(hub: TestHub, over: Record<string, unknown> = {}): Promise<string> {
  const vcenterId = (over.vcenter_id as string | undefined) ?? (await makeVcenter(hub));
  const id = randomUUID();
  await hub.api.stores.vms.upsert(id, {
    vcenter_id: vcenterId,
    vm_name: unique('vm'),
    moref: `vm-${Math.floor(Math.random() * 1e9)}`,
    uuid: randomUUID(),
    datacenter: 'DC0',
    cluster: 'C0',
    esx_host: 'esx-1',
    folder: '/DC0/vm',
    power_state: 'poweredOn',
    guest_os: 'ubuntu64Guest',
    num_cpu: 2,
    memory_mb: 4096,
    cbt_enabled: true,
    inventory_status: 'present',
    last_seen_at: new Date(),
    ...over,
  } as never);
  return id;
}

export async function makeRepository(hub: TestHub, over: Record<string, unknown> = {}): Promise<{ id: number; name: string; path: string }> {
  const name = unique('repo');
  const p = path.join(hub.dataDir, randomUUID());
  const r = await hub.admin.post('/api/v1/repositories', { name, repository_type: 'local', config: { path: p }, ...over });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return { id: r.body.id, name, path: p };
}

export async function makePolicy(hub: TestHub): Promise<number> {
  const r = await hub.admin.post('/api/v1/policies', { name: unique('policy'), retention: { keep_last: 7, keep_weekly: 4 } });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body.id;
}

export async function makeSchedule(hub: TestHub, cron = '0 2 * * *', timezone = 'UTC'): Promise<string> {
  const r = await hub.admin.post('/api/v1/schedules', { name: unique('schedule'), cron_expression: cron, timezone });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body.id;
}

export async function makeGroup(hub: TestHub, vmIds: string[] = []): Promise<string> {
  const r = await hub.admin.post('/api/v1/machine-groups', { name: unique('group'), max_concurrent_vms: 2, priority: 60 });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  if (vmIds.length) {
    const m = await hub.admin.post(`/api/v1/machine-groups/${r.body.id}/members`, { vm_context_ids: vmIds });
    if (m.status !== 200) throw new Error(JSON.stringify(m.body));
  }
  return r.body.id;
}

export async function makeBackupFlow(hub: TestHub, over: Record<string, unknown> = {}) {
  const vm = await makeVm(hub);
  const repo = await makeRepository(hub);
  const r = await hub.admin.post('/api/v1/protection-flows', { name: unique('flow'), flow_type: 'backup', target_type: 'vm', target_id: vm, repository_id: repo.id, ...over });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body;
}
