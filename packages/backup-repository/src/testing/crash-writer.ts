// Child process of crash.spec.ts: writes restore points (fulls, incrementals, deletions, prunes) in a
// loop until it is killed. Before each point it prints "EXPECT <seq> <sha256 per disk>" and after
// the commit "COMMITTED <seq> <id>"; before a deletion "DELETING <id>". "READY" once it starts writing.
// Usage: node --import tsx crash-writer.ts <repository> <round>
import { Repository, type PointInfo } from '../index.js';
import { scatterChanges } from './changes.js';
import { mixedImage, Prng, restoreToBuffer, sha256, writeWhole } from './images.js';

const MiB = 1024 * 1024;
const VM = 'vm-crash';
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<void> {
  const [root, round] = process.argv.slice(2);
  if (!root || round === undefined) throw new Error('usage: crash-writer <repository> <round>');
  const repo = await Repository.open(root);
  const prng = new Prng(`crash-${round}`);
  const existing = await repo.listPoints(VM);
  let parent: PointInfo | undefined = existing[existing.length - 1];
  const images: Record<string, Buffer> = parent
    ? { 2000: await restoreToBuffer(repo, parent.id, '2000'), 2001: await restoreToBuffer(repo, parent.id, '2001') }
    : { 2000: mixedImage(24 * MiB, `a-${round}`, 64 * 1024, 2 * MiB), 2001: mixedImage(8 * MiB, `b-${round}`, 64 * 1024, MiB) };
  say('READY');
  for (let n = 0; n < 60; n++) {
    const seq = `${round}-${n}`;
    const fullA = !parent || n % 4 === 3;
    const w = await repo.beginPoint({ vm: VM, parent: parent?.id, meta: { seq } });
    const areas = {
      2000: fullA ? [] : scatterChanges(images[2000]!, prng, 40),
      2001: parent ? scatterChanges(images[2001]!, prng, 20) : [],
    };
    if (fullA) prng.fill(images[2000]!.subarray(prng.int(20) * MiB, (prng.int(4) + 21) * MiB));
    say(`EXPECT ${seq} ${sha256(images[2000]!)} ${sha256(images[2001]!)}`);
    w.addDisk({ key: '2000', capacity: images[2000]!.length, mode: fullA ? 'full' : 'incremental' });
    w.addDisk({ key: '2001', capacity: images[2001]!.length, mode: parent ? 'incremental' : 'full' });
    if (fullA) await writeWhole(w, '2000', images[2000]!, 2 * MiB);
    if (!parent) await writeWhole(w, '2001', images[2001]!, 2 * MiB);
    for (const key of ['2000', '2001'] as const) {
      for (const a of areas[key]) await w.writeExtent(key, a.offset, images[key]!.subarray(a.offset, a.offset + a.length));
    }
    parent = await w.commit();
    say(`COMMITTED ${seq} ${parent.id}`);
    const points = await repo.listPoints(VM);
    if (points.length > 4) {
      say(`DELETING ${points[0]!.id}`);
      await repo.deletePoint(points[0]!.id);
    }
    if (n % 3 === 2) await repo.prune({ maxUnusedFraction: 0 });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
