import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { PACKS_DIR } from '../format.js';
import { readPackTrailer } from '../pack-format.js';

/**
 * Test helper: damages chunk `chunk` on purpose by flipping one bit in the middle of its stored
 * bytes, in whichever pack of the repository at `root` holds it. Returns that pack's path; throws
 * when no pack holds the chunk.
 */
export async function flipChunkByte(root: string, chunk: string): Promise<string> {
  for (const name of await readdir(path.join(root, PACKS_DIR))) {
    const file = path.join(root, PACKS_DIR, name);
    const entry = (await readPackTrailer(file)).find((e) => e.id === chunk);
    if (!entry) continue;
    const fh = await open(file, 'r+');
    try {
      const b = Buffer.alloc(1);
      const at = entry.offset + Math.floor(entry.stored_length / 2);
      await fh.read(b, 0, 1, at);
      b[0] = b[0]! ^ 0x10;
      await fh.write(b, 0, 1, at);
    } finally {
      await fh.close();
    }
    return file;
  }
  throw new Error(`no pack holds chunk ${chunk}`);
}
