import { escapeXml, SOAPENV_NS, VIM25_NS, XSI_NS } from './xml.js';
import type { MoRef } from './types.js';

// Hand-written request bodies for the vim25 calls this client makes. Element order follows the
// vim25 WSDL (vCenter rejects out-of-order elements; vcsim does not, so the unit specs pin it), every
// value is escaped, and polymorphic elements carry xsi:type.

/** A serialized request: the method name (for logs and fakes) and its `<Method xmlns="urn:vim25">` body. */
export interface VimRequest {
  method: string;
  body: string;
}

/** PropertySpec: which properties of which type. */
export interface PropertySpec {
  type: string;
  all?: boolean;
  pathSet?: string[];
}

/** SelectionSpec that only names a TraversalSpec defined elsewhere in the filter. */
export interface SelectionSpecRef {
  name: string;
}

/** TraversalSpec: from objects of `type`, follow property `path`. */
export interface TraversalSpec {
  name?: string;
  type: string;
  path: string;
  skip?: boolean;
  selectSet?: Array<TraversalSpec | SelectionSpecRef>;
}

/** ObjectSpec: where the collector starts. */
export interface ObjectSpec {
  obj: MoRef;
  skip?: boolean;
  selectSet?: Array<TraversalSpec | SelectionSpecRef>;
}

/** PropertyFilterSpec, the `specSet` of RetrievePropertiesEx. */
export interface PropertyFilterSpec {
  propSet: PropertySpec[];
  objectSet: ObjectSpec[];
  reportMissingObjectsInResults?: boolean;
}

const el = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
const moref = (name: string, ref: MoRef): string =>
  `<${name} type="${escapeXml(ref.type)}">${escapeXml(ref.value)}</${name}>`;
const request = (method: string, ...parts: string[]): VimRequest => ({
  method,
  body: `<${method} xmlns="${VIM25_NS}">${parts.join('')}</${method}>`,
});

function selectionSpec(s: TraversalSpec | SelectionSpecRef): string {
  if (!('path' in s)) return `<selectSet>${el('name', s.name)}</selectSet>`;
  return (
    '<selectSet xsi:type="TraversalSpec">' +
    el('name', s.name) + el('type', s.type) + el('path', s.path) + el('skip', s.skip) +
    (s.selectSet ?? []).map(selectionSpec).join('') +
    '</selectSet>'
  );
}

function filterSpec(spec: PropertyFilterSpec): string {
  const props = spec.propSet
    .map((p) => `<propSet>${el('type', p.type)}${el('all', p.all)}${(p.pathSet ?? []).map((x) => el('pathSet', x)).join('')}</propSet>`)
    .join('');
  const objects = spec.objectSet
    .map((o) => `<objectSet>${moref('obj', o.obj)}${el('skip', o.skip)}${(o.selectSet ?? []).map(selectionSpec).join('')}</objectSet>`)
    .join('');
  return `<specSet>${props}${objects}${el('reportMissingObjectsInResults', spec.reportMissingObjectsInResults)}</specSet>`;
}

/** Wraps request bodies in a SOAP 1.1 envelope declaring the xsi and xsd prefixes the bodies use. */
export function envelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="${SOAPENV_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI_NS}">` +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

/** The well-known ServiceInstance moref. */
export const SERVICE_INSTANCE: MoRef = { type: 'ServiceInstance', value: 'ServiceInstance' };

/** One builder per vim25 method, arguments in WSDL order. */
export const vim = {
  retrieveServiceContent: () => request('RetrieveServiceContent', moref('_this', SERVICE_INSTANCE)),
  login: (sessionManager: MoRef, userName: string, password: string, locale?: string) =>
    request('Login', moref('_this', sessionManager), el('userName', userName), el('password', password), el('locale', locale)),
  logout: (sessionManager: MoRef) => request('Logout', moref('_this', sessionManager)),
  currentTime: () => request('CurrentTime', moref('_this', SERVICE_INSTANCE)),
  createContainerView: (viewManager: MoRef, container: MoRef, types: string[], recursive: boolean) =>
    request('CreateContainerView', moref('_this', viewManager), moref('container', container), ...types.map((t) => el('type', t)), el('recursive', recursive)),
  destroyView: (view: MoRef) => request('DestroyView', moref('_this', view)),
  retrievePropertiesEx: (collector: MoRef, specSet: PropertyFilterSpec[], maxObjects?: number) =>
    request('RetrievePropertiesEx', moref('_this', collector), ...specSet.map(filterSpec), `<options>${el('maxObjects', maxObjects)}</options>`),
  continueRetrievePropertiesEx: (collector: MoRef, token: string) =>
    request('ContinueRetrievePropertiesEx', moref('_this', collector), el('token', token)),
  cancelRetrievePropertiesEx: (collector: MoRef, token: string) =>
    request('CancelRetrievePropertiesEx', moref('_this', collector), el('token', token)),
  /** ReconfigVM_Task with a VirtualMachineConfigSpec holding only changeTrackingEnabled. */
  reconfigVmChangeTracking: (vm: MoRef, enabled: boolean) =>
    request('ReconfigVM_Task', moref('_this', vm), `<spec>${el('changeTrackingEnabled', enabled)}</spec>`),
  createSnapshot: (vm: MoRef, name: string, description: string | undefined, memory: boolean, quiesce: boolean) =>
    request('CreateSnapshot_Task', moref('_this', vm), el('name', name), el('description', description), el('memory', memory), el('quiesce', quiesce)),
  removeSnapshot: (snapshot: MoRef, removeChildren: boolean, consolidate?: boolean) =>
    request('RemoveSnapshot_Task', moref('_this', snapshot), el('removeChildren', removeChildren), el('consolidate', consolidate)),
  consolidateVmDisks: (vm: MoRef) => request('ConsolidateVMDisks_Task', moref('_this', vm)),
  cancelTask: (task: MoRef) => request('CancelTask', moref('_this', task)),
  queryChangedDiskAreas: (vm: MoRef, snapshot: MoRef | undefined, deviceKey: number, startOffset: number, changeId: string) =>
    request(
      'QueryChangedDiskAreas',
      moref('_this', vm),
      snapshot ? moref('snapshot', snapshot) : '',
      el('deviceKey', deviceKey),
      el('startOffset', startOffset),
      el('changeId', changeId),
    ),
};
