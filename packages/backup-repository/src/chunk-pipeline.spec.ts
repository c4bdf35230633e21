import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { BufferPool } from './buffer-pool.js';
import { ChunkPipeline } from './chunk-pipeline.js';
import { ChunkWorkers } from './chunk-workers.js';
import type { PackWriter } from './pack-writer.js';
import type { RepositoryIndex } from './repository-index.js';

const CHUNK = 64 * 1024;

/** A chunk in a SharedArrayBuffer (the pipeline's zero-copy case), filled by `fill`. */
function shared(fill: (b: Buffer) => void): Buffer {
  const b = Buffer.from(new SharedArrayBuffer(CHUNK));
  fill(b);
  return b;
}

/** A pack writer that records appends; raw appends wait until `releaseRaw` is called. */
class HeldPacks {
  appended: Array<{ compressed: boolean; length: number }> = [];
  private raw: Array<() => void> = [];

  async appendEncoded(_id: Uint8Array, stored: Uint8Array, _raw: number, compressed: boolean): Promise<number> {
    this.appended.push({ compressed, length: stored.length });
    if (!compressed) await new Promise<void>((resolve) => this.raw.push(resolve));
    return stored.length;
  }

  releaseRaw(): void {
    for (const r of this.raw.splice(0)) r();
  }
}

const nothingKnown = { has: () => false } as unknown as RepositoryIndex;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ChunkPipeline', () => {
  it('lets the next chunk be hashed and compressed while a raw chunk is written from the caller\'s buffer', async () => {
    const packs = new HeldPacks();
    const pipeline = new ChunkPipeline(new ChunkWorkers(0), new BufferPool(), nothingKnown, packs as unknown as PackWriter, CHUNK, 1);
    const random = pipeline.store(shared((b) => randomBytes(CHUNK).copy(b)));
    await tick();
    expect(packs.appended).to.deep.equal([{ compressed: false, length: CHUNK }]); // its write is in flight
    // one slot only, yet the text chunk gets through while the raw write is pending
    const text = await pipeline.store(shared((b) => b.fill('backup log line\n')));
    expect(text.isNew).to.equal(true);
    expect(packs.appended[1]!.compressed).to.equal(true);
    packs.releaseRaw();
    expect((await random).stored).to.equal(CHUNK);
  });

  it('keeps the slot through the write of a chunk it had to copy (the copy is its own buffer)', async () => {
    const packs = new HeldPacks();
    const pipeline = new ChunkPipeline(new ChunkWorkers(0), new BufferPool(), nothingKnown, packs as unknown as PackWriter, CHUNK, 1);
    const random = pipeline.store(randomBytes(CHUNK)); // not shared: staged into a pooled buffer
    await tick();
    let textDone = false;
    const text = pipeline.store(shared((b) => b.fill('backup log line\n'))).then(() => (textDone = true));
    await tick();
    expect(textDone).to.equal(false); // waits for the slot
    packs.releaseRaw();
    await Promise.all([random, text]);
    expect(packs.appended.map((a) => a.compressed)).to.deep.equal([false, true]);
  });
});
