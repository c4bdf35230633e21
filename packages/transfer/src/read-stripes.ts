import type { ByteRange } from '@vaultflow/nbd';

/** Places of a disk a transfer reads at once by default (see {@link ReadStripes}). */
export const DEFAULT_STRIPES = 4;

interface Stripe {
  reads: readonly ByteRange[];
  next: number;
}

/**
 * The planned reads of a disk cut into `count` stripes of about equal bytes (in plan order), and dealt
 * to the transfer's lanes: lane i reads stripe i mod count front to back, and once its stripe is done
 * helps the stripe with the most reads left. So a transfer works on several places of the disk at once.
 * A disk is rarely alike along its length: stretches that cost CPU (compressible data) and stretches that
 * cost I/O (incompressible data, written to the repository as it is) then overlap instead of taking turns,
 * with the CPU idle in one and the disk in the other. Every read is handed out exactly once.
 */
export class ReadStripes {
  private readonly stripes: Stripe[] = [];

  constructor(reads: readonly ByteRange[], count: number) {
    const parts = Math.max(1, Math.min(Math.floor(count), reads.length));
    let total = 0;
    for (const r of reads) total += r.length;
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < reads.length; i++) {
      bytes += reads[i]!.length;
      // close stripe k once it holds its share of the bytes (the last takes the rest)
      if (this.stripes.length < parts - 1 && bytes >= ((this.stripes.length + 1) * total) / parts) {
        this.stripes.push({ reads: reads.slice(from, i + 1), next: 0 });
        from = i + 1;
      }
    }
    if (from < reads.length || this.stripes.length === 0) this.stripes.push({ reads: reads.slice(from), next: 0 });
  }

  /** Stripes the reads were cut into. */
  get count(): number {
    return this.stripes.length;
  }

  /** The next read for `lane` (0, 1, ...), or undefined when every read was handed out. */
  next(lane: number): ByteRange | undefined {
    let stripe = this.stripes[lane % this.stripes.length]!;
    if (stripe.next >= stripe.reads.length) {
      for (const s of this.stripes) if (s.reads.length - s.next > stripe.reads.length - stripe.next) stripe = s;
    }
    return stripe.next < stripe.reads.length ? stripe.reads[stripe.next++] : undefined;
  }
}
