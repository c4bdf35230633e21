import { parseMoRef } from './moref.js';
import { child, childText, xsiType, type XmlElement } from './xml.js';
import type { MoRef } from './types.js';

/**
 * Stable codes of {@link VsphereError}; callers branch on these, never on `message`.
 * Vim faults: `NOT_AUTHENTICATED`, `INVALID_LOGIN`, `FILE_FAULT`, `MANAGED_OBJECT_NOT_FOUND`,
 * `TASK_IN_PROGRESS`, `INVALID_ARGUMENT`, `VIM_FAULT` (any other; see `faultType`).
 * Client side: `NETWORK` and `TIMEOUT` (transient), `HTTP_STATUS` (transient for 502/503/504),
 * `BAD_RESPONSE`, `TLS_THUMBPRINT_MISMATCH`, `TLS_VERIFY_FAILED`, `TASK_TIMEOUT` (transient: the task
 * may still finish), `ABORTED`, `QCDA_BAD_PAGE`, `NOT_LOGGED_IN`, `INVALID_DATASTORE_PATH`.
 */
export type VsphereErrorCode =
  | 'NOT_AUTHENTICATED' | 'INVALID_LOGIN' | 'FILE_FAULT' | 'MANAGED_OBJECT_NOT_FOUND' | 'TASK_IN_PROGRESS'
  | 'INVALID_ARGUMENT' | 'VIM_FAULT'
  | 'NETWORK' | 'TIMEOUT' | 'HTTP_STATUS' | 'BAD_RESPONSE' | 'TLS_THUMBPRINT_MISMATCH' | 'TLS_VERIFY_FAILED'
  | 'TASK_TIMEOUT' | 'ABORTED' | 'QCDA_BAD_PAGE' | 'NOT_LOGGED_IN' | 'INVALID_DATASTORE_PATH';

/** The one error family of this package: a stable `code` and whether trying again may help. */
export class VsphereError extends Error {
  readonly code: VsphereErrorCode;
  /** True when the same call may succeed later (network errors, timeouts, TaskInProgress, 503). */
  readonly transient: boolean;
  /** HTTP status, for `HTTP_STATUS` errors. */
  readonly status: number | undefined;

  constructor(code: VsphereErrorCode, message: string, opts: { transient?: boolean; status?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VsphereError';
    this.code = code;
    this.transient = opts.transient ?? false;
    this.status = opts.status;
  }
}

/** Fields a server sent with a fault, beyond its type. */
export interface VimFaultInit {
  /** The vim25 fault type, e.g. `FileNotFound` (a FileFault subtype). */
  faultType: string;
  /** `faultstring`, or a task's `localizedMessage`. */
  faultMessage: string;
  /** The fault's element (under `detail`, or a LocalizedMethodFault's `fault`), for fields not mapped. */
  detail?: XmlElement | undefined;
}

/** A fault the vSphere API returned (directly, in a task's `info.error`, or in a `missingSet`). */
export class VimFault extends VsphereError {
  readonly faultType: string;
  readonly faultMessage: string;
  readonly detail: XmlElement | undefined;

  constructor(init: VimFaultInit, code: VsphereErrorCode = 'VIM_FAULT', transient = TRANSIENT_FAULTS.has(init.faultType)) {
    super(code, init.faultMessage ? `${init.faultType}: ${init.faultMessage}` : init.faultType, { transient });
    this.name = 'VimFault';
    this.faultType = init.faultType;
    this.faultMessage = init.faultMessage;
    this.detail = init.detail;
  }
}

/** The session is missing or expired. The session layer logs in again once, transparently. */
export class NotAuthenticatedFault extends VimFault {
  constructor(init: VimFaultInit) {
    super(init, 'NOT_AUTHENTICATED', false);
    this.name = 'NotAuthenticatedFault';
  }
}

/** Login refused the user name or password. */
export class InvalidLoginFault extends VimFault {
  constructor(init: VimFaultInit) {
    super(init, 'INVALID_LOGIN', false);
    this.name = 'InvalidLoginFault';
  }
}

/** A file problem; from QueryChangedDiskAreas it means the changeId is stale or CBT was reset. */
export class FileFault extends VimFault {
  /** The file the fault names, when it names one. */
  readonly file: string | undefined;
  constructor(init: VimFaultInit) {
    super(init, 'FILE_FAULT', false);
    this.name = 'FileFault';
    this.file = childText(init.detail, 'file');
  }
}

/** The object no longer exists (a removed VM, snapshot, view or task). */
export class ManagedObjectNotFoundFault extends VimFault {
  readonly obj: MoRef | undefined;
  constructor(init: VimFaultInit) {
    super(init, 'MANAGED_OBJECT_NOT_FOUND', false);
    this.name = 'ManagedObjectNotFoundFault';
    this.obj = parseMoRef(child(init.detail, 'obj'));
  }
}

/** Another task holds the object; transient. */
export class TaskInProgressFault extends VimFault {
  constructor(init: VimFaultInit) {
    super(init, 'TASK_IN_PROGRESS', true);
    this.name = 'TaskInProgressFault';
  }
}

/** A request argument was refused (bad device key, offset out of range, ...). */
export class InvalidArgumentFault extends VimFault {
  readonly invalidProperty: string | undefined;
  constructor(init: VimFaultInit) {
    super(init, 'INVALID_ARGUMENT', false);
    this.name = 'InvalidArgumentFault';
    this.invalidProperty = childText(init.detail, 'invalidProperty');
  }
}

/** Fault types, besides TaskInProgress, that say "try again later". */
const TRANSIENT_FAULTS = new Set([
  'TaskInProgress', 'VAppTaskInProgress', 'HostCommunication', 'HostNotConnected', 'HostNotReachable',
  'ConcurrentAccess', 'ResourceInUse',
]);

const FAULT_CLASSES: Array<[Set<string>, new (init: VimFaultInit) => VimFault]> = [
  [new Set(['NotAuthenticated']), NotAuthenticatedFault],
  [new Set(['InvalidLogin']), InvalidLoginFault],
  [new Set(['ManagedObjectNotFound']), ManagedObjectNotFoundFault],
  [new Set(['TaskInProgress', 'VAppTaskInProgress']), TaskInProgressFault],
  [new Set(['InvalidArgument', 'InvalidIndexArgument', 'IncompatibleSetting']), InvalidArgumentFault],
  [
    new Set([
      'FileFault', 'CannotAccessFile', 'CannotCreateFile', 'CannotDeleteFile', 'DirectoryNotEmpty', 'FileAlreadyExists',
      'FileLocked', 'FileNameTooLong', 'FileNotFound', 'FileNotWritable', 'FileTooLarge', 'IncorrectFileType',
      'NetworkCopyFault', 'NoDiskSpace', 'NotADirectory', 'NotAFile',
    ]),
    FileFault,
  ],
];

/**
 * True when `err` is a {@link VsphereError} with `code`. Checks the code, not the class, so it holds
 * even if two copies of this module end up loaded.
 */
export function isVsphereError(err: unknown, code?: VsphereErrorCode): err is VsphereError {
  if (typeof err !== 'object' || err === null || typeof (err as { code?: unknown }).code !== 'string') return false;
  if (!(err instanceof VsphereError) && !('transient' in err)) return false;
  return code === undefined || (err as VsphereError).code === code;
}

/** Builds the typed fault for a vim25 fault type (subtypes map to their base class, keeping `faultType`). */
export function vimFault(init: VimFaultInit): VimFault {
  for (const [types, Cls] of FAULT_CLASSES) if (types.has(init.faultType)) return new Cls(init);
  return new VimFault(init);
}

/**
 * Reads a fault element: a `detail` child such as `<FileFaultFault xsi:type="FileFault">`, or a
 * LocalizedMethodFault's `<fault xsi:type="...">`. The type comes from xsi:type (namespace-matched);
 * without one, from the element name less its `Fault` suffix.
 */
export function faultFromElement(el: XmlElement | undefined, message: string): VimFault {
  const type = xsiType(el) ?? (el && el.name !== 'fault' ? el.name.replace(/Fault$/, '') : undefined) ?? 'UnknownFault';
  return vimFault({ faultType: type, faultMessage: message, detail: el });
}

/** Reads a LocalizedMethodFault (`{fault, localizedMessage}`), as in a task's `info.error`. */
export function faultFromLocalizedMethodFault(el: XmlElement | undefined): VimFault {
  return faultFromElement(child(el, 'fault'), childText(el, 'localizedMessage') ?? '');
}

/** Reads `soapenv:Fault`: `faultstring` plus the typed `detail`. */
export function faultFromSoapFault(fault: XmlElement): VimFault {
  const message = childText(fault, 'faultstring') ?? '';
  const detail = child(fault, 'detail')?.children[0];
  if (detail) return faultFromElement(detail, message);
  const code = childText(fault, 'faultcode')?.replace(/^.*:/, '') || 'SoapFault';
  return vimFault({ faultType: code, faultMessage: message });
}
