import { escapeXml, type XmlElement } from '../xml.js';
import { FakeVim, reqText, type FakeStyle } from './fake-vim.js';

// A small vCenter model on top of FakeVim for the client's unit specs: session-scoped container
// views, tasks whose state the spec scripts, and VMs whose snapshot tree and consolidation flag it
// sets. Property collector answers come from the `objects` callbacks.

export interface FakeTask {
  /** States to report, one per poll; the last one repeats. */
  states: Array<'queued' | 'running' | 'success' | 'error'>;
  /** The inner XML of `info.result` for success, e.g. a moref. */
  result?: { type: string; value: string };
  /** The fault type and localized message for error. */
  error?: { fault: string; message: string };
  polls: number;
}

const find = (el: XmlElement | undefined, name: string) => el?.children.find((c) => c.name === name);
const findAll = (el: XmlElement | undefined, name: string) => el?.children.filter((c) => c.name === name) ?? [];

export class FakeVcenter extends FakeVim {
  readonly tasks = new Map<string, FakeTask>();
  /** View id -> the session cookie that created it. */
  readonly views = new Map<string, string>();
  /** `ObjectContent` XML per container-view query: key is the first propSet type. */
  viewObjects: Record<string, string[]> = {};
  /** Per-VM properties: snapshot tree XML and consolidation flag. */
  readonly vms = new Map<string, { snapshotXml?: string; consolidationNeeded?: boolean }>();
  /** Snapshot -> VM. */
  readonly snapshotVm = new Map<string, string>();
  /** Objects per RetrievePropertiesEx page over a view (simulates maxObjects honoured). */
  pageSize = Infinity;
  /** Called after each CreateContainerView (to interfere). */
  afterCreateView: () => void = () => {};
  private nextId = 100;
  private readonly tokens = new Map<string, string[]>();

  constructor(style: FakeStyle = 'vcenter') {
    super(style);
    this.on('CreateContainerView', (_req, call) => {
      const id = `session[${call.cookie}]view-${this.nextId++}`;
      this.views.set(id, call.cookie ?? '');
      this.afterCreateView();
      return `<returnval type="ContainerView">${escapeXml(id)}</returnval>`;
    });
    this.on('DestroyView', (req) => {
      this.views.delete(find(req, '_this')!.text);
      return '';
    });
    this.on('RetrievePropertiesEx', (req, call) => this.retrieve(req, call.cookie));
    this.on('ContinueRetrievePropertiesEx', (req) => this.page(reqText(req, 'token') ?? ''));
    this.on('CancelRetrievePropertiesEx', () => '');
  }

  /** Registers a task and returns the reply of a `*_Task` method. */
  task(t: Omit<FakeTask, 'polls'>): string {
    const id = `task-${this.nextId++}`;
    this.tasks.set(id, { ...t, polls: 0 });
    return `<returnval type="Task">${id}</returnval>`;
  }

  private page(token: string): string {
    const rest = this.tokens.get(token) ?? [];
    this.tokens.delete(token);
    const now = rest.slice(0, this.pageSize);
    const later = rest.slice(this.pageSize);
    let next = '';
    if (later.length > 0) {
      const tok = `t${this.nextId++}`;
      this.tokens.set(tok, later);
      next = `<token>${tok}</token>`;
    }
    return `<returnval>${next}${now.join('')}</returnval>`;
  }

  private retrieve(req: XmlElement, cookie: string | undefined) {
    const spec = find(req, 'specSet');
    const obj = find(find(spec, 'objectSet'), 'obj')!;
    const type = obj.attributes.find((a) => a.name === 'type')!.value;
    const id = obj.text;
    const paths = findAll(find(spec, 'propSet'), 'pathSet').map((p) => p.text);
    const prop = (name: string, val: string) => `<propSet><name>${name}</name>${val}</propSet>`;
    const wrap = (props: string) => `<returnval><objects><obj type="${type}">${escapeXml(id)}</obj>${props}</objects></returnval>`;
    if (type === 'ContainerView') {
      if (this.views.get(id) !== cookie) return { fault: 'ManagedObjectNotFound', detail: `<obj type="ContainerView">${escapeXml(id)}</obj>` };
      const first = reqText(find(spec, 'propSet')!, 'type') ?? '';
      const token = `t${this.nextId++}`;
      this.tokens.set(token, this.viewObjects[first] ?? []);
      return this.page(token);
    }
    if (type === 'Task') {
      const t = this.tasks.get(id);
      if (!t) return { fault: 'ManagedObjectNotFound', detail: `<obj type="Task">${id}</obj>` };
      const state = t.states[Math.min(t.polls++, t.states.length - 1)]!;
      let props = prop('info.state', `<val ${this.t('TaskInfoState')}>${state}</val>`);
      if (state === 'success' && t.result) props += prop('info.result', `<val ${this.t('ManagedObjectReference')} type="${t.result.type}">${t.result.value}</val>`);
      if (state === 'error' && t.error) {
        props += prop('info.error', `<val ${this.t('LocalizedMethodFault')}><fault ${this.t(t.error.fault)}></fault><localizedMessage>${escapeXml(t.error.message)}</localizedMessage></val>`);
      }
      return wrap(props);
    }
    if (type === 'VirtualMachineSnapshot') {
      const vm = this.snapshotVm.get(id);
      if (!vm) return { fault: 'ManagedObjectNotFound', detail: `<obj type="VirtualMachineSnapshot">${id}</obj>` };
      return wrap(paths.includes('vm') ? prop('vm', `<val ${this.t('ManagedObjectReference')} type="VirtualMachine">${vm}</val>`) : '');
    }
    if (type === 'VirtualMachine') {
      const vm = this.vms.get(id);
      if (!vm) return { fault: 'ManagedObjectNotFound', detail: `<obj type="VirtualMachine">${id}</obj>` };
      let props = '';
      if (paths.includes('snapshot') && vm.snapshotXml) props += prop('snapshot', `<val ${this.t('VirtualMachineSnapshotInfo')}>${vm.snapshotXml}</val>`);
      if (paths.includes('runtime.consolidationNeeded') && vm.consolidationNeeded !== undefined) {
        props += prop('runtime.consolidationNeeded', `<val ${this.t('xsd:boolean')}>${vm.consolidationNeeded}</val>`);
      }
      return wrap(props);
    }
    return { fault: 'NotImplemented', message: `fake cannot retrieve ${type}` };
  }
}

/** A snapshot tree node's XML (VirtualMachineSnapshotTree) with children. */
export function snapshotTreeXml(vm: string, ref: string, name: string, children: string[] = []): string {
  return (
    `<snapshot type="VirtualMachineSnapshot">${ref}</snapshot><vm type="VirtualMachine">${vm}</vm><name>${escapeXml(name)}</name>` +
    `<description></description><id>1</id><createTime>2026-01-01T00:00:00Z</createTime><state>poweredOn</state><quiesced>false</quiesced>` +
    children.map((c) => `<childSnapshotList>${c}</childSnapshotList>`).join('')
  );
}
