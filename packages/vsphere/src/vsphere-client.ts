import type http from 'node:http';
import { collectChangedAreas, type CollectChangedAreasOptions } from './changed-areas.js';
import { datastoreFolderUrl, type FolderUrlOptions } from './datastore-path.js';
import { isVsphereError, VimFault, VsphereError, type VsphereErrorCode } from './errors.js';
import { NodeHttpTransport, type HttpTransport } from './http-transport.js';
import { InventoryTree, PLACEMENT_TYPES } from './inventory.js';
import { parseMoRef, toMoRef } from './moref.js';
import { retrieveAll, retrieveOne, viewFilter, withContainerView } from './property-collector.js';
import { VsphereSession, type ServiceContent } from './session.js';
import { SoapClient } from './soap-client.js';
import { waitTask, type WaitTaskOptions } from './tasks.js';
import type { TlsPolicy } from './tls.js';
import type { DiskArea, DiskChangeInfo, MoRef, MoRefLike, SnapshotRef, SnapshotResult, VirtualDiskInfo, VmInfo } from './types.js';
import { vim, type VimRequest } from './vim-requests.js';
import { flattenSnapshots, parseDisks, parseSnapshotInfo, parseVm, refProp, VM_PROPERTIES } from './vm-parse.js';
import { child, childInt, childrenNamed, type XmlElement } from './xml.js';

/** Options of {@link VsphereClient.connect}. */
export interface VsphereClientOptions {
  /** `vcenter.example.com`, `https://vcenter.example.com` or the SDK URL itself; `/sdk` is added when no path is given. */
  url: string;
  username: string;
  password: string;
  /** Default `{ mode: 'verify' }`. */
  tls?: TlsPolicy;
  /** CurrentTime keep-alive interval; 0 disables. Default 10 minutes. */
  keepAliveMs?: number;
  onKeepAliveError?: (err: unknown) => void;
  /** Per-request timeout. Default 120 s. */
  requestTimeoutMs?: number;
  /** Objects per RetrievePropertiesEx page. Default 100. */
  pageSize?: number;
  /** Default timeout of {@link VsphereClient.waitTask}. Default 30 minutes. */
  taskTimeoutMs?: number;
  /** Highest vim25 version to speak. */
  maxApiVersion?: string;
  /** Replaces the node:http(s) transport (specs). `tls` is then ignored. */
  transport?: HttpTransport;
}

/** Resolves the SDK endpoint from what a user typed. */
export function sdkUrlOf(input: string): URL {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/sdk';
  return url;
}

const isMoRef = (r: MoRef | undefined): r is MoRef => r !== undefined;

/** Faults of CreateSnapshot_Task that a crash-consistent retry would not cure. */
const NOT_ABOUT_QUIESCING = new Set<VsphereErrorCode>(['MANAGED_OBJECT_NOT_FOUND', 'TASK_IN_PROGRESS', 'NOT_AUTHENTICATED', 'INVALID_ARGUMENT']);

/**
 * A vim25 client for what a CBT backup needs: discovery, CBT switch, snapshots, changed areas,
 * snapshot removal and orphan cleanup. One logged-in session; see {@link VsphereSession} for re-login.
 */
export class VsphereClient {
  private constructor(
    readonly session: VsphereSession,
    private readonly transport: HttpTransport,
    private readonly sdkUrl: URL,
    private readonly opts: VsphereClientOptions,
  ) {}

  /** Logs in. Rejects with InvalidLoginFault, a TLS error (`TLS_*`) or a transient network error. */
  static async connect(opts: VsphereClientOptions): Promise<VsphereClient> {
    const sdkUrl = sdkUrlOf(opts.url);
    const transport = opts.transport ?? new NodeHttpTransport(sdkUrl, opts.tls ?? { mode: 'verify' });
    const soap = new SoapClient({ sdkUrl: sdkUrl.toString(), transport, ...(opts.requestTimeoutMs ? { timeoutMs: opts.requestTimeoutMs } : {}) });
    const session = new VsphereSession(soap, { username: opts.username, password: opts.password }, {
      ...(opts.keepAliveMs !== undefined ? { keepAliveMs: opts.keepAliveMs } : {}),
      ...(opts.onKeepAliveError ? { onKeepAliveError: opts.onKeepAliveError } : {}),
      ...(opts.maxApiVersion ? { maxApiVersion: opts.maxApiVersion } : {}),
    });
    try {
      await session.login();
    } catch (err) {
      transport.close();
      throw err;
    }
    return new VsphereClient(session, transport, sdkUrl, opts);
  }

  get serviceContent(): ServiceContent {
    return this.session.serviceContent;
  }

  /** The HTTP agent carrying this client's TLS policy, for `/folder` reads; undefined with a custom transport. */
  get agent(): http.Agent | undefined {
    return this.transport instanceof NodeHttpTransport ? this.transport.agent : undefined;
  }

  /** Every VM (templates included, flagged) with placement, hardware, CBT state, disks and snapshot tree. */
  async listVms(): Promise<VmInfo[]> {
    const root = this.serviceContent.rootFolder;
    const pageSize = this.opts.pageSize ?? 100;
    const tree = new InventoryTree(
      await withContainerView(this.session, root, PLACEMENT_TYPES, (view) =>
        retrieveAll(this.session, [viewFilter(view, PLACEMENT_TYPES.map((type) => ({ type, pathSet: ['name', 'parent'] })))], pageSize),
      ),
    );
    const vms = await withContainerView(this.session, root, ['VirtualMachine'], (view) =>
      retrieveAll(this.session, [viewFilter(view, [{ type: 'VirtualMachine', pathSet: VM_PROPERTIES }])], pageSize),
    );
    return vms.map((oc) => parseVm(oc, tree.placement(refProp(oc, 'parent'), refProp(oc, 'runtime.host'))));
  }

  /** One VM without placement fields (cheaper than {@link listVms}). ManagedObjectNotFoundFault when it is gone. */
  async getVm(vm: MoRefLike): Promise<VmInfo> {
    return parseVm(await retrieveOne(this.session, toMoRef(vm, 'VirtualMachine'), VM_PROPERTIES));
  }

  /** Switches Changed Block Tracking (ReconfigVM_Task) and waits. On a running VM it takes effect at the next stun (snapshot). */
  async reconfigureCbt(vm: MoRefLike, enabled: boolean, opts?: WaitTaskOptions): Promise<void> {
    await this.runTask(vim.reconfigVmChangeTracking(toMoRef(vm, 'VirtualMachine'), enabled), opts);
  }

  /**
   * CreateSnapshot_Task without memory. With `quiesce`, a failure to quiesce is retried once
   * crash-consistent and reported in `warning`; faults that are not about quiescing (the VM is gone,
   * another task holds it, the session, timeouts) are thrown as they are.
   */
  async createSnapshot(vm: MoRefLike, name: string, description = '', quiesce = true, opts?: WaitTaskOptions): Promise<SnapshotResult> {
    const ref = toMoRef(vm, 'VirtualMachine');
    const take = async (q: boolean) => {
      const snapshot = await this.runTask(vim.createSnapshot(ref, name, description, false, q), opts);
      if (!snapshot) throw new VsphereError('BAD_RESPONSE', `CreateSnapshot_Task on ${ref.value} returned no snapshot`);
      return snapshot;
    };
    if (!quiesce) return { snapshot: await take(false), consistency: 'crash' };
    try {
      return { snapshot: await take(true), consistency: 'quiesced' };
    } catch (err) {
      if (!(isVsphereError(err) && err instanceof VimFault) || err.transient || NOT_ABOUT_QUIESCING.has(err.code)) throw err;
      const snapshot = await take(false);
      return { snapshot, consistency: 'crash', warning: `quiesced snapshot of ${ref.value} failed (${err.message}); took a crash-consistent one` };
    }
  }

  /** Waits for a task; see {@link waitTask}. The client's `taskTimeoutMs` is the default timeout. */
  waitTask(task: MoRef, opts: WaitTaskOptions = {}): Promise<MoRef | undefined> {
    return waitTask(this.session, task, { ...(this.opts.taskTimeoutMs ? { timeoutMs: this.opts.taskTimeoutMs } : {}), ...opts });
  }

  /** The disks of a snapshot (its frozen `config.hardware.device`): read `fileName`, record `changeId`. Sorted by key. */
  async snapshotDisks(snapshot: MoRefLike): Promise<VirtualDiskInfo[]> {
    const oc = await retrieveOne(this.session, toMoRef(snapshot, 'VirtualMachineSnapshot'), ['config.hardware.device']);
    return parseDisks(oc.props.get('config.hardware.device'));
  }

  /** One QueryChangedDiskAreas reply: it covers `[startOffset, startOffset+length)` only. FileFault for a stale changeId. */
  async queryChangedDiskAreas(vm: MoRefLike, snapshot: MoRefLike, deviceKey: number, startOffset: number, changeId: string): Promise<DiskChangeInfo> {
    const req = vim.queryChangedDiskAreas(toMoRef(vm, 'VirtualMachine'), toMoRef(snapshot, 'VirtualMachineSnapshot'), deviceKey, startOffset, changeId);
    return this.session.invoke(() => req, parseDiskChangeInfo);
  }

  /** Every changed (or, with `"*"`, allocated) area of a disk, paged to `capacityBytes`, clipped and merged. */
  changedDiskAreas(vm: MoRefLike, snapshot: MoRefLike, deviceKey: number, changeId: string, capacityBytes: number, opts?: CollectChangedAreasOptions): Promise<DiskArea[]> {
    return collectChangedAreas((off) => this.queryChangedDiskAreas(vm, snapshot, deviceKey, off, changeId), capacityBytes, opts);
  }

  /**
   * RemoveSnapshot_Task (children kept), then ConsolidateVMDisks_Task when the VM reports
   * `runtime.consolidationNeeded`. Resolves with whether it consolidated.
   */
  async removeSnapshot(snapshot: MoRefLike, consolidate = true, opts?: WaitTaskOptions): Promise<{ consolidated: boolean }> {
    const snap = toMoRef(snapshot, 'VirtualMachineSnapshot');
    const vm = refProp(await retrieveOne(this.session, snap, ['vm']), 'vm');
    await this.runTask(vim.removeSnapshot(snap, false, consolidate), opts);
    return { consolidated: consolidate && vm ? await this.consolidateIfNeeded(vm, opts) : false };
  }

  /** ConsolidateVMDisks_Task when `runtime.consolidationNeeded` is set; resolves with whether it ran. */
  async consolidateIfNeeded(vm: MoRefLike, opts?: WaitTaskOptions): Promise<boolean> {
    const ref = toMoRef(vm, 'VirtualMachine');
    const oc = await retrieveOne(this.session, ref, ['runtime.consolidationNeeded']);
    if (oc.props.get('runtime.consolidationNeeded')?.text.trim() !== 'true') return false;
    await this.runTask(vim.consolidateVmDisks(ref), opts);
    return true;
  }

  /** The VM's snapshots whose name starts with `prefix`, parents before children. */
  async findSnapshotsByPrefix(vm: MoRefLike, prefix: string): Promise<SnapshotRef[]> {
    const oc = await retrieveOne(this.session, toMoRef(vm, 'VirtualMachine'), ['snapshot']);
    return flattenSnapshots(parseSnapshotInfo(oc.props.get('snapshot')).roots)
      .filter((s) => s.name.startsWith(prefix))
      .map((s) => ({ ref: s.ref, name: s.name, createTime: s.createTime }));
  }

  /**
   * Removes the VM's snapshots named with `prefix` (children first) except those in `keep`: the
   * orphans a crashed run left. Resolves with what it removed.
   */
  async removeSnapshotsByPrefix(vm: MoRefLike, prefix: string, keep: MoRefLike[] = []): Promise<SnapshotRef[]> {
    const kept = new Set(keep.map((k) => toMoRef(k, 'VirtualMachineSnapshot').value));
    const doomed = (await this.findSnapshotsByPrefix(vm, prefix)).filter((s) => !kept.has(s.ref.value)).reverse();
    for (const s of doomed) await this.removeSnapshot(s.ref);
    return doomed;
  }

  /** URL and headers (the session cookie) to read a datastore file through `/folder`, e.g. with Range. */
  datastoreFileRequest(fileName: string, datacenter: string, opts?: FolderUrlOptions): { url: string; headers: Record<string, string> } {
    const cookie = this.session.soap.cookieHeader;
    return { url: datastoreFolderUrl(this.sdkUrl, datacenter, fileName, opts), headers: cookie ? { cookie } : {} };
  }

  /** The server's clock; also proves the session works. */
  currentTime(): Promise<Date> {
    return this.session.currentTime();
  }

  /** Ends the session and frees connections. Idempotent. */
  async logout(): Promise<void> {
    try {
      await this.session.logout();
    } finally {
      this.transport.close();
    }
  }

  private async runTask(req: VimRequest, opts?: WaitTaskOptions): Promise<MoRef | undefined> {
    const task = await this.session.invoke(() => req, (r) => parseMoRef(child(r, 'returnval')));
    if (!isMoRef(task)) throw new VsphereError('BAD_RESPONSE', `${req.method} returned no task`);
    return this.waitTask(task, opts);
  }
}

/** Reads a QueryChangedDiskAreasResponse. */
export function parseDiskChangeInfo(response: XmlElement): DiskChangeInfo {
  const rv = child(response, 'returnval');
  const startOffset = childInt(rv, 'startOffset');
  const length = childInt(rv, 'length');
  if (startOffset === undefined || length === undefined) throw new VsphereError('BAD_RESPONSE', 'QueryChangedDiskAreas reply without startOffset/length');
  const changedAreas = childrenNamed(rv, 'changedArea').map((a) => ({ start: childInt(a, 'start') ?? NaN, length: childInt(a, 'length') ?? NaN }));
  if (changedAreas.some((a) => !Number.isSafeInteger(a.start) || !Number.isSafeInteger(a.length))) {
    throw new VsphereError('BAD_RESPONSE', 'QueryChangedDiskAreas reply with an unreadable changedArea');
  }
  return { startOffset, length, changedAreas };
}
