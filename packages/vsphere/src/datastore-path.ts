import { VsphereError } from './errors.js';

/** A datastore path `[datastore] dir/file.vmdk`, split. */
export interface DatastorePath {
  datastore: string;
  /** The path inside the datastore, `dir/file.vmdk`. */
  path: string;
}

/** Splits `[ds] dir/file.vmdk`. Throws `INVALID_DATASTORE_PATH` for anything else. */
export function parseDatastorePath(fileName: string): DatastorePath {
  const m = /^\[([^\]]+)\]\s*(.+)$/.exec(fileName);
  if (!m || m[2]!.trim() === '') throw new VsphereError('INVALID_DATASTORE_PATH', `not a datastore path: ${JSON.stringify(fileName)}`);
  return { datastore: m[1]!, path: m[2]!.trim() };
}

/** Options of {@link datastoreFolderUrl}. */
export interface FolderUrlOptions {
  /**
   * Address the data file of a flat disk (`disk.vmdk` -> `disk-flat.vmdk`) rather than its
   * descriptor. Default true: that is where a FlatVer2 disk's bytes are.
   */
  flat?: boolean;
}

/**
 * The `/folder` URL of a datastore file, `https://vc/folder/dir/disk-flat.vmdk?dcPath=DC&dsName=ds`,
 * for HTTP range reads (the `https` transport). `baseUrl` is the server's origin (or the SDK URL).
 */
export function datastoreFolderUrl(baseUrl: string | URL, datacenter: string, fileName: string, opts: FolderUrlOptions = {}): string {
  const { datastore, path } = parseDatastorePath(fileName);
  const file = opts.flat === false || !path.endsWith('.vmdk') || path.endsWith('-flat.vmdk') ? path : `${path.slice(0, -'.vmdk'.length)}-flat.vmdk`;
  const url = new URL(`/folder/${file.split('/').map(encodeURIComponent).join('/')}`, baseUrl);
  url.search = new URLSearchParams({ dcPath: datacenter, dsName: datastore }).toString();
  return url.toString();
}
