import type { VmDiskRecord, VmRecord, VmWrite } from '@vaultflow/db';
import { POWER_STATES, type PowerState } from '@vaultflow/domain';
import type { DiscoveredDisk, DiscoveredVm } from './vcenter-connector.js';

/** A VM of the inventory as discovery compares it. */
export interface StoredVm {
  vm: VmRecord;
  disks: VmDiskRecord[];
}

/** What one discovery run writes; see {@link planDiscovery}. */
export interface DiscoveryPlan {
  /** VMs new to the inventory. */
  add: { write: VmWrite; disks: VmDiskRecord[] }[];
  /**
   * Known VMs whose data or disks changed, or that were missing and are listed again. `morefChanged`:
   * the VM was recognised by its instance UUID under a new moref (unregistered and registered again).
   */
  update: { contextId: string; write: VmWrite; disks: VmDiskRecord[]; disksChanged: boolean; morefChanged?: boolean }[];
  /** Known VMs found as they were: only `last_seen_at` moves. */
  unchanged: string[];
  /** Present VMs the vCenter no longer lists: to be marked missing. */
  vanished: string[];
  /** VMs listed (templates excluded). */
  found: number;
  /** The vCenter's VMs that are missing once the plan is written (vanished now or before). */
  missing: number;
  /** Disks of the VMs listed. */
  disks: number;
}

// The widths of the vm_contexts / vm_disks columns: a vCenter that sends more must not fail the run.
const clip = (s: string | null, n: number): string | null => (s === null ? null : s.length > n ? s.slice(0, n) : s);

function powerState(s: string | null): PowerState {
  return (POWER_STATES as readonly string[]).includes(s ?? '') ? (s as PowerState) : 'unknown';
}

/** The vm_contexts columns discovery writes for a listed VM. */
export function toVmWrite(vcenterId: string, d: DiscoveredVm, seenAt: Date): VmWrite {
  return {
    vcenter_id: vcenterId,
    vm_name: (d.name || d.moref).slice(0, 255),
    moref: d.moref,
    uuid: clip(d.instance_uuid, 64),
    datacenter: clip(d.datacenter, 255),
    cluster: clip(d.cluster, 255),
    esx_host: clip(d.host, 255),
    folder: clip(d.folder, 1024),
    power_state: powerState(d.power_state),
    guest_os: clip(d.guest_os, 255),
    num_cpu: d.num_cpu,
    memory_mb: d.memory_mb,
    cbt_enabled: d.cbt_enabled,
    inventory_status: 'present',
    last_seen_at: seenAt,
  };
}

/** The vm_disks rows of a listed VM, sorted by key. */
export function toDiskRecords(disks: DiscoveredDisk[]): VmDiskRecord[] {
  return disks
    .map((d) => ({
      disk_key: d.disk_key,
      disk_uuid: clip(d.disk_uuid, 64),
      label: clip(d.label, 255),
      capacity_bytes: d.capacity_bytes,
      datastore_path: clip(d.datastore_path, 1024),
      disk_mode: clip(d.disk_mode, 64),
    }))
    .sort((a, b) => a.disk_key - b.disk_key);
}

const COMPARED = ['vm_name', 'uuid', 'datacenter', 'cluster', 'esx_host', 'folder', 'power_state', 'guest_os', 'num_cpu', 'memory_mb', 'cbt_enabled', 'inventory_status'] as const;
const DISK_FIELDS = ['disk_key', 'disk_uuid', 'label', 'capacity_bytes', 'datastore_path', 'disk_mode'] as const;

function sameDisks(a: VmDiskRecord[], b: VmDiskRecord[]): boolean {
  const sorted = [...a].sort((x, y) => x.disk_key - y.disk_key);
  return sorted.length === b.length && sorted.every((d, i) => DISK_FIELDS.every((f) => d[f] === b[i]![f]));
}

/**
 * Compares what a vCenter lists with what the inventory holds for it. VMs are identified by moref
 * within their vCenter, or, when the moref is new, by instance UUID: a VM unregistered and registered
 * again (new moref, same VM) keeps its context, its backups and its history, provided its old moref
 * is no longer listed. Templates are not inventoried (they cannot be snapshotted). A VM that is not
 * listed is never deleted: it is marked missing, and a missing VM listed again is updated back to
 * present. Pure: the caller writes the plan in one transaction.
 */
export function planDiscovery(vcenterId: string, stored: StoredVm[], listed: DiscoveredVm[], seenAt: Date): DiscoveryPlan {
  const byMoref = new Map(stored.map((s) => [s.vm.moref, s]));
  const listedMorefs = new Set(listed.filter((d) => !d.template).map((d) => d.moref));
  // Only VMs whose moref vanished may be found again by UUID; a UUID shared by two stored VMs is ambiguous.
  const byUuid = new Map<string, StoredVm | null>();
  for (const s of stored) {
    if (!s.vm.uuid || listedMorefs.has(s.vm.moref)) continue;
    byUuid.set(s.vm.uuid, byUuid.has(s.vm.uuid) ? null : s);
  }
  const plan: DiscoveryPlan = { add: [], update: [], unchanged: [], vanished: [], found: 0, missing: 0, disks: 0 };
  const seen = new Set<string>();
  const matched = new Set<string>();
  for (const d of listed) {
    if (d.template || seen.has(d.moref)) continue;
    seen.add(d.moref);
    const write = toVmWrite(vcenterId, d, seenAt);
    const disks = toDiskRecords(d.disks);
    plan.found++;
    plan.disks += disks.length;
    let known = byMoref.get(d.moref);
    let morefChanged = false;
    if (!known && write.uuid) {
      const again = byUuid.get(write.uuid);
      if (again && !matched.has(again.vm.context_id)) {
        known = again;
        morefChanged = true;
      }
    }
    if (!known) {
      plan.add.push({ write, disks });
      continue;
    }
    matched.add(known.vm.context_id);
    const disksChanged = !sameDisks(known.disks, disks);
    if (!morefChanged && !disksChanged && COMPARED.every((f) => known.vm[f] === write[f])) plan.unchanged.push(known.vm.context_id);
    else plan.update.push({ contextId: known.vm.context_id, write, disks, disksChanged, ...(morefChanged ? { morefChanged } : {}) });
  }
  for (const s of stored) {
    if (matched.has(s.vm.context_id)) continue;
    plan.missing++;
    if (s.vm.inventory_status === 'present') plan.vanished.push(s.vm.context_id);
  }
  return plan;
}
