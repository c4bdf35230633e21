import { randomUUID } from 'node:crypto';
import type { Db, Stores, VcenterWrite } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { badRequest, conflict, notFound } from '@vaultflow/errors';
import type { SecretBox } from '@vaultflow/security';
import type { CreateVcenterRequest, UpdateVcenterRequest, VcenterListQuery, VcenterResponse } from '@vaultflow/schemas';
import { toVcenterResponse } from '../mappers/resources.mapper.js';
import { storedPassword, type DiscoveryService } from './discovery.service.js';
import type { VcenterConnector, VcenterTarget } from './vcenter-connector.js';
import { writeTx } from './write-tx.js';

function assertTls(thumbprint: string | null | undefined, insecure: boolean | undefined): void {
  if (thumbprint && insecure) {
    throw badRequest('VALIDATION_FAILED', 'Give either a TLS thumbprint or insecure: true, not both', [{ field: 'body.insecure', message: 'cannot be true when a thumbprint is given' }]);
  }
  if (!thumbprint && !insecure) {
    throw badRequest('VALIDATION_FAILED', "Give the vCenter certificate's thumbprint (tls_thumbprint), or set insecure: true to skip TLS verification", [{ field: 'body.tls_thumbprint', message: 'is required unless insecure is true' }]);
  }
}

/** Plain http has no certificate to pin, and sends the password in clear: only with an explicit insecure: true. */
function assertTransport(protocol: VcenterTarget['protocol'], thumbprint: string | null | undefined, insecure: boolean | undefined): void {
  if (protocol === 'https') return assertTls(thumbprint, insecure);
  if (thumbprint) {
    throw badRequest('VALIDATION_FAILED', 'protocol http has no TLS certificate to pin: leave tls_thumbprint out (or null)', [{ field: 'body.tls_thumbprint', message: 'must be null with protocol http' }]);
  }
  if (!insecure) {
    throw badRequest('VALIDATION_FAILED', 'protocol http sends the password in clear text and is meant for lab simulators: set insecure: true to confirm', [{ field: 'body.insecure', message: 'must be true with protocol http' }]);
  }
}

const sameThumbprint = (a: string | null, b: string | null) => (a ?? '').toUpperCase() === (b ?? '').toUpperCase();

/**
 * Registered vCenters. Passwords are sealed with the hub's secret key and never returned. The
 * connection settings are stored only after a live login with them succeeded.
 */
export class VcenterService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly secrets: SecretBox,
    private readonly connector: VcenterConnector,
    private readonly discovery: DiscoveryService,
  ) {}

  async get(id: string): Promise<VcenterResponse> {
    return toVcenterResponse(await this.require(id));
  }

  async list(q: VcenterListQuery) {
    const { rows, total } = await this.stores.vcenters.list(q);
    return { vcenters: rows.map(toVcenterResponse), total };
  }

  /** Checks the login (422 VCENTER_* and nothing stored when it fails), stores, then discovers an enabled vCenter with the same session. */
  async create(input: CreateVcenterRequest, op: Operation): Promise<VcenterResponse> {
    const protocol = input.protocol ?? 'https';
    assertTransport(protocol, input.tls_thumbprint, input.insecure);
    const port = input.port ?? 443;
    const tls_thumbprint = input.tls_thumbprint?.toUpperCase() ?? null;
    const insecure = input.insecure ?? false;
    // the cheap refusals first: no login for a request that cannot be stored anyway
    if (await this.stores.vcenters.nameTaken(input.name)) throw this.nameTaken(input.name);
    if (await this.stores.vcenters.endpointTaken(input.host, port)) throw this.endpointTaken(input.host, port);
    const session = await this.connector.connect({ host: input.host, port, protocol, username: input.username, password: input.password, tls_thumbprint, insecure });
    const id = randomUUID();
    const enabled = input.enabled ?? true;
    try {
      await writeTx(this.db, 'vcenter', async (trx) => {
        if (await this.stores.vcenters.nameTaken(input.name, undefined, trx)) throw this.nameTaken(input.name);
        if (await this.stores.vcenters.endpointTaken(input.host, port, undefined, trx)) throw this.endpointTaken(input.host, port);
        await this.stores.vcenters.insert(id, {
          name: input.name, host: input.host, port, protocol, username: input.username,
          password_encrypted: this.secrets.encrypt(input.password),
          tls_thumbprint, insecure, enabled,
          created_by: op.actor.username,
        }, trx);
        await this.stores.audit.record({ actor: op.actor.username, action: 'vcenter.create', entity_type: 'vcenter', entity_id: id, details: { name: input.name, host: input.host, port, protocol }, request_id: op.requestId }, trx);
      }, () => this.nameTaken(input.name));
    } catch (err) {
      await session.close();
      throw err;
    }
    if (enabled) await this.discovery.tryDiscover(id, { session });
    else await session.close();
    return this.get(id);
  }

  /** A change of any connection setting is checked with a live login before it is stored. */
  async update(id: string, input: UpdateVcenterRequest, op: Operation): Promise<VcenterResponse> {
    const c = await this.require(id);
    const next = {
      host: input.host ?? c.host,
      port: input.port ?? c.port,
      protocol: input.protocol ?? c.protocol,
      username: input.username ?? c.username,
      tls_thumbprint: (input.tls_thumbprint !== undefined ? input.tls_thumbprint : c.tls_thumbprint)?.toUpperCase() ?? null,
      insecure: input.insecure ?? (input.tls_thumbprint ? false : c.insecure),
    };
    assertTransport(next.protocol, next.tls_thumbprint, next.insecure);
    if (input.name !== undefined && input.name !== c.name && (await this.stores.vcenters.nameTaken(input.name, id))) throw this.nameTaken(input.name);
    const moved = next.host !== c.host || next.port !== c.port;
    if (moved && (await this.stores.vcenters.endpointTaken(next.host, next.port, id))) throw this.endpointTaken(next.host, next.port);
    const connectionChanged =
      moved || next.protocol !== c.protocol || next.username !== c.username || input.password !== undefined ||
      !sameThumbprint(next.tls_thumbprint, c.tls_thumbprint) || next.insecure !== c.insecure;
    if (connectionChanged) {
      const session = await this.connector.connect({ ...next, password: input.password ?? storedPassword(this.secrets, c) });
      await session.close();
    }
    await writeTx(this.db, 'vcenter', async (trx) => {
      if (!(await this.stores.vcenters.get(id, trx))) throw this.notFound(id);
      if (input.name !== undefined && (await this.stores.vcenters.nameTaken(input.name, id, trx))) throw this.nameTaken(input.name);
      if (moved && (await this.stores.vcenters.endpointTaken(next.host, next.port, id, trx))) throw this.endpointTaken(next.host, next.port);
      const { password, ...rest } = input;
      const w: VcenterWrite = { ...rest, tls_thumbprint: next.tls_thumbprint, insecure: next.insecure };
      if (password !== undefined) w.password_encrypted = this.secrets.encrypt(password);
      await this.stores.vcenters.update(id, w, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'vcenter.update', entity_type: 'vcenter', entity_id: id, details: { fields: Object.keys(input), login_checked: connectionChanged }, request_id: op.requestId }, trx);
    }, () => this.nameTaken(input.name ?? ''));
    return this.get(id);
  }

  /** The vCenter's VMs stay in the inventory (vcenter_id becomes null), with their backups. */
  async remove(id: string, op: Operation): Promise<void> {
    const c = await this.require(id);
    await writeTx(this.db, 'vcenter', async (trx) => {
      await this.stores.vcenters.delete(id, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'vcenter.delete', entity_type: 'vcenter', entity_id: id, details: { name: c.name }, request_id: op.requestId }, trx);
    });
  }

  private async require(id: string) {
    const c = await this.stores.vcenters.get(id);
    if (!c) throw this.notFound(id);
    return c;
  }

  private notFound(id: string) {
    return notFound('VCENTER_NOT_FOUND', `vCenter ${id} does not exist`);
  }

  private nameTaken(name: string) {
    return conflict('VCENTER_NAME_TAKEN', `A vCenter named "${name}" already exists`, [{ field: 'body.name', message: 'is already used' }]);
  }

  private endpointTaken(host: string, port: number) {
    return conflict('VCENTER_DUPLICATE', `${host}:${port} is already registered`, [{ field: 'body.host', message: 'is already registered' }]);
  }
}
