import { restoredImageName } from '@vaultflow/backup-repository';
import type { Stores } from '@vaultflow/db';
import { conflict, notFound } from '@vaultflow/errors';
import type { Reply } from '../http/context.js';
import { repositoryProblem, type BackupRepositories } from './backup-repositories.service.js';
import type { BackupService } from './backup.service.js';
import { parseRange } from './restore-range.js';

/** The answer to one image request, as the route sends it. */
export type ImageAnswer = Required<Pick<Reply, 'status' | 'headers'>> & Pick<Reply, 'stream' | 'body'>;

/**
 * Raw disk images streamed straight from the repository (no temporary file): the whole disk or one
 * byte range of it, every chunk re-hashed on the way. The ETag names the point and disk, whose bytes
 * never change.
 */
export class RestoreImageService {
  constructor(
    private readonly stores: Stores,
    private readonly backups: BackupService,
    private readonly repositories: BackupRepositories,
  ) {}

  async answer(backupId: string, diskKey: number, range: string | undefined, ifRange: string | undefined, requestId: string): Promise<ImageAnswer> {
    const b = await this.backups.require(backupId);
    if (b.status !== 'success' || !b.manifest_ref) throw conflict('BACKUP_NOT_RESTORABLE', `Backup ${backupId} is ${b.status}: only a successful backup has disk images`);
    const disk = (await this.stores.backups.disks(backupId)).find((d) => d.disk_key === diskKey);
    if (!disk) throw notFound('DISK_NOT_FOUND', `Backup ${backupId} has no disk ${diskKey}`);
    const row = await this.stores.repositories.get(b.repository_id);
    if (!row) throw conflict('BACKUP_POINT_UNREADABLE', `The repository of backup ${backupId} does not exist any more`);
    const repo = await this.repositories.of(row);
    if (!repo) throw conflict('BACKUP_POINT_UNREADABLE', `Repository "${row.name}" holds no restore points at ${row.config.path}`);
    const size = disk.capacity_bytes;
    const etag = `"${b.manifest_ref}-${diskKey}"`;
    const ask = ifRange !== undefined && ifRange.trim() !== etag ? { kind: 'all' as const } : parseRange(range, size);
    const headers: Record<string, string> = { 'accept-ranges': 'bytes', etag, 'cache-control': 'private, no-store' };
    if (ask.kind === 'unsatisfiable') {
      return {
        status: 416,
        headers: { ...headers, 'content-range': `bytes */${size}` },
        body: { error: { code: 'RANGE_NOT_SATISFIABLE', message: `The disk image has ${size} bytes: the requested range is outside it`, details: [{ field: 'header.range', message: `must start before byte ${size}` }], request_id: requestId } },
      };
    }
    const [start, end] = ask.kind === 'range' ? [ask.start, ask.end] : [0, size - 1];
    const length = size === 0 ? 0 : end - start + 1;
    const what = `Disk ${diskKey} of backup ${backupId}`;
    return {
      status: ask.kind === 'range' ? 206 : 200,
      headers: {
        ...headers,
        'content-type': 'application/octet-stream',
        'content-length': String(length),
        'content-disposition': `attachment; filename="${restoredImageName(backupId, diskKey)}"`,
        ...(ask.kind === 'range' ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      },
      stream: () => repo.readRange(b.manifest_ref!, String(diskKey), start, length).catch((err: unknown) => {
        throw repositoryProblem(row, err, what);
      }),
    };
  }
}
