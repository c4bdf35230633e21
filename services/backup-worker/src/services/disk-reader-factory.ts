import { NbdkitDiskReader, expandNbdkitTemplate, sweepStaleNbdkitDirs, type DiskReader, type NbdkitTemplate, type ReadInto } from '@vaultflow/nbd';
import { HttpFolderReader, TransferError } from '@vaultflow/transfer';
import { parseDatastorePath, retrieveOne, type MoRef, type VcenterTarget, type VsphereClient } from '@vaultflow/vsphere';
import type { NbdkitPlaceholder } from '../config.js';
import { PermanentError } from './permanent-error.js';

/** How the worker reads snapshot disks (WORKER_TRANSPORT and the nbdkit settings of config.ts). */
export interface DiskReaderSettings {
  transport: 'https' | 'nbd';
  /** For `nbd`: the plugin template (WORKER_NBDKIT_PLUGIN) and binary (WORKER_NBDKIT_COMMAND). */
  nbdkit?: { template: NbdkitTemplate; command?: string };
  /** Tries per read, the first included; default 5 (both transports back off exponentially between tries). */
  readAttempts?: number;
}

/** One disk of a snapshot, and what is needed to reach it. */
export interface SnapshotDiskSource {
  client: VsphereClient;
  target: VcenterTarget;
  /** The VM's moref value, e.g. `vm-42`. */
  vm: string;
  snapshot: MoRef;
  disk: { key: number; fileName: string; capacityBytes: number; datastore?: MoRef | undefined };
  datacenter: string;
  signal?: AbortSignal;
  /** Told of each read retried after a transient error, as a sentence for the job log. */
  onRetry?: (message: string) => void;
}

/** A snapshot disk open for reading; close() also stops the transport's process (nbdkit). */
export interface SnapshotDiskReader extends DiskReader {
  read(offset: number, length: number, into?: ReadInto): Promise<Buffer>;
}

const MAX_RETRY_NOTES = 10;

/**
 * Opens snapshot disks through the configured transport, behind the one DiskReader interface:
 * `https` reads the datastore file's `/folder` URL with Range requests; `nbd` launches nbdkit per disk
 * (in production VMware's VDDK plugin; any plugin through the template) on a private Unix socket and reads
 * it with our NBD client, block status included, so holes are never read. Both retry transient read errors
 * with backoff; a final error names the disk and the offset. Whatever fails, nothing is left running.
 */
export class DiskReaderFactory {
  private swept = false;

  constructor(readonly settings: DiskReaderSettings = { transport: 'https' }) {
    if (settings.transport === 'nbd' && !settings.nbdkit) throw new RangeError('the nbd transport needs an nbdkit template');
  }

  async open(src: SnapshotDiskSource): Promise<SnapshotDiskReader> {
    const reader = this.settings.transport === 'nbd' ? await this.openNbd(src) : await this.openHttps(src);
    if (reader.size !== src.disk.capacityBytes) {
      await reader.close();
      throw new TransferError(`disk ${src.disk.fileName}: the ${this.settings.transport} transport serves ${reader.size} bytes, not its capacity of ${src.disk.capacityBytes}`, {
        code: 'BAD_RESPONSE', disk: src.disk.fileName,
      });
    }
    return reader;
  }

  private openHttps(src: SnapshotDiskSource): Promise<SnapshotDiskReader> {
    const note = retryNotes(src);
    return HttpFolderReader.forDisk(src.client, src.disk, src.datacenter, {
      ...(this.settings.readAttempts ? { attempts: this.settings.readAttempts } : {}),
      onRetry: (e) => note(e.offset, e.attempt, e.delayMs, e.error.message),
    });
  }

  private async openNbd(src: SnapshotDiskSource): Promise<SnapshotDiskReader> {
    const { template, command } = this.settings.nbdkit!;
    if (!this.swept) {
      this.swept = true; // directories of nbdkits whose worker was killed (they died with it)
      await sweepStaleNbdkitDirs().catch(() => 0);
    }
    const values = await placeholderValues(src, template.placeholders as readonly NbdkitPlaceholder[]);
    const note = retryNotes(src);
    return NbdkitDiskReader.open(
      {
        ...(command ? { command } : {}),
        secrets: template.placeholders.includes('password_fd') ? { password: src.target.password } : {},
        args: (fds) => expandNbdkitTemplate(template, { ...values, password_fd: fds.password === undefined ? undefined : String(fds.password) }),
        ...(src.signal ? { signal: src.signal } : {}),
      },
      {
        ...(this.settings.readAttempts ? { attempts: this.settings.readAttempts } : {}),
        onRetry: (e) => note(e.offset, e.attempt, e.delayMs, e.error.message),
      },
    ).catch((err: Error) => {
      throw new TransferError(`disk ${src.disk.fileName}: the nbd transport could not open it: ${err.message}`, {
        code: (err as { code?: string }).code === 'NBDKIT_START_TIMEOUT' ? 'TIMEOUT' : 'NETWORK',
        transient: (err as { transient?: boolean }).transient === true, disk: src.disk.fileName, cause: err,
      });
    });
  }
}

/** A job-log note per retried read, at most MAX_RETRY_NOTES per disk (then one saying more follow). */
function retryNotes(src: SnapshotDiskSource): (offset: number, attempt: number, delayMs: number, message: string) => void {
  let n = 0;
  return (offset, attempt, delayMs, message) => {
    n++;
    if (n <= MAX_RETRY_NOTES) src.onRetry?.(`disk ${src.disk.fileName}: read at offset ${offset} failed (attempt ${attempt}), retrying in ${delayMs} ms: ${message}`);
    else if (n === MAX_RETRY_NOTES + 1) src.onRetry?.(`disk ${src.disk.fileName}: more reads are being retried; further retries are not logged`);
  };
}

/** The values of the placeholders a template uses; the datastore's URL costs a vSphere call, so only when used. */
async function placeholderValues(src: SnapshotDiskSource, used: readonly NbdkitPlaceholder[]): Promise<Partial<Record<NbdkitPlaceholder, string>>> {
  const { datastore, path } = parseDatastorePath(src.disk.fileName);
  const values: Record<Exclude<NbdkitPlaceholder, 'password_fd' | 'datastore_url'>, string> = {
    host: src.target.host,
    port: String(src.target.port),
    username: src.target.username,
    thumbprint: src.target.tls_thumbprint ?? '',
    vm: src.vm,
    snapshot: src.snapshot.value,
    disk_path: src.disk.fileName,
    datastore,
    file: path,
    flat_file: path.endsWith('.vmdk') && !path.endsWith('-flat.vmdk') ? `${path.slice(0, -'.vmdk'.length)}-flat.vmdk` : path,
  };
  if (!used.includes('datastore_url')) return values;
  if (!src.disk.datastore) throw new PermanentError(`disk ${src.disk.fileName}: the vCenter names no datastore for it, so {datastore_url} has no value`);
  const url = (await retrieveOne(src.client.session, src.disk.datastore, ['info.url'])).props.get('info.url')?.text;
  if (!url) throw new PermanentError(`datastore ${datastore} (${src.disk.datastore.value}) reports no info.url for {datastore_url}`);
  return { ...values, datastore_url: url.replace(/\/+$/, '') };
}
