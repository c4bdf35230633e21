import { isDeadlock, type Db, type RepositoryWrite, type Stores, type Tx } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { AppError, badRequest, conflict, notFound } from '@vaultflow/errors';
import type { CreateRepositoryRequest, RepositoryListQuery, RepositoryResponse, RepositoryStorageResponse, UpdateRepositoryRequest } from '@vaultflow/schemas';
import { toRepositoryResponse } from '../mappers/resources.mapper.js';
import { nesting, type RepositoryStorage } from './repository-storage.js';
import { writeTx } from './write-tx.js';

function immutability(i: CreateRepositoryRequest['immutable']): Pick<RepositoryWrite, 'immutable_enabled' | 'immutable_retention_days'> | undefined {
  if (!i) return undefined;
  if (i.enabled && !i.retention_days) throw badRequest('VALIDATION_FAILED', 'An immutable repository needs retention_days', [{ field: 'body.immutable.retention_days', message: 'is required when immutability is enabled' }]);
  return { immutable_enabled: i.enabled, immutable_retention_days: i.enabled ? (i.retention_days ?? null) : null };
}

/** The path as stored and compared: without trailing slashes, so /data/repo/ and /data/repo are one folder. */
function withCanonicalPath<C extends { path: string }>(config: C): C {
  return { ...config, path: config.path.replace(/(?<=.)\/+$/, '') };
}

type Immutability = NonNullable<ReturnType<typeof immutability>>;

/**
 * Immutability only ever gets stronger: an immutable repository may not be switched off nor have
 * its retention lowered (a longer retention is fine). Throws 409 REPOSITORY_IMMUTABLE.
 */
function assertKeepsImmutability(name: string, current: { enabled: boolean; retention_days: number | null }, next: Immutability): void {
  if (!current.enabled) return;
  if (!next.immutable_enabled) {
    throw conflict('REPOSITORY_IMMUTABLE', `Repository "${name}" is immutable: immutability cannot be switched off`, [{ field: 'body.immutable.enabled', message: 'cannot be set to false on an immutable repository' }]);
  }
  if (current.retention_days !== null && (next.immutable_retention_days ?? 0) < current.retention_days) {
    throw conflict('REPOSITORY_IMMUTABLE', `Repository "${name}" is immutable for ${current.retention_days} days: the retention can be raised, not lowered`, [{ field: 'body.immutable.retention_days', message: `cannot be lower than ${current.retention_days}` }]);
  }
}

/** Capacity is recorded in a TIMESTAMP column (whole seconds): answer the instant as it is stored. */
function wholeSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Backup repositories: where restore points are stored. */
export class RepositoryService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly storage: RepositoryStorage,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(id: number): Promise<RepositoryResponse> {
    return toRepositoryResponse(await this.require(id));
  }

  async list(q: RepositoryListQuery) {
    const { rows, total } = await this.stores.repositories.list(q);
    return { repositories: rows.map(toRepositoryResponse), total };
  }

  /** Checks the path on the file system (created for local, mounted for nfs/cifs, writable), then records it. */
  async create(request: CreateRepositoryRequest, op: Operation): Promise<RepositoryResponse> {
    const input = { ...request, config: withCanonicalPath(request.config) };
    const imm = immutability(input.immutable) ?? {};
    if (await this.stores.repositories.nameTaken(input.name)) throw this.nameTaken(input.name);
    await this.assertPathFree(input.config.path);
    await this.storage.prepare(input.config.path, input.repository_type);
    const cap = await this.storage.capacity(input.config.path);
    const id = await this.pathTx(async (trx) => {
      await this.assertPathFree(input.config.path, undefined, trx);
      const newId = await this.stores.repositories.insert(
        { name: input.name, description: input.description ?? null, repository_type: input.repository_type, config: input.config, enabled: input.enabled ?? true, ...imm, created_by: op.actor.username },
        trx,
      );
      if (cap) await this.stores.repositories.recordCapacity(newId, { ...cap, at: this.now() }, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'repository.create', entity_type: 'repository', entity_id: newId, details: { name: input.name, type: input.repository_type, path: input.config.path }, request_id: op.requestId }, trx);
      return newId;
    }, () => this.nameTaken(input.name));
    return this.get(id);
  }

  async update(id: number, input: UpdateRepositoryRequest, op: Operation): Promise<RepositoryResponse> {
    const current = await this.require(id);
    const imm = immutability(input.immutable);
    if (imm) assertKeepsImmutability(current.name, { enabled: current.immutable_enabled, retention_days: current.immutable_retention_days }, imm);
    const w: RepositoryWrite = {};
    if (input.name !== undefined) {
      if (input.name !== current.name && (await this.stores.repositories.nameTaken(input.name, id))) throw this.nameTaken(input.name);
      w.name = input.name;
    }
    if (input.description !== undefined) w.description = input.description;
    if (input.enabled !== undefined) w.enabled = input.enabled;
    Object.assign(w, imm ?? {});
    const type = input.repository_type ?? current.repository_type;
    if (input.config) input = { ...input, config: withCanonicalPath(input.config) };
    const config = input.config ?? current.config;
    const moved = config.path !== current.config.path || type !== current.repository_type;
    if (moved) {
      if (current.backup_count > 0) {
        throw conflict('REPOSITORY_HAS_BACKUPS', `Repository "${current.name}" holds ${current.backup_count} restore point(s): its path and type cannot change`, [{ field: 'body.config.path', message: 'cannot change while backups exist' }]);
      }
      await this.assertPathFree(config.path, id);
      await this.storage.prepare(config.path, type);
    }
    if (input.config) w.config = input.config;
    if (input.repository_type) w.repository_type = input.repository_type;
    await this.pathTx(async (trx) => {
      // Checked again under row locks: a concurrent update or create cannot slip in between.
      const locked = await this.stores.repositories.immutabilityForUpdate(id, trx);
      if (!locked) throw this.notFound(id);
      if (imm) assertKeepsImmutability(current.name, locked, imm);
      if (moved) await this.assertPathFree(config.path, id, trx);
      await this.stores.repositories.update(id, w, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'repository.update', entity_type: 'repository', entity_id: id, details: { fields: Object.keys(input) }, request_id: op.requestId }, trx);
    }, () => this.nameTaken(input.name ?? ''));
    return this.get(id);
  }

  /** Refused (409, naming them) while flows, copy rules or restore points use the repository. */
  async remove(id: number, op: Operation): Promise<void> {
    const r = await this.require(id);
    const flows = await this.stores.flows.referencing('repository_id', id);
    if (flows.length) {
      throw conflict('REPOSITORY_IN_USE', `Repository "${r.name}" is used by ${flows.length} flow(s): ${flows.map((f) => f.name).join(', ')}`, flows.map((f) => ({ field: 'flow', message: `${f.id} (${f.name})` })));
    }
    const policies = await this.stores.repositories.copyRulePolicies(id);
    if (policies.length) {
      throw conflict('REPOSITORY_IN_USE', `Repository "${r.name}" is the copy destination of policy ${policies.map((p) => `"${p.name}"`).join(', ')}`, policies.map((p) => ({ field: 'policy', message: `${p.id} (${p.name})` })));
    }
    if (r.backup_count > 0) throw conflict('REPOSITORY_HAS_BACKUPS', `Repository "${r.name}" holds ${r.backup_count} restore point(s): delete them first`);
    await writeTx(this.db, 'repository', async (trx) => {
      await this.stores.repositories.delete(id, trx);
      await this.stores.audit.record({ actor: op.actor.username, action: 'repository.delete', entity_type: 'repository', entity_id: id, details: { name: r.name, path: r.config.path }, request_id: op.requestId }, trx);
    });
  }

  /** Reads capacity from the file system now and records it. */
  async storageOf(id: number): Promise<RepositoryStorageResponse> {
    const r = await this.require(id);
    const cap = await this.storage.capacity(r.config.path);
    if (!cap) throw new AppError('unavailable', 'REPOSITORY_UNAVAILABLE', `The path of repository "${r.name}" (${r.config.path}) cannot be read: is it mounted?`);
    const at = wholeSecond(this.now());
    await this.stores.repositories.recordCapacity(id, { ...cap, at });
    return {
      repository_id: id,
      path: r.config.path,
      total_bytes: cap.total,
      used_bytes: cap.used,
      available_bytes: cap.available,
      used_percent: cap.total ? Math.round((cap.used / cap.total) * 10000) / 100 : 0,
      checked_at: at.toISOString(),
    };
  }

  /**
   * writeTx for writes that check paths under lock. The gap locks of two such transactions can
   * deadlock (two first repositories created at once); the one the database rolled back is run
   * again, and then waits for the other, as InnoDB advises.
   */
  private async pathTx<T>(fn: (trx: Tx) => Promise<T>, onDuplicate: () => AppError): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await writeTx(this.db, 'repository', fn, onDuplicate);
      } catch (err) {
        // writeTx keeps the database's error as the cause of the AppError it throws
        if (attempt < 5 && err instanceof AppError && isDeadlock(err.cause)) continue;
        throw err;
      }
    }
  }

  /**
   * Two repositories never share a folder, nor does one live inside another's: compared as written
   * (normalised) and with symbolic links followed. Inside `trx` the paths are read under lock.
   */
  private async assertPathFree(p: string, exceptId?: number, trx?: Tx): Promise<void> {
    const others = await this.stores.repositories.paths(exceptId, trx ?? this.db, trx !== undefined);
    if (!others.length) return;
    const mine = [p, await this.storage.resolve(p)];
    for (const other of others) {
      const theirs = [other.path, await this.storage.resolve(other.path)];
      for (const a of mine) {
        for (const b of theirs) {
          const how = nesting(a, b);
          if (how === 'same') throw conflict('REPOSITORY_PATH_TAKEN', `Repository "${other.name}" already uses ${p}`, [{ field: 'body.config.path', message: 'is used by another repository' }]);
          if (how === 'inside') throw conflict('REPOSITORY_PATH_TAKEN', `${p} is inside ${other.path}, the folder of repository "${other.name}"`, [{ field: 'body.config.path', message: 'is inside the folder of another repository' }]);
          if (how === 'contains') throw conflict('REPOSITORY_PATH_TAKEN', `${p} contains ${other.path}, the folder of repository "${other.name}"`, [{ field: 'body.config.path', message: 'contains the folder of another repository' }]);
        }
      }
    }
  }

  private async require(id: number) {
    const r = await this.stores.repositories.get(id);
    if (!r) throw this.notFound(id);
    return r;
  }

  private notFound(id: number) {
    return notFound('REPOSITORY_NOT_FOUND', `Repository ${id} does not exist`);
  }

  private nameTaken(name: string) {
    return conflict('REPOSITORY_NAME_TAKEN', `A repository named "${name}" already exists`, [{ field: 'body.name', message: 'is already used' }]);
  }
}
