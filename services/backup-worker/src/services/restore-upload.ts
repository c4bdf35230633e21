import http from 'node:http';
import https from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Stores } from '@vaultflow/db';
import { TransientError } from '@vaultflow/errors';
import type { VcenterTarget, VsphereClient } from '@vaultflow/vsphere';
import { PermanentError } from './permanent-error.js';
import { connectVsphere, type PasswordOpener, type VsphereConnect } from './vm-backup.service.js';

/** Where on a vCenter restored images go. */
export interface DatastoreTarget {
  vcenter_id: string;
  datacenter: string;
  datastore: string;
  folder: string;
}

/** A request with no byte moving for this long fails (transient). */
const IDLE_TIMEOUT_MS = 120_000;

/** HTTP status -> the error a restore fails with: 5xx, 408 and 429 may pass, the rest will not. */
function statusError(what: string, status: number, text: string): Error {
  const message = `${what}: the vCenter answered HTTP ${status}${text ? ` (${text.slice(0, 200)})` : ''}`;
  return status >= 500 || status === 408 || status === 429 ? new TransientError(message) : new PermanentError(message);
}

function networkError(what: string, err: Error): Error {
  return err instanceof PermanentError || err instanceof TransientError || (err as { code?: string }).code?.startsWith?.('CHUNK_') ? err : new TransientError(`${what}: ${err.message}`, { cause: err });
}

/**
 * Uploads restored images to a datastore through the vCenter's `/folder` HTTP interface (PUT, the
 * whole file in one request, streamed from the repository without a temporary copy).
 */
export class DatastoreUploader {
  constructor(
    private readonly stores: Stores,
    private readonly secrets: PasswordOpener,
    private readonly connect: VsphereConnect = connectVsphere,
  ) {}

  /** Logs in to the target's vCenter. */
  async open(t: DatastoreTarget): Promise<UploadSession> {
    const vc = await this.stores.vcenters.get(t.vcenter_id);
    if (!vc) throw new PermanentError(`vCenter ${t.vcenter_id} does not exist any more`);
    let password: string;
    try {
      password = this.secrets.decrypt(vc.password_encrypted);
    } catch {
      throw new PermanentError(`The stored password of vCenter "${vc.name}" cannot be decrypted with this hub's VAULTFLOW_SECRET_KEY`);
    }
    const target: VcenterTarget = { host: vc.host, port: vc.port, protocol: vc.protocol, username: vc.username, password, tls_thumbprint: vc.tls_thumbprint, insecure: vc.insecure };
    return new UploadSession(await this.connect(target), t.datacenter);
  }
}

/** One vCenter session that uploads files. */
export class UploadSession {
  constructor(
    private readonly client: VsphereClient,
    private readonly datacenter: string,
  ) {}

  /**
   * Writes `length` bytes of `body` to the datastore file `dsPath` (`[ds] folder/file`). Refuses an
   * existing file unless `overwrite`. When the upload fails once the PUT has begun, the file is
   * removed (best effort) and the upload's own error is thrown.
   */
  async upload(dsPath: string, body: Readable, length: number, overwrite: boolean, onBytes: (done: number) => void): Promise<void> {
    try {
      if (!overwrite && (await this.exists(dsPath))) throw new PermanentError(`${dsPath} exists already on the datastore: restore with overwrite: true to replace it`);
      await this.put(dsPath, body, length, onBytes).catch(async (err: unknown) => {
        // The datastore writes a PUT in place, so it may now hold part of the image under its final
        // name, which would pass for a restored disk. (A refusal before the PUT, above, deletes nothing.)
        body.destroy();
        await this.remove(dsPath).catch(() => undefined);
        throw err;
      });
    } finally {
      body.destroy();
    }
  }

  async close(): Promise<void> {
    await this.client.logout().catch(() => undefined);
  }

  /** A one-byte ranged GET: 200/206 exists, 404 does not; 401/403 log in again once. */
  private async exists(dsPath: string, again = true): Promise<boolean> {
    const status = await this.request('GET', dsPath, { range: 'bytes=0-0' });
    if (status.code === 200 || status.code === 206) return true;
    if (status.code === 404) return false;
    if ((status.code === 401 || status.code === 403) && again) {
      await this.client.currentTime();
      return this.exists(dsPath, false);
    }
    throw statusError(`checking ${dsPath}`, status.code, status.text);
  }

  /** DELETE: 200/204 removed, 404 absent; 401/403 log in again once (a long upload may outlive the session). */
  private async remove(dsPath: string, again = true): Promise<void> {
    const status = await this.request('DELETE', dsPath, {});
    if (status.code === 200 || status.code === 204 || status.code === 404) return;
    if ((status.code === 401 || status.code === 403) && again) {
      await this.client.currentTime();
      return this.remove(dsPath, false);
    }
    throw statusError(`removing ${dsPath}`, status.code, status.text);
  }

  private async put(dsPath: string, body: Readable, length: number, onBytes: (done: number) => void): Promise<void> {
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        onBytes(sent);
        cb(null, chunk);
      },
    });
    const status = await this.request('PUT', dsPath, { 'content-type': 'application/octet-stream', 'content-length': String(length) }, (req) => pipeline(body, counter, req));
    if (status.code < 200 || status.code > 299) throw statusError(`uploading ${dsPath}`, status.code, status.text);
    if (sent !== length) throw new TransientError(`uploading ${dsPath}: sent ${sent} of ${length} bytes`);
  }

  /** One request; `send` writes the body (and ends the request), else it is ended empty. */
  private request(method: string, dsPath: string, extra: Record<string, string>, send?: (req: http.ClientRequest) => Promise<void>): Promise<{ code: number; text: string }> {
    const { url, headers } = this.client.datastoreFileRequest(dsPath, this.datacenter, { flat: false });
    const what = `${method} ${dsPath}`;
    return new Promise((resolve, reject) => {
      const mod = url.startsWith('https:') ? https : http;
      const req = mod.request(url, { method, headers: { ...headers, ...extra }, ...(this.client.agent ? { agent: this.client.agent } : {}) });
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new TransientError(`${what}: no progress for ${IDLE_TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) => reject(networkError(what, err)));
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          if (size < 4096) parts.push(d);
          size += d.length;
          if (method === 'GET') res.destroy(); // a probe: the first bytes tell enough
        });
        const done = () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8').trim() });
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => done());
      });
      if (send) send(req).catch((err: Error) => {
        req.destroy();
        reject(networkError(what, err));
      });
      else req.end();
    });
  }
}
