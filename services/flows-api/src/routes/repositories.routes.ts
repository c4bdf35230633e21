import { repositoryEndpoints as e } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { RepositoryService } from '../services/repository.service.js';

export function repositoriesRoutes(r: Registrar, repos: RepositoryService): void {
  r.handle(e.list, async (c) => ({ body: await repos.list(c.query) }));
  r.handle(e.create, async (c) => ({ status: 201, body: await repos.create(c.body, c.op) }));
  r.handle(e.get, async (c) => ({ body: await repos.get(c.params.id) }));
  r.handle(e.update, async (c) => ({ body: await repos.update(c.params.id, c.body, c.op) }));
  r.handle(e.remove, async (c) => (await repos.remove(c.params.id, c.op), { status: 204 }));
  r.handle(e.storage, async (c) => ({ body: await repos.storageOf(c.params.id) }));
}
