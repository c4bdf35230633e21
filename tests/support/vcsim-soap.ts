// Minimal hand-written vim25 SOAP for tests against the vcsim harness (infra/vcsim).
// The regex parsing is deliberately naive and only meant for vcsim's output (which writes
// `XMLSchema-instance:type`, not `xsi:type`); product code must use a namespace-aware parser.

/** A SOAP fault; `type` is the vim25 fault type, e.g. `FileFault`. */
export class SoapFault extends Error {
  constructor(readonly type: string, message: string, readonly xml: string) {
    super(`${type}: ${message}`);
  }
}

export interface SnapshotDisk {
  key: number;
  fileName: string;
  uuid: string | undefined;
  changeId: string | undefined;
  capacity: number;
}

/** One QueryChangedDiskAreas reply. `areas` are `[start, length]` pairs. */
export interface ChangeReply {
  startOffset: number;
  length: number;
  areas: [number, number][];
}

const ENVELOPE_HEAD =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>';
const ENVELOPE_TAIL = '</soapenv:Body></soapenv:Envelope>';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const moref = (tag: string, type: string, value: string) => `<${tag} type="${type}">${esc(value)}</${tag}>`;
const first = (xml: string, re: RegExp) => re.exec(xml)?.[1];

/** Merges touching or overlapping `[start, length]` extents (sorted input). */
export function mergeAreas(areas: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [s, l] of areas) {
    const last = out[out.length - 1];
    if (last && last[0] + last[1] >= s) last[1] = Math.max(last[1], s + l - last[0]);
    else out.push([s, l]);
  }
  return out;
}

/** One SOAP session (cookie) against a vcsim `url`. */
export class VcsimSoap {
  cookie = '';
  constructor(readonly url: string, readonly datacenter = 'DC0') {}

  async call(body: string): Promise<string> {
    const res = await fetch(`${this.url}/sdk`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', SOAPAction: '"urn:vim25/6.5"', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: ENVELOPE_HEAD + body + ENVELOPE_TAIL,
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const xml = await res.text();
    if (xml.includes('<soapenv:Fault>')) {
      const detail = first(xml, /<detail>(.*)<\/detail>/s) ?? '';
      const type = first(detail, /^<\w+[^>]*?[\w-]+:type="([^"]+)"/) ?? first(detail, /^<(\w+?)(?:Fault)?[\s>]/) ?? 'unknown';
      throw new SoapFault(type, first(xml, /<faultstring>([^<]*)/) ?? '', xml);
    }
    if (res.status !== 200) throw new Error(`SOAP HTTP ${res.status}: ${xml.slice(0, 300)}`);
    return xml;
  }

  /** Calls and expects a fault, which it returns. */
  async fault(body: string): Promise<SoapFault> {
    try {
      await this.call(body);
    } catch (e) {
      if (e instanceof SoapFault) return e;
      throw e;
    }
    throw new Error('expected a SOAP fault');
  }

  async login(user: string, password: string): Promise<void> {
    await this.call(`<RetrieveServiceContent xmlns="urn:vim25">${moref('_this', 'ServiceInstance', 'ServiceInstance')}</RetrieveServiceContent>`);
    await this.call(`<Login xmlns="urn:vim25">${moref('_this', 'SessionManager', 'SessionManager')}<userName>${esc(user)}</userName><password>${esc(password)}</password></Login>`);
  }

  currentTime(): Promise<string> {
    return this.call(`<CurrentTime xmlns="urn:vim25">${moref('_this', 'ServiceInstance', 'ServiceInstance')}</CurrentTime>`);
  }

  retrieve(type: string, ref: string, paths: string[]): Promise<string> {
    return this.call(
      `<RetrievePropertiesEx xmlns="urn:vim25">${moref('_this', 'PropertyCollector', 'propertyCollector')}<specSet><propSet><type>${type}</type>` +
        `${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet><objectSet>${moref('obj', type, ref)}</objectSet></specSet><options/></RetrievePropertiesEx>`,
    );
  }

  /** Waits for the task a `*_Task` call returned; resolves with the moref value of its result, if any. */
  async waitTask(taskXml: string): Promise<string | undefined> {
    const task = first(taskXml, /<returnval type="Task">([^<]+)/);
    if (!task) throw new Error(`no task in ${taskXml.slice(0, 300)}`);
    for (let i = 0; i < 200; i++) {
      const xml = await this.retrieve('Task', task, ['info.state', 'info.result', 'info.error']);
      const state = first(xml, /<name>info\.state<\/name><val[^>]*>(\w+)</);
      if (state === 'success') return first(xml, /<name>info\.result<\/name><val[^>]*\stype="[^"]+">([^<]+)</);
      if (state === 'error') throw new Error(`task ${task} failed: ${xml.slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`task ${task} did not finish`);
  }

  async setChangeTracking(vm: string, enabled: boolean): Promise<void> {
    await this.waitTask(await this.call(
      `<ReconfigVM_Task xmlns="urn:vim25">${moref('_this', 'VirtualMachine', vm)}<spec><changeTrackingEnabled>${enabled}</changeTrackingEnabled></spec></ReconfigVM_Task>`,
    ));
  }

  async createSnapshot(vm: string, name: string): Promise<string> {
    const snap = await this.waitTask(await this.call(
      `<CreateSnapshot_Task xmlns="urn:vim25">${moref('_this', 'VirtualMachine', vm)}<name>${esc(name)}</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>`,
    ));
    if (!snap) throw new Error('CreateSnapshot_Task returned no snapshot');
    return snap;
  }

  async removeSnapshot(snapshot: string): Promise<void> {
    await this.waitTask(await this.call(
      `<RemoveSnapshot_Task xmlns="urn:vim25">${moref('_this', 'VirtualMachineSnapshot', snapshot)}<removeChildren>false</removeChildren><consolidate>true</consolidate></RemoveSnapshot_Task>`,
    ));
  }

  /**
   * The VirtualDisks of a snapshot's (or, with type VirtualMachine, a VM's) config.hardware.device,
   * sorted by key like /harness/info (device order is not stable: vcsim's device keys are random and an
   * edited device moves to the end).
   */
  async disks(ref: string, type = 'VirtualMachineSnapshot'): Promise<SnapshotDisk[]> {
    const xml = await this.retrieve(type, ref, ['config.hardware.device']);
    const disks = [...xml.matchAll(/<VirtualDevice\b[^>]*:type="VirtualDisk"[^>]*>(.*?)<\/VirtualDevice>/gs)].map(([, d]) => ({
      key: Number(first(d!, /<key>(-?\d+)<\/key>/)),
      fileName: first(d!, /<fileName>([^<]+)/) ?? '',
      uuid: first(d!, /<uuid>([^<]+)/),
      changeId: first(d!, /<changeId>([^<]+)/),
      capacity: Number(first(d!, /<capacityInBytes>(\d+)/) ?? 0),
    }));
    return disks.sort((a, b) => a.key - b.key);
  }

  async queryChangedDiskAreas(vm: string, snapshot: string, key: number, startOffset: number, changeId: string): Promise<ChangeReply> {
    const xml = await this.call(
      `<QueryChangedDiskAreas xmlns="urn:vim25">${moref('_this', 'VirtualMachine', vm)}${moref('snapshot', 'VirtualMachineSnapshot', snapshot)}` +
        `<deviceKey>${key}</deviceKey><startOffset>${startOffset}</startOffset><changeId>${esc(changeId)}</changeId></QueryChangedDiskAreas>`,
    );
    const ret = first(xml, /<returnval>(.*)<\/returnval>/s) ?? '';
    return {
      startOffset: Number(first(ret, /^<startOffset>(\d+)<\/startOffset>/)),
      length: Number(first(ret, /<\/startOffset><length>(\d+)<\/length>/)),
      areas: [...ret.matchAll(/<changedArea><start>(\d+)<\/start><length>(\d+)<\/length><\/changedArea>/g)].map(
        ([, s, l]) => [Number(s), Number(l)] as [number, number],
      ),
    };
  }

  /** Pages through the whole disk: offset = startOffset + length until the capacity. */
  async allChangedAreas(vm: string, snapshot: string, key: number, changeId: string, capacity: number): Promise<{ replies: ChangeReply[]; areas: [number, number][] }> {
    const replies: ChangeReply[] = [];
    for (let off = 0; off < capacity; ) {
      const r = await this.queryChangedDiskAreas(vm, snapshot, key, off, changeId);
      if (!(r.length > 0) || r.startOffset !== off) throw new Error(`bad QCDA page at ${off}: ${JSON.stringify(r)}`);
      replies.push(r);
      off = r.startOffset + r.length;
    }
    return { replies, areas: mergeAreas(replies.flatMap((r) => r.areas)) };
  }

  /** The /folder URL of a disk's flat file, from its datastore path `[ds] dir/x.vmdk`. */
  folderUrl(fileName: string): string {
    const m = /^\[([^\]]+)\] (.*)\.vmdk$/.exec(fileName);
    if (!m) throw new Error(`not a datastore path: ${fileName}`);
    const q = new URLSearchParams({ dcPath: this.datacenter, dsName: m[1]! });
    return `${this.url}/folder/${m[2]!.split('/').map(encodeURIComponent).join('/')}-flat.vmdk?${q}`;
  }

  /** Reads a disk's flat file through /folder with this session, whole or by Range (expects 206). */
  async read(fileName: string, start?: number, length?: number): Promise<Buffer> {
    const ranged = start !== undefined && length !== undefined;
    const res = await fetch(this.folderUrl(fileName), {
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(ranged ? { range: `bytes=${start}-${start + length - 1}` } : {}) },
    });
    if (res.status !== (ranged ? 206 : 200)) throw new Error(`GET ${fileName}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }
}
