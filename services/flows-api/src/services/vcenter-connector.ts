import { AppError, unprocessable, type ErrorDetail } from '@vaultflow/errors';
import { isVsphereError, sdkUrlOfTarget, tlsPolicyOf, VimFault, VsphereClient, VsphereError, type VcenterTarget, type VirtualDiskInfo, type VmInfo } from '@vaultflow/vsphere';

// The target and its URL and TLS policy live in @vaultflow/vsphere: the backup worker connects the same way.
export { sdkUrlOfTarget, tlsPolicyOf, type VcenterTarget };

/** One disk as discovery stores it (the columns of vm_disks). */
export interface DiscoveredDisk {
  disk_key: number;
  disk_uuid: string | null;
  label: string | null;
  capacity_bytes: number;
  datastore_path: string | null;
  disk_mode: string | null;
}

/** One VM as discovery needs it, already in the inventory's terms. */
export interface DiscoveredVm {
  moref: string;
  name: string;
  instance_uuid: string | null;
  datacenter: string | null;
  cluster: string | null;
  host: string | null;
  folder: string | null;
  power_state: string | null;
  guest_os: string | null;
  num_cpu: number | null;
  memory_mb: number | null;
  cbt_enabled: boolean;
  template: boolean;
  disks: DiscoveredDisk[];
}

/** A logged-in session, as narrow as discovery needs it (specs use an in-memory one). */
export interface VcenterSession {
  listVms(): Promise<DiscoveredVm[]>;
  /** Logs out and frees connections. Never throws. */
  close(): Promise<void>;
}

/**
 * Opens sessions. Rejects with a 422 AppError (VCENTER_LOGIN_FAILED, VCENTER_UNREACHABLE,
 * VCENTER_TLS_MISMATCH) when the login fails, within the connector's login timeout.
 */
export interface VcenterConnector {
  connect(target: VcenterTarget): Promise<VcenterSession>;
}

export interface VsphereConnectorOptions {
  /** The whole login (service content + Login) must succeed within this. Default 10 s. */
  loginTimeoutMs?: number;
  /** Per request once logged in (inventory pages of a large vCenter). Default 60 s. */
  requestTimeoutMs?: number;
}

const field = (name: string, message: string): ErrorDetail[] => [{ field: `body.${name}`, message }];

/**
 * Turns a failed login into the answer a user can act on: a 422 whose details name the request
 * field to fix. Errors that are not from talking to the vCenter pass through.
 */
export function loginError(err: unknown, t: VcenterTarget, timeoutMs: number): unknown {
  if (err instanceof AppError) return err;
  const where = sdkUrlOfTarget(t);
  const details = field;
  if (!isVsphereError(err)) return err;
  switch (err.code) {
    case 'INVALID_LOGIN':
      return unprocessable('VCENTER_LOGIN_FAILED', `The vCenter at ${where} refused the login of "${t.username}": check the user name and password`, details('password', 'was refused by the vCenter, or the user name is wrong'));
    case 'TLS_THUMBPRINT_MISMATCH':
      return unprocessable('VCENTER_TLS_MISMATCH', `${err.message}. If this is the right vCenter, pin the thumbprint it presents`, details('tls_thumbprint', 'does not match the certificate the vCenter presents'));
    case 'TLS_VERIFY_FAILED':
      return unprocessable('VCENTER_TLS_MISMATCH', err.message, details('tls_thumbprint', 'is needed: the certificate is not trusted'));
    case 'TIMEOUT':
      return unprocessable('VCENTER_UNREACHABLE', `The vCenter at ${where} did not answer within ${Math.round(timeoutMs / 1000)} s: check the host, port and firewall`, details('host', 'did not answer in time'));
    case 'NETWORK':
      return unprocessable('VCENTER_UNREACHABLE', `Cannot reach the vCenter at ${where} (${err.message}): check the host, port and protocol`, details('host', 'could not be reached'));
    case 'HTTP_STATUS':
    case 'BAD_RESPONSE':
      return unprocessable('VCENTER_UNREACHABLE', `${where} answered, but not as a vSphere SDK endpoint (${err.message}): check the host, port and protocol`, details('host', 'is not a vSphere SDK endpoint'));
    default:
      if (err instanceof VimFault) {
        return unprocessable('VCENTER_LOGIN_FAILED', `The vCenter at ${where} refused the login of "${t.username}": ${err.message}`, details('username', 'was refused by the vCenter'));
      }
      return unprocessable('VCENTER_UNREACHABLE', `The vCenter at ${where} failed: ${err.message}`, details('host', 'failed'));
  }
}

/** vSphere escapes `%`, `/` and `\` in entity names; a person wants to read them. */
export function decodeEntityName(name: string): string {
  return name.replace(/%(25|2f|5c)/gi, (m) => decodeURIComponent(m));
}

function toDisk(d: VirtualDiskInfo): DiscoveredDisk {
  return { disk_key: d.key, disk_uuid: d.uuid ?? null, label: d.label ?? null, capacity_bytes: d.capacityBytes, datastore_path: d.fileName ?? null, disk_mode: d.diskMode ?? null };
}

/** Reads a {@link VmInfo} of the vSphere client into discovery's terms. */
export function toDiscoveredVm(v: VmInfo): DiscoveredVm {
  return {
    moref: v.ref.value,
    name: decodeEntityName(v.name),
    instance_uuid: v.instanceUuid ?? null,
    datacenter: v.datacenter ?? null,
    cluster: v.cluster ?? null,
    host: v.host ?? null,
    folder: v.folder ?? null,
    power_state: v.powerState ?? null,
    guest_os: v.guestOs ?? null,
    num_cpu: v.numCpu ?? null,
    memory_mb: v.memoryMb ?? null,
    cbt_enabled: v.changeTrackingEnabled,
    template: v.template,
    disks: v.disks.map(toDisk),
  };
}

/** The real connector: our vim25 client, one short-lived session per discovery. */
export class VsphereConnector implements VcenterConnector {
  private readonly loginTimeoutMs: number;

  constructor(private readonly opts: VsphereConnectorOptions = {}) {
    this.loginTimeoutMs = opts.loginTimeoutMs ?? 10_000;
  }

  async connect(t: VcenterTarget): Promise<VcenterSession> {
    const attempt = VsphereClient.connect({
      url: sdkUrlOfTarget(t),
      username: t.username,
      password: t.password,
      tls: tlsPolicyOf(t),
      keepAliveMs: 0,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 60_000,
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VsphereError('TIMEOUT', 'login timed out', { transient: true })), this.loginTimeoutMs);
    });
    let client: VsphereClient;
    try {
      client = await Promise.race([attempt, deadline]);
    } catch (err) {
      // a login that completes after we gave up must not leave a session behind
      attempt.then((late) => late.logout().catch(() => undefined), () => undefined);
      throw loginError(err, t, this.loginTimeoutMs);
    } finally {
      clearTimeout(timer);
    }
    return {
      listVms: async () => (await client.listVms()).map(toDiscoveredVm),
      close: () => client.logout().catch(() => undefined),
    };
  }
}
