// @vaultflow/vsphere: our own vim25 SOAP client (no maintained one exists for Node).
export { VsphereClient, sdkUrlOf, parseDiskChangeInfo, type VsphereClientOptions } from './vsphere-client.js';
export { VsphereSession, compareVersions, parseServiceContent, MAX_API_VERSION, type ServiceContent, type SessionOptions } from './session.js';
export { SoapClient, BASELINE_API_VERSION, type SoapClientOptions } from './soap-client.js';
export { NodeHttpTransport, type HttpTransport, type HttpRequest, type HttpResponse, type NodeHttpTransportOptions } from './http-transport.js';
export { createAgent, parseThumbprint, certificateThumbprint, type TlsPolicy, type Thumbprint } from './tls.js';
export {
  VsphereError, VimFault, NotAuthenticatedFault, InvalidLoginFault, FileFault, ManagedObjectNotFoundFault, TaskInProgressFault,
  InvalidArgumentFault, isVsphereError, vimFault, faultFromSoapFault, faultFromLocalizedMethodFault, type VsphereErrorCode, type VimFaultInit,
} from './errors.js';
export { collectChangedAreas, mergeAreas, clipAreas, type ChangedAreasPage, type CollectChangedAreasOptions } from './changed-areas.js';
export { waitTask, type WaitTaskOptions } from './tasks.js';
export { retrieveAll, retrieveOne, withContainerView, viewFilter, parseRetrieveResult, type ObjectContent, type RetrieveResult } from './property-collector.js';
export { parseVm, parseDisks, parseVirtualDisk, parseSnapshotInfo, flattenSnapshots, hardwareVersionNumber, VM_PROPERTIES } from './vm-parse.js';
export { InventoryTree } from './inventory.js';
export { parseDatastorePath, datastoreFolderUrl, type DatastorePath, type FolderUrlOptions } from './datastore-path.js';
export { snapshotName, parseSnapshotName, SNAPSHOT_PREFIX } from './snapshot-name.js';
export { vim, envelope, SERVICE_INSTANCE, type VimRequest, type PropertyFilterSpec, type PropertySpec, type ObjectSpec, type TraversalSpec, type SelectionSpecRef } from './vim-requests.js';
export { parseXml, xsiType, escapeXml, XSI_NS, VIM25_NS, SOAPENV_NS, type XmlElement, type XmlAttribute } from './xml.js';
export { parseMoRef, toMoRef } from './moref.js';
export type * from './types.js';
export { sdkUrlOfTarget, tlsPolicyOf, type VcenterTarget } from './vcenter-target.js';
