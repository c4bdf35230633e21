import { randomUUID } from 'node:crypto';
import type { Db, Stores, VcenterRecord } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { AppError, conflict, notFound, unprocessable } from '@vaultflow/errors';
import type { Logger } from '@vaultflow/logging';
import type { VcenterDiscoveryResponse } from '@vaultflow/schemas';
import type { SecretBox } from '@vaultflow/security';
import { isVsphereError } from '@vaultflow/vsphere';
import { planDiscovery } from './discovery-plan.js';
import type { Locks } from './discovery-lock.js';
import { sdkUrlOfTarget, type DiscoveredVm, type VcenterConnector, type VcenterSession, type VcenterTarget } from './vcenter-connector.js';

export type DiscoveryResult = VcenterDiscoveryResponse;

export interface DiscoverOptions {
  /** A manual discovery: recorded in audit_log under this actor and request. */
  op?: Operation;
  /** An open session to use instead of logging in (registration passes its login check's). Closed in every case. */
  session?: VcenterSession;
}

/** Outcome of one periodic pass. */
export interface DuePassResult {
  discovered: number;
  failed: number;
  /** Locked by another replica, discovered by it meanwhile, disabled or removed meanwhile. */
  skipped: number;
}

const NOT_DUE = Symbol('not due');

/** The clear password of a stored vCenter; 422 VCENTER_PASSWORD_UNREADABLE when the hub's secret key changed since it was sealed. */
export function storedPassword(secrets: SecretBox, c: VcenterRecord): string {
  try {
    return secrets.decrypt(c.password_encrypted);
  } catch {
    throw unprocessable(
      'VCENTER_PASSWORD_UNREADABLE',
      `The stored password of vCenter "${c.name}" cannot be decrypted with this hub's VAULTFLOW_SECRET_KEY (was the key changed?): set the password again with PUT /api/v1/vcenters/${c.id}`,
      [{ field: 'body.password', message: 'must be given again' }],
    );
  }
}

/** The failure of a listing after a successful login, as a client can act on it (no request fields to name). */
function listingError(err: unknown, where: string): unknown {
  if (err instanceof AppError) return new AppError(err.kind, err.code, err.message); // the connector's, without body.* details
  if (!isVsphereError(err)) return err;
  if (err.code === 'NOT_AUTHENTICATED' || err.code === 'INVALID_LOGIN') {
    return unprocessable('VCENTER_LOGIN_FAILED', `The vCenter at ${where} ended the session and refused a new login: ${err.message}`);
  }
  if (err.transient) return unprocessable('VCENTER_UNREACHABLE', `Lost the vCenter at ${where} while reading its inventory: ${err.message}`);
  return unprocessable('VCENTER_DISCOVERY_FAILED', `Reading the inventory of ${where} failed: ${err.message}`);
}

/**
 * Reads a vCenter's VMs and disks into vm_contexts and vm_disks. Talks to vSphere only through a
 * {@link VcenterConnector}; one discovery per vCenter at a time across replicas (a lock per vCenter);
 * the inventory of one vCenter is written in one transaction, so a failed run changes nothing but
 * `last_error`.
 */
export class DiscoveryService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly connector: VcenterConnector,
    private readonly secrets: SecretBox,
    private readonly locks: Locks,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** How to log in to a stored vCenter. */
  targetOf(c: VcenterRecord): VcenterTarget {
    return { host: c.host, port: c.port, protocol: c.protocol, username: c.username, password: storedPassword(this.secrets, c), tls_thumbprint: c.tls_thumbprint, insecure: c.insecure };
  }

  /**
   * Discovers one vCenter now. 404 VCENTER_NOT_FOUND, 409 VCENTER_DISABLED, 409
   * DISCOVERY_IN_PROGRESS when another discovery of it runs (here or on another replica), 422
   * VCENTER_UNREACHABLE / VCENTER_LOGIN_FAILED / VCENTER_TLS_MISMATCH / VCENTER_DISCOVERY_FAILED
   * after recording the error in `last_error`.
   */
  async discover(id: string, opts: DiscoverOptions = {}): Promise<DiscoveryResult> {
    const r = await this.discoverLocked(id, opts);
    if (r === NOT_DUE) throw new Error('unreachable: a discovery without a due date is always due');
    return r;
  }

  /** {@link discover} for when a failure must not fail the caller (registration): undefined then; the error is in `last_error` and the log. */
  async tryDiscover(id: string, opts: DiscoverOptions = {}): Promise<DiscoveryResult | undefined> {
    try {
      return await this.discover(id, opts);
    } catch (err) {
      this.logger.warn({ vcenter_id: id, err: err instanceof AppError ? err.message : err }, 'discovery failed');
      return undefined;
    }
  }

  /**
   * The periodic pass: every enabled vCenter whose last successful discovery is older than
   * `maxAgeMs`, one after the other. Safe on several replicas at once: each vCenter is locked, and
   * checked again once locked, so a vCenter another replica has just done is skipped. Never throws.
   */
  async discoverDue(maxAgeMs: number, shouldStop: () => boolean = () => false): Promise<DuePassResult> {
    const out: DuePassResult = { discovered: 0, failed: 0, skipped: 0 };
    const dueBefore = new Date(this.now().getTime() - maxAgeMs);
    let due: { id: string; name: string }[];
    try {
      due = await this.stores.vcenters.dueForDiscovery(dueBefore);
    } catch (err) {
      this.logger.warn({ err }, 'periodic discovery could not list the vCenters');
      return out;
    }
    for (const c of due) {
      if (shouldStop()) break;
      try {
        if ((await this.discoverLocked(c.id, {}, dueBefore)) === NOT_DUE) out.skipped++;
        else out.discovered++;
      } catch (err) {
        if (err instanceof AppError && ['DISCOVERY_IN_PROGRESS', 'VCENTER_DISABLED', 'VCENTER_NOT_FOUND'].includes(err.code)) out.skipped++;
        else {
          out.failed++;
          this.logger.warn({ vcenter_id: c.id, vcenter: c.name, err: err instanceof AppError ? err.message : err }, 'periodic discovery failed');
        }
      }
    }
    return out;
  }

  private async discoverLocked(id: string, opts: DiscoverOptions, dueBefore?: Date): Promise<DiscoveryResult | typeof NOT_DUE> {
    const started = performance.now();
    try {
      const c = await this.require(id);
      if (!c.enabled) throw conflict('VCENTER_DISABLED', `vCenter "${c.name}" is disabled: enable it to discover its VMs`);
      const lease = await this.locks.tryAcquire(`discovery:vcenter:${id}`);
      if (!lease) throw conflict('DISCOVERY_IN_PROGRESS', `A discovery of vCenter "${c.name}" is already running: its result will show in the inventory shortly`);
      try {
        const current = await this.require(id); // as it is now that we hold the lock
        if (dueBefore && current.last_discovery_at && current.last_discovery_at >= dueBefore) return NOT_DUE;
        return await this.run(current, opts, started);
      } finally {
        await lease.release();
      }
    } finally {
      await opts.session?.close();
    }
  }

  private async run(c: VcenterRecord, opts: DiscoverOptions, started: number): Promise<DiscoveryResult> {
    let listed: DiscoveredVm[];
    try {
      const session = opts.session ?? (await this.connector.connect(this.targetOf(c)));
      try {
        listed = await session.listVms();
      } finally {
        if (!opts.session) await session.close();
      }
    } catch (err) {
      const failure = listingError(err, sdkUrlOfTarget(c));
      await this.recordFailure(c, failure, opts.op);
      throw failure;
    }
    const seenAt = this.now();
    const result = await this.db.transaction(async (trx) => {
      if (!(await this.stores.vcenters.lock(c.id, trx))) throw this.notFound(c.id); // removed while we listed
      const plan = planDiscovery(c.id, await this.stores.vms.inventoryOf(c.id, trx), listed, seenAt);
      for (const a of plan.add) {
        const contextId = await this.stores.vms.upsert(randomUUID(), a.write, trx);
        await this.stores.vms.replaceDisks(contextId, a.disks, trx);
      }
      for (const u of plan.update) {
        if (u.morefChanged) await this.stores.vms.setMoref(u.contextId, u.write.moref, trx);
        await this.stores.vms.upsert(u.contextId, u.write, trx);
        if (u.disksChanged) await this.stores.vms.replaceDisks(u.contextId, u.disks, trx);
      }
      await this.stores.vms.touchSeen(plan.unchanged, seenAt, trx);
      await this.stores.vms.markMissing(plan.vanished, trx);
      await this.stores.vcenters.recordDiscovery(c.id, { at: seenAt }, trx);
      const counts = { vms_found: plan.found, vms_added: plan.add.length, vms_updated: plan.update.length, vms_missing: plan.missing, disks: plan.disks };
      if (opts.op) {
        await this.stores.audit.record({ actor: opts.op.actor.username, action: 'vcenter.discover', entity_type: 'vcenter', entity_id: c.id, details: counts, request_id: opts.op.requestId }, trx);
      }
      return { ...counts, duration_ms: Math.round(performance.now() - started) };
    });
    this.logger.info({ vcenter_id: c.id, vcenter: c.name, ...result }, 'discovered vCenter inventory');
    return result;
  }

  /** Keeps the error on the vCenter row (and, for a manual run, in audit_log); the inventory stays as it was. */
  private async recordFailure(c: VcenterRecord, failure: unknown, op: Operation | undefined): Promise<void> {
    const message = failure instanceof AppError ? failure.message : `Discovery failed unexpectedly: ${(failure as Error)?.message ?? String(failure)}`;
    if (!(failure instanceof AppError)) this.logger.error({ err: failure, vcenter_id: c.id }, 'discovery failed unexpectedly');
    try {
      await this.db.transaction(async (trx) => {
        await this.stores.vcenters.recordDiscovery(c.id, { error: message.slice(0, 4000) }, trx);
        if (op) {
          await this.stores.audit.record({ actor: op.actor.username, action: 'vcenter.discover', entity_type: 'vcenter', entity_id: c.id, details: { error: failure instanceof AppError ? failure.code : 'INTERNAL' }, request_id: op.requestId }, trx);
        }
      });
    } catch (err) {
      this.logger.warn({ err, vcenter_id: c.id }, 'could not record the discovery failure');
    }
  }

  private async require(id: string): Promise<VcenterRecord> {
    const c = await this.stores.vcenters.get(id);
    if (!c) throw this.notFound(id);
    return c;
  }

  private notFound(id: string): AppError {
    return notFound('VCENTER_NOT_FOUND', `vCenter ${id} does not exist`);
  }
}
