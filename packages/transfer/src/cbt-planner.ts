import type { ByteRange } from '@vaultflow/nbd';
import { isVsphereError, type DiskArea } from '@vaultflow/vsphere';
import { TransferError } from './transfer-error.js';

// The per-disk full/incremental decision and the read plan of a CBT backup. Pure: no I/O of its own
// (the changed-areas query is injected). Background: reference notes "VMware CBT data path", §1 and §4.

/** What the user asked for: `auto` takes an incremental whenever one is safe. */
export type BackupRequest = 'auto' | 'full' | 'incremental';

/** What the hub stored about a disk after its last committed backup. */
export interface PreviousDiskRecord {
  /** `backing.uuid` of the disk then. */
  diskUuid: string | null;
  /** Device key then (the repository's disk key is its string form). */
  deviceKey: number | string;
  capacity: number;
  /** The snapshot changeId saved after that point was committed; null when CBT was not active then. */
  changeId: string | null;
}

/** A disk of the snapshot being backed up now. */
export interface CurrentDisk {
  /** `backing.uuid`. */
  uuid: string | null | undefined;
  key: number | string;
  capacity: number;
  /** `backing.changeId` of the snapshot's disk (not the live VM's); empty while CBT is not active yet. */
  changeId: string | null | undefined;
  requested: BackupRequest;
}

/** Why a disk is backed up in full. */
export type FullReason =
  /** The user asked for a full. */
  | 'requested-full'
  /** No record of this disk: a first backup, or a disk added since. */
  | 'no-previous-point'
  /** The snapshot's disk has no changeId: CBT is off or not active yet (it activates at the next stun). */
  | 'cbt-not-active'
  /** Another disk now sits under the recorded device key (keys are reused; disks are known by UUID). */
  | 'disk-uuid-changed'
  /** The disk moved to another device key; the repository builds incrementals per key. */
  | 'device-key-changed'
  /** Resized: CBT is not to be trusted across a resize (the >128 GB extension bug), so take a full. */
  | 'capacity-changed'
  /** The previous backup ran without CBT and recorded no changeId. */
  | 'no-previous-change-id'
  /** The UUID part of `<uuid>/<seq>` changed: CBT was reset (toggled, .ctk deleted, restored). */
  | 'change-id-epoch-changed'
  /** Same epoch but a lower sequence than recorded: the disk went back in time (a revert). */
  | 'change-id-regressed'
  /** QueryChangedDiskAreas refused the recorded changeId with a FileFault (stale or reset). */
  | 'change-id-refused';

/** Why a disk got its mode. */
export type PlanReason = FullReason | 'changed-since-previous';

/** The decision for one disk. */
export interface DiskPlan {
  mode: 'full' | 'incremental';
  reason: PlanReason;
  /** The changeId to give QueryChangedDiskAreas: `"*"` (allocated areas) for a full, else the recorded one. */
  queryChangeId: string;
  /**
   * The changeId to save for this disk once the point is committed; null means record nothing (CBT not
   * active yet), so the next backup is a full again.
   */
  recordChangeId: string | null;
  /** For the job log: why the outcome differs from what was asked, or why the next run will be full too. */
  warning: string | undefined;
}

/** The changeId that asks QueryChangedDiskAreas for every allocated area. */
export const ALL_AREAS = '*';

/** `<uuid>/<seq>` split; the UUID part may hold spaces on ESXi (`52 3c ... 5d/14`). */
export function parseChangeId(changeId: string): { epoch: string; seq: number | undefined } {
  const slash = changeId.lastIndexOf('/');
  if (slash < 0) return { epoch: changeId.trim(), seq: undefined };
  const seqText = changeId.slice(slash + 1).trim();
  const seq = /^\d+$/.test(seqText) ? Number(seqText) : undefined;
  return { epoch: changeId.slice(0, slash).trim(), seq };
}

/** The first reason an incremental would be unsafe, or undefined when it is safe. */
function fullReason(previous: PreviousDiskRecord | undefined, now: CurrentDisk): FullReason | undefined {
  if (now.requested === 'full') return 'requested-full';
  if (!previous) return 'no-previous-point';
  if (!now.changeId) return 'cbt-not-active';
  if (!now.uuid || previous.diskUuid !== now.uuid) return 'disk-uuid-changed';
  if (String(previous.deviceKey) !== String(now.key)) return 'device-key-changed';
  if (previous.capacity !== now.capacity) return 'capacity-changed';
  if (!previous.changeId) return 'no-previous-change-id';
  const before = parseChangeId(previous.changeId);
  const after = parseChangeId(now.changeId);
  if (before.epoch !== after.epoch) return 'change-id-epoch-changed';
  if (before.seq !== undefined && after.seq !== undefined && after.seq < before.seq) return 'change-id-regressed';
  return undefined;
}

const REASON_TEXT: Record<FullReason, string> = {
  'requested-full': 'a full backup was requested',
  'no-previous-point': 'there is no previous backup of this disk',
  'cbt-not-active': 'changed block tracking is not active on the snapshot',
  'disk-uuid-changed': 'the disk UUID changed (another disk under the same key)',
  'device-key-changed': 'the disk moved to another device key',
  'capacity-changed': 'the disk capacity changed',
  'no-previous-change-id': 'the previous backup recorded no change ID',
  'change-id-epoch-changed': 'change tracking was reset (the change ID UUID changed)',
  'change-id-regressed': 'the change ID went backwards (the disk was reverted)',
  'change-id-refused': 'vSphere refused the recorded change ID (stale, or change tracking was reset)',
};

/** Fulls that an `auto` backup with a previous point did not expect: the job log warns about them. */
const UNEXPECTED_FULL = new Set<FullReason>(['disk-uuid-changed', 'device-key-changed', 'capacity-changed', 'change-id-epoch-changed', 'change-id-regressed']);

/** Human text of a reason, for warnings and the job log. */
export function describeReason(reason: PlanReason): string {
  return reason === 'changed-since-previous' ? 'reads the areas changed since the previous backup' : REASON_TEXT[reason];
}

/**
 * Decides full or incremental for one disk. An incremental needs: a previous record of the same disk
 * (same UUID, device key and capacity) with a changeId, a changeId on the snapshot's disk, and the same
 * UUID part in both. Anything else is a full from `"*"`. An explicit `incremental` request that cannot
 * be honoured becomes a full with a warning rather than failing the backup; so does an `auto` one whose
 * previous point cannot be built on (CBT reset, revert, resize, another disk under the key). A snapshot disk without a
 * changeId (CBT off or not active yet) is backed up in full and records nothing.
 */
export function planDisk(previous: PreviousDiskRecord | undefined, now: CurrentDisk): DiskPlan {
  const recordChangeId = now.changeId ? now.changeId : null;
  const reason = fullReason(previous, now);
  const warnings: string[] = [];
  if (reason !== undefined && reason !== 'requested-full' && now.requested === 'incremental') {
    warnings.push(`incremental requested for disk ${now.key}, but ${REASON_TEXT[reason]}: backing it up in full`);
  } else if (reason !== undefined && UNEXPECTED_FULL.has(reason)) {
    warnings.push(`disk ${now.key}: ${REASON_TEXT[reason]}: backing it up in full`);
  }
  if (recordChangeId === null) warnings.push(`changed block tracking is not active on disk ${now.key}: the next backup will be full as well`);
  const warning = warnings.length > 0 ? warnings.join('; ') : undefined;
  if (reason !== undefined) return { mode: 'full', reason, queryChangeId: ALL_AREAS, recordChangeId, warning };
  return { mode: 'incremental', reason: 'changed-since-previous', queryChangeId: previous!.changeId!, recordChangeId, warning };
}

/** A disk of the VM with its record and plan. */
export interface PlannedDisk {
  disk: CurrentDisk;
  previous: PreviousDiskRecord | undefined;
  plan: DiskPlan;
}

/**
 * Plans every disk of a VM. Records are matched by disk UUID first (identity survives key changes), then
 * by device key (so a disk replaced under the same key is reported as `disk-uuid-changed`). `removed`
 * lists the records whose disk UUID the VM no longer has: nothing is read for them, and the new point
 * simply does not contain them.
 */
export function planVmDisks(previous: readonly PreviousDiskRecord[], current: readonly CurrentDisk[]): { disks: PlannedDisk[]; removed: PreviousDiskRecord[] } {
  const used = new Set<PreviousDiskRecord>();
  const byUuid = (d: CurrentDisk) => (d.uuid ? previous.find((p) => p.diskUuid === d.uuid && !used.has(p)) : undefined);
  const matched = new Map<CurrentDisk, PreviousDiskRecord>();
  for (const d of current) {
    const p = byUuid(d);
    if (p) {
      matched.set(d, p);
      used.add(p);
    }
  }
  for (const d of current) {
    if (matched.has(d)) continue;
    const p = previous.find((r) => String(r.deviceKey) === String(d.key) && !used.has(r));
    if (p) {
      matched.set(d, p);
      used.add(p);
    }
  }
  const currentUuids = new Set(current.map((d) => d.uuid).filter((u): u is string => !!u));
  return {
    disks: current.map((disk) => ({ disk, previous: matched.get(disk), plan: planDisk(matched.get(disk), disk) })),
    removed: previous.filter((p) => !p.diskUuid || !currentUuids.has(p.diskUuid)),
  };
}

/** The plan after QueryChangedDiskAreas refused its changeId: a full from `"*"`, same changeId to record. */
export function fallbackToFull(plan: DiskPlan, diskKey: number | string): DiskPlan {
  return {
    mode: 'full',
    reason: 'change-id-refused',
    queryChangeId: ALL_AREAS,
    recordChangeId: plan.recordChangeId,
    warning: [plan.warning, `disk ${diskKey}: ${REASON_TEXT['change-id-refused']}; backing it up in full`].filter(Boolean).join('; '),
  };
}

/** Fetches a disk's changed areas for a changeId (`"*"` for all allocated areas), e.g. VsphereClient.changedDiskAreas. */
export type ChangedAreasQuery = (changeId: string) => Promise<DiskArea[]>;

/**
 * Runs the plan's query with the FileFault fallback contract: when an incremental's QueryChangedDiskAreas
 * fails with a FileFault (`FILE_FAULT`: the changeId is stale, unknown or CBT was reset), the disk falls
 * back to a full and the query is repeated with `"*"`; the returned plan says so (`change-id-refused`,
 * with a warning) and still records the snapshot's new changeId. Any other error, and any error of a
 * `"*"` query, is rethrown unchanged. Resolves with the plan actually followed and its areas.
 */
export async function queryPlannedAreas(plan: DiskPlan, diskKey: number | string, query: ChangedAreasQuery): Promise<{ plan: DiskPlan; areas: DiskArea[] }> {
  if (plan.mode === 'full') return { plan, areas: await query(ALL_AREAS) };
  try {
    return { plan, areas: await query(plan.queryChangeId) };
  } catch (err) {
    if (!isVsphereError(err, 'FILE_FAULT')) throw err;
    const full = fallbackToFull(plan, diskKey);
    return { plan: full, areas: await query(ALL_AREAS) };
  }
}

/** An extent as QueryChangedDiskAreas (`start`) or a DiskReader (`offset`) gives it. */
export type ExtentLike = DiskArea | ByteRange;

/** What {@link planReads} returns. */
export interface ReadPlan {
  /** Reads in disk order, disjoint, none longer than `maxChunk` and none crossing a multiple of it. */
  reads: ByteRange[];
  /** The extents after clipping, sorting and merging. */
  extents: ByteRange[];
  /** Bytes to read: the sum of `reads` (equal to the sum of `extents`). */
  bytes: number;
}

/**
 * Default largest read: 1 MiB, the repository's chunk size. A read's buffer is held until every chunk
 * in it is stored (a raw chunk until its pack write is done), so reads of one chunk with more of them in
 * flight (DEFAULT_READ_CONCURRENCY) keep the disk and the cores busier than a few larger reads in the
 * same memory (the bench:datapath image's full, repeated runs on one machine: 16 x 1 MiB in a median
 * 5.8 s, 4 x 4 MiB in 6.7 s).
 */
export const DEFAULT_MAX_READ = 1024 * 1024;

/** Default reads in flight per disk: DEFAULT_READ_CONCURRENCY x DEFAULT_MAX_READ bytes of read buffers. */
export const DEFAULT_READ_CONCURRENCY = 16;

const startOf = (e: ExtentLike): number => ('start' in e ? e.start : e.offset);

/**
 * Turns changed areas into reads: clips them to `[0, capacity)`, drops empty ones, sorts them, merges
 * the ones that overlap or touch (so no byte is read or written twice), and cuts the result at multiples
 * of `maxChunk` of the disk offset (so reads line up with the repository's chunk grid when `maxChunk` is
 * a multiple of its chunk size). Throws INVALID_ARGUMENT for non-integer offsets or lengths.
 */
export function planReads(extents: readonly ExtentLike[], maxChunk = DEFAULT_MAX_READ, capacity = Number.MAX_SAFE_INTEGER): ReadPlan {
  if (!Number.isSafeInteger(maxChunk) || maxChunk < 1) throw new TransferError(`maxChunk must be a positive integer, got ${maxChunk}`, { code: 'INVALID_ARGUMENT' });
  if (!Number.isSafeInteger(capacity) || capacity < 0) throw new TransferError(`capacity must be a non-negative integer, got ${capacity}`, { code: 'INVALID_ARGUMENT' });
  const clipped: ByteRange[] = [];
  for (const e of extents) {
    const start = startOf(e);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(e.length)) {
      throw new TransferError(`extent ${start}+${e.length} is not a pair of integers`, { code: 'INVALID_ARGUMENT' });
    }
    const from = Math.max(0, start);
    const to = Math.min(capacity, start + e.length);
    if (to > from) clipped.push({ offset: from, length: to - from });
  }
  clipped.sort((a, b) => a.offset - b.offset);
  const merged: ByteRange[] = [];
  for (const e of clipped) {
    const last = merged[merged.length - 1];
    if (last && last.offset + last.length >= e.offset) last.length = Math.max(last.length, e.offset + e.length - last.offset);
    else merged.push(e);
  }
  const reads: ByteRange[] = [];
  let bytes = 0;
  for (const e of merged) {
    const end = e.offset + e.length;
    for (let at = e.offset; at < end;) {
      const next = Math.min(end, (Math.floor(at / maxChunk) + 1) * maxChunk);
      reads.push({ offset: at, length: next - at });
      at = next;
    }
    bytes += e.length;
  }
  return { reads, extents: merged, bytes };
}
