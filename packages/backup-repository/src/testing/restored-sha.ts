import { createHash } from 'node:crypto';
import type { RestoreSink } from '../disk-image.js';
import type { Repository } from '../repository.js';

/**
 * Test helper: the sha256 of a disk restored from a point, checking on the way that the restore
 * writes in one pass from offset 0 and covers exactly `capacity` bytes.
 */
export async function restoredSha256(repo: Repository, pointId: string, diskKey: string, capacity: number): Promise<string> {
  const h = createHash('sha256');
  let pos = 0;
  const sink: RestoreSink = {
    async write(data, offset) {
      if (offset !== pos) throw new Error(`restore of ${diskKey} wrote at ${offset}, expected ${pos}: not one pass`);
      h.update(data);
      pos += data.length;
    },
  };
  await repo.restoreDisk(pointId, diskKey, sink);
  if (pos !== capacity) throw new Error(`restore of ${diskKey} produced ${pos} bytes, expected ${capacity}`);
  return h.digest('hex');
}
