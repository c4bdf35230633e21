import { parseMoRef } from './moref.js';
import type { ObjectContent } from './property-collector.js';
import type { DiskSkipReason, MoRef, SnapshotNode, VirtualDiskInfo, VmInfo } from './types.js';
import { child, childBool, childInt, childrenNamed, childText, toInt, xsiType, type XmlElement } from './xml.js';

// Pure readers of the property values the client fetches; both the vcsim and the vCenter spelling
// of xsi:type reach them through xsiType(), which matches the namespace, not the prefix.

/** The VM properties {@link parseVm} reads. */
export const VM_PROPERTIES = [
  'name', 'parent', 'config.instanceUuid', 'config.uuid', 'config.version', 'config.guestId', 'config.guestFullName',
  'config.template', 'config.hardware.numCPU', 'config.hardware.memoryMB', 'config.changeTrackingEnabled',
  'config.hardware.device', 'runtime.powerState', 'runtime.host', 'runtime.consolidationNeeded', 'snapshot',
];

function skipReason(diskMode: string | undefined, sharing: string | undefined, backingType: string | undefined, compat: string | undefined): DiskSkipReason | undefined {
  if (backingType?.startsWith('VirtualDiskRawDiskMapping') && compat === 'physicalMode') return 'physical-rdm';
  if (diskMode?.startsWith('independent')) return 'independent';
  if (sharing === 'sharingMultiWriter') return 'multi-writer';
  return undefined;
}

/** Reads one `VirtualDevice` element if it is a VirtualDisk; undefined for any other device. */
export function parseVirtualDisk(dev: XmlElement): VirtualDiskInfo | undefined {
  if (xsiType(dev) !== 'VirtualDisk') return undefined;
  const key = childInt(dev, 'key');
  if (key === undefined) return undefined;
  const backing = child(dev, 'backing');
  const backingType = xsiType(backing);
  const bytes = childInt(dev, 'capacityInBytes');
  const kb = childInt(dev, 'capacityInKB');
  const diskMode = childText(backing, 'diskMode');
  const sharing = childText(backing, 'sharing');
  const compatibilityMode = childText(backing, 'compatibilityMode');
  return {
    key,
    label: childText(child(dev, 'deviceInfo'), 'label'),
    capacityBytes: bytes !== undefined && bytes > 0 ? bytes : (kb ?? 0) * 1024,
    backingType,
    fileName: childText(backing, 'fileName'),
    uuid: childText(backing, 'uuid') || undefined,
    changeId: childText(backing, 'changeId') || undefined,
    diskMode,
    sharing,
    compatibilityMode,
    datastore: parseMoRef(child(backing, 'datastore')),
    controllerKey: childInt(dev, 'controllerKey'),
    unitNumber: childInt(dev, 'unitNumber'),
    skipReason: skipReason(diskMode, sharing, backingType, compatibilityMode),
  };
}

/** The VirtualDisks of an `ArrayOfVirtualDevice` value, sorted by key. */
export function parseDisks(devices: XmlElement | undefined): VirtualDiskInfo[] {
  return childrenNamed(devices, 'VirtualDevice')
    .map(parseVirtualDisk)
    .filter((d): d is VirtualDiskInfo => d !== undefined)
    .sort((a, b) => a.key - b.key);
}

function parseSnapshotTree(tree: XmlElement): SnapshotNode | undefined {
  const ref = parseMoRef(child(tree, 'snapshot'));
  if (!ref) return undefined;
  return {
    ref,
    name: childText(tree, 'name') ?? '',
    description: childText(tree, 'description') ?? '',
    createTime: childText(tree, 'createTime'),
    quiesced: childBool(tree, 'quiesced') ?? false,
    children: childrenNamed(tree, 'childSnapshotList').map(parseSnapshotTree).filter((n): n is SnapshotNode => n !== undefined),
  };
}

/** Reads a `VirtualMachineSnapshotInfo` value: the root snapshots with their children, and the current one. */
export function parseSnapshotInfo(info: XmlElement | undefined): { roots: SnapshotNode[]; current: MoRef | undefined } {
  return {
    roots: childrenNamed(info, 'rootSnapshotList').map(parseSnapshotTree).filter((n): n is SnapshotNode => n !== undefined),
    current: parseMoRef(child(info, 'currentSnapshot')),
  };
}

/** Every node of a snapshot tree, parents before children. */
export function flattenSnapshots(roots: SnapshotNode[]): SnapshotNode[] {
  return roots.flatMap((n) => [n, ...flattenSnapshots(n.children)]);
}

/** Where a VM sits, as resolved by the inventory walk (see inventory.ts). */
export interface VmPlacement {
  datacenter?: string | undefined;
  cluster?: string | undefined;
  host?: string | undefined;
  folder?: string | undefined;
}

/** Builds a {@link VmInfo} from a VM's ObjectContent (fetched with {@link VM_PROPERTIES}). */
export function parseVm(oc: ObjectContent, placement: VmPlacement = {}): VmInfo {
  const text = (p: string) => oc.props.get(p)?.text;
  const bool = (p: string) => {
    const t = text(p)?.trim();
    return t === 'true' || t === '1';
  };
  const snapshots = parseSnapshotInfo(oc.props.get('snapshot'));
  const guestFullName = text('config.guestFullName') || undefined;
  const guestId = text('config.guestId') || undefined;
  return {
    ref: oc.obj,
    name: text('name') ?? oc.obj.value,
    instanceUuid: text('config.instanceUuid') || undefined,
    biosUuid: text('config.uuid') || undefined,
    datacenter: placement.datacenter,
    cluster: placement.cluster,
    host: placement.host,
    folder: placement.folder,
    powerState: text('runtime.powerState'),
    guestOs: guestFullName ?? guestId,
    guestId,
    numCpu: toInt(text('config.hardware.numCPU')),
    memoryMb: toInt(text('config.hardware.memoryMB')),
    hardwareVersion: text('config.version'),
    changeTrackingEnabled: bool('config.changeTrackingEnabled'),
    consolidationNeeded: bool('runtime.consolidationNeeded'),
    template: bool('config.template'),
    disks: parseDisks(oc.props.get('config.hardware.device')),
    snapshots: snapshots.roots,
    currentSnapshot: snapshots.current,
  };
}

/** The hardware version number of `vmx-13` (13); undefined when unreadable. CBT needs 7 or later. */
export function hardwareVersionNumber(version: string | undefined): number | undefined {
  return toInt(/^vmx-(\d+)$/.exec(version ?? '')?.[1]);
}

/** The moref a property holds (`runtime.host`, `parent`), when it holds one. */
export function refProp(oc: ObjectContent, path: string): MoRef | undefined {
  return parseMoRef(oc.props.get(path));
}
