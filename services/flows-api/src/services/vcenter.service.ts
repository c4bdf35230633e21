import { randomUUID } from 'node:crypto';
import type { Db, Stores, VcenterWrite } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { badRequest, conflict, notFound } from '@vaultflow/errors';
import type { SecretBox } from '@vaultflow/security';
import type { CreateVcenterRequest, UpdateVcenterRequest, VcenterListQuery, VcenterResponse } from '@vaultflow/schemas';
import { toVcenterResponse } from '../mappers/resources.mapper.js';
import { writeTx } from './write-tx.js';

function assertTls(thumbprint: string | null | undefined, insecure: boolean | undefined): void {
  if (thumbprint && insecure) {
    throw badRequest('VALIDATION_FAILED', 'Give either a TLS thumbprint or insecure: true, not both', [{ field: 'body.insecure', message: 'cannot be true when a thumbprint is given' }]);
  }
  if (!thumbprint && !insecure) {
    throw badRequest('VALIDATION_FAILED', "Give the vCenter certificate's thumbprint (tls_thumbprint), or set insecure: true to skip TLS verification", [{ field: 'body.tls_thumbprint', message: 'is required unless insecure is true' }]);
  }
}

/** Registered vCenters. Passwords are sealed with the hub's secret key and never returned. */
export class VcenterService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly secrets: SecretBox,
  ) {}

  async get(id: string): Promise<VcenterResponse> {
    return toVcenterResponse(await this.require(id));
  }

  async list(q: VcenterListQuery) {
    const { rows, total } = await this.stores.vcenters.list(q);
    return { vcenters: rows.map(toVcenterResponse), total };
  }

  async create(input: CreateVcenterRequest, op: Operation): Promise<VcenterResponse> {
    assertTls(input.tls_thumbprint, input.insecure);
    const port = input.port ?? 443;
    const id = randomUUID();
    await writeTx(this.db, 'vcenter', async (trx) => {
      if (await this.stores.vcenters.nameTaken(input.name, undefined, trx)) throw this.nameTaken(input.name);
      if (await this.stores.vcenters.endpointTaken(input.host, port, undefined, trx)) throw this.endpointTaken(input.host, port);
      await this.stores.vcenters.insert(id, {
        name: input.name, host: input.host, port, username: input.username,
        password_encrypted: this.secrets.encrypt(input.password),
        tls_thumbprint: input.tls_thumbprint?.toUpperCase() ?? null, insecure: input.insecure ?? false, enabled: input.enabled ?? true,
        created_by: op.actor.username,
      }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'vcenter.create', entity_type: 'vcenter', entity_id: id, details: { name: input.name, host: input.host, port }, request_id: op.requestId }, trx);
    }, () => this.nameTaken(input.name));
    return this.get(id);
  }

  async update(id: string, input: UpdateVcenterRequest, op: Operation): Promise<VcenterResponse> {
    await writeTx(this.db, 'vcenter', async (trx) => {
      const c = await this.stores.vcenters.get(id, trx);
      if (!c) throw this.notFound(id);
      const thumbprint = input.tls_thumbprint !== undefined ? input.tls_thumbprint : c.tls_thumbprint;
      const insecure = input.insecure ?? (input.tls_thumbprint ? false : c.insecure);
      assertTls(thumbprint, insecure);
      if (input.name !== undefined && input.name !== c.name && (await this.stores.vcenters.nameTaken(input.name, id, trx))) throw this.nameTaken(input.name);
      const host = input.host ?? c.host;
      const port = input.port ?? c.port;
      if ((host !== c.host || port !== c.port) && (await this.stores.vcenters.endpointTaken(host, port, id, trx))) throw this.endpointTaken(host, port);
      const { password, ...rest } = input;
      const w: VcenterWrite = { ...rest, tls_thumbprint: thumbprint?.toUpperCase() ?? null, insecure };
      if (password !== undefined) w.password_encrypted = this.secrets.encrypt(password);
      await this.stores.vcenters.update(id, w, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'vcenter.update', entity_type: 'vcenter', entity_id: id, details: { fields: Object.keys(input) }, request_id: op.requestId }, trx);
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
