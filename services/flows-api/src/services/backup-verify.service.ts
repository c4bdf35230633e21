import type { Stores } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import type { VerifyResponse } from '@vaultflow/schemas';
import { repositoryById, repositoryProblem, type BackupRepositories } from './backup-repositories.service.js';

/**
 * Verifies a repository now (synchronously): every chunk any restore point references is re-read
 * and re-hashed once; damaged points are named with the backup that owns them and, per disk, the
 * damaged chunks it needs.
 */
export class BackupVerifyService {
  constructor(
    private readonly stores: Stores,
    private readonly repositories: BackupRepositories,
  ) {}

  async verify(repositoryId: number, op: Operation): Promise<VerifyResponse> {
    const { row, repo } = await repositoryById(this.stores, this.repositories, repositoryId);
    const empty = { repository_id: repositoryId, ok: true, points_checked: 0, chunks_checked: 0, bytes_checked: 0, damaged: [], damaged_chunks: [] };
    if (!repo) return empty;
    const report = await repo.verify().catch((err: unknown) => {
      throw repositoryProblem(row, err, `Repository "${row.name}"`);
    });
    const owners = await this.stores.backups.byPoints(repositoryId, report.damaged_points.map((p) => p.id));
    const damaged: VerifyResponse['damaged'] = [];
    for (const p of report.damaged_points) {
      const owner = owners.get(p.id);
      const base = { backup_id: owner?.id ?? null, point_id: p.id, vm_context_id: owner?.vm_context_id ?? p.vm ?? null, reason: p.reason };
      if (p.reason === 'manifest' || !p.disks.length) damaged.push({ ...base, disk_key: null, chunks: p.chunks, message: p.message });
      else for (const d of p.disks) damaged.push({ ...base, disk_key: Number(d.key), chunks: d.chunks, message: `disk ${d.key} needs ${d.chunks.length} damaged chunk(s)` });
    }
    await this.stores.audit.record({ actor: op.actor.username, action: 'repository.verify', entity_type: 'repository', entity_id: repositoryId, details: { ok: report.ok, points: report.points_checked, damaged_points: report.damaged_points.length }, request_id: op.requestId });
    return {
      repository_id: repositoryId,
      ok: report.ok,
      points_checked: report.points_checked,
      chunks_checked: report.chunks_checked,
      bytes_checked: report.bytes_checked,
      damaged,
      damaged_chunks: report.damaged_chunks.map((c) => ({ chunk: c.chunk, pack: c.pack, reason: c.reason, message: c.message })),
    };
  }
}
