/** A managed object reference: `type` is the vim25 type (`VirtualMachine`), `value` the id (`vm-42`). */
export interface MoRef {
  type: string;
  value: string;
}

/** Accepts a moref, or its bare value for the type the call expects. */
export type MoRefLike = MoRef | string;

/** Why a disk cannot be backed up through CBT snapshots. */
export type DiskSkipReason = 'independent' | 'physical-rdm' | 'multi-writer';

/** A VirtualDisk device, from a VM's or a snapshot's `config.hardware.device`. */
export interface VirtualDiskInfo {
  /** Device key. Unique within one VM at one time; keys are reused, so identify disks by `uuid`. */
  key: number;
  /** `deviceInfo.label`, e.g. `Hard disk 1`. */
  label: string | undefined;
  /** `capacityInBytes`, or `capacityInKB * 1024` when the server sends only that. */
  capacityBytes: number;
  /** The backing's xsi:type, e.g. `VirtualDiskFlatVer2BackingInfo`. */
  backingType: string | undefined;
  /** The datastore path, `[datastore] dir/name.vmdk`. */
  fileName: string | undefined;
  /** `backing.uuid`: the disk's identity across device-key reuse. */
  uuid: string | undefined;
  /** `backing.changeId`, `<uuid>/<seq>`: set on snapshot disks when CBT is active. */
  changeId: string | undefined;
  /** `persistent`, `independent_persistent`, ... */
  diskMode: string | undefined;
  /** `sharingNone` or `sharingMultiWriter`; undefined when the server does not report it. */
  sharing: string | undefined;
  /** For RDM backings: `physicalMode` or `virtualMode`. */
  compatibilityMode: string | undefined;
  /** The datastore holding the file, when reported. */
  datastore: MoRef | undefined;
  controllerKey: number | undefined;
  unitNumber: number | undefined;
  /** Set when this disk must be skipped by a snapshot-based backup (with a warning). */
  skipReason: DiskSkipReason | undefined;
}

/** One node of a VM's snapshot tree. */
export interface SnapshotNode {
  ref: MoRef;
  name: string;
  description: string;
  /** ISO 8601 as sent by the server. */
  createTime: string | undefined;
  quiesced: boolean;
  children: SnapshotNode[];
}

/** A VM as discovery sees it. Inventory placement fields are undefined where not obtainable. */
export interface VmInfo {
  ref: MoRef;
  name: string;
  /** `config.instanceUuid`: vCenter's identity of the VM. */
  instanceUuid: string | undefined;
  /** `config.uuid` (the BIOS UUID). */
  biosUuid: string | undefined;
  datacenter: string | undefined;
  /** The cluster's name; undefined for a standalone host. */
  cluster: string | undefined;
  /** The ESXi host's name. */
  host: string | undefined;
  /** The VM folder path below the datacenter, e.g. `vm/Prod/Web`. */
  folder: string | undefined;
  /** `poweredOn`, `poweredOff` or `suspended`. */
  powerState: string | undefined;
  /** `config.guestFullName`, else `config.guestId`. */
  guestOs: string | undefined;
  guestId: string | undefined;
  numCpu: number | undefined;
  memoryMb: number | undefined;
  /** `config.version`, e.g. `vmx-13`. CBT needs vmx-07 or later. */
  hardwareVersion: string | undefined;
  /** `config.changeTrackingEnabled`; an absent property means false. */
  changeTrackingEnabled: boolean;
  /** `runtime.consolidationNeeded`; absent means false. */
  consolidationNeeded: boolean;
  template: boolean;
  disks: VirtualDiskInfo[];
  /** Root snapshots, each with its children. */
  snapshots: SnapshotNode[];
  currentSnapshot: MoRef | undefined;
}

/** One extent of a disk, in bytes. */
export interface DiskArea {
  start: number;
  length: number;
}

/** One QueryChangedDiskAreas reply: it speaks for `[startOffset, startOffset + length)` only. */
export interface DiskChangeInfo {
  startOffset: number;
  length: number;
  changedAreas: DiskArea[];
}

/** The outcome of {@link VsphereClient.createSnapshot}. */
export interface SnapshotResult {
  snapshot: MoRef;
  /** `quiesced` when the guest was quiesced, `crash` when it fell back (or was asked) to not quiesce. */
  consistency: 'quiesced' | 'crash';
  /** Why quiescing was abandoned, for the job log. */
  warning?: string;
}

/** A snapshot found by name, flattened out of the tree. */
export interface SnapshotRef {
  ref: MoRef;
  name: string;
  createTime: string | undefined;
}
