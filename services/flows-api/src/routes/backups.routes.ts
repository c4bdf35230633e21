import { backupEndpoints as e, restoreEndpoints as r } from '@vaultflow/schemas';
import type { Registrar } from '../http/registrar.js';
import type { BackupVerifyService } from '../services/backup-verify.service.js';
import type { BackupService } from '../services/backup.service.js';
import type { RestoreImageService } from '../services/restore-image.service.js';
import type { RepositoryPruneService } from '../services/repository-prune.service.js';
import type { RestoreService } from '../services/restore.service.js';

export interface BackupRoutesServices {
  backups: BackupService;
  restores: RestoreService;
  images: RestoreImageService;
  verify: BackupVerifyService;
  prune: RepositoryPruneService;
}

export function backupsRoutes(reg: Registrar, s: BackupRoutesServices): void {
  reg.handle(e.list, async (c) => ({ body: await s.backups.list(c.query) }));
  reg.handle(e.create, async (c) => ({ status: 202, body: await s.backups.create(c.body, c.op) }));
  reg.handle(e.get, async (c) => ({ body: await s.backups.get(c.params.id) }));
  reg.handle(e.logs, async (c) => ({ body: await s.backups.logs(c.params.id, c.query) }));
  reg.handle(e.remove, async (c) => (await s.backups.remove(c.params.id, c.op), { status: 204 }));
  reg.handle(e.image, async (c) => s.images.answer(c.params.id, c.params.key, c.header('range'), c.header('if-range'), c.requestId));
  reg.handle(e.verify, async (c) => ({ body: await s.verify.verify(c.params.id, c.op) }));
  reg.handle(e.prune, async (c) => ({ body: await s.prune.prune(c.params.id, c.op) }));
  reg.handle(r.create, async (c) => ({ status: 202, body: await s.restores.create(c.params.id, c.body, c.op) }));
  reg.handle(r.list, async (c) => ({ body: await s.restores.list(c.params.id) }));
  reg.handle(r.get, async (c) => ({ body: await s.restores.get(c.params.id, c.params.restoreId) }));
}
