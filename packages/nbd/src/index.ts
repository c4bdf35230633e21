/**
 * @vaultflow/nbd: a dependency-free, read-only NBD client (fixed newstyle, structured replies, meta
 * contexts such as base:allocation and qemu:dirty-bitmap:NAME) and the DiskReader built on it.
 */
export { NbdClient, type NbdClientOptions, type ReadInto } from './nbd-client.js';
export type { NbdAddress, NbdConnectionOptions } from './nbd-connection.js';
export type { BlockSize } from './handshake.js';
export { NbdError, type NbdErrorCode, type NbdErrorDetails, isTransientErrno } from './nbd-error.js';
export type { DiskReader, ByteRange } from './disk-reader.js';
export {
  NbdDiskReader, BASE_ALLOCATION, type NbdDiskReaderOptions, type NbdSession, type RetryEvent,
} from './nbd-disk-reader.js';
export type { Extent } from './protocol/transmission.codec.js';
export { AllocationFlag, DirtyFlag, TransmissionFlag, MAX_REQUEST_PAYLOAD } from './protocol/constants.js';
export {
  launchNbdkit, sweepStaleNbdkitDirs, NbdkitError, type NbdkitErrorCode, type NbdkitLaunchOptions, type NbdkitProcess,
} from './nbdkit-launcher.js';
export { parseNbdkitTemplate, expandNbdkitTemplate, type NbdkitTemplate, type NbdkitPluginArgs } from './nbdkit-launcher-args.js';
export { NbdkitDiskReader } from './nbdkit-launcher-reader.js';
