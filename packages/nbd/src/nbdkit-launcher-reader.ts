import type { ByteRange, DiskReader } from './disk-reader.js';
import type { ReadInto } from './nbd-client.js';
import { NbdDiskReader, type NbdDiskReaderOptions } from './nbd-disk-reader.js';
import { launchNbdkit, type NbdkitLaunchOptions, type NbdkitProcess } from './nbdkit-launcher.js';

/**
 * A {@link DiskReader} over an nbdkit it launched itself (one per disk, as the VDDK plugin is used):
 * reads with retries through {@link NbdDiskReader}, block status for holes, and close() stops nbdkit.
 */
export class NbdkitDiskReader implements DiskReader {
  private closing: Promise<void> | undefined;

  private constructor(private readonly reader: NbdDiskReader, readonly process: NbdkitProcess) {}

  /**
   * Launches nbdkit, connects (asking for base:allocation) and returns the reader. When anything fails
   * on the way, nbdkit is stopped before the rejection: nothing is left running.
   */
  static async open(launch: NbdkitLaunchOptions, options: NbdDiskReaderOptions = {}): Promise<NbdkitDiskReader> {
    const proc = await launchNbdkit(launch);
    try {
      return new NbdkitDiskReader(await NbdDiskReader.open({ address: { socketPath: proc.socket } }, options), proc);
    } catch (err) {
      await proc.stop();
      if (err instanceof Error && !proc.running && proc.stderr().trim()) err.message += ` (nbdkit: ${proc.stderr().trim().split('\n').slice(-3).join(' | ')})`;
      throw err;
    }
  }

  get size(): number {
    return this.reader.size;
  }

  /** Reads exactly `length` bytes at `offset`, into `into` when given. */
  read(offset: number, length: number, into?: ReadInto): Promise<Buffer> {
    return this.reader.read(offset, length, into);
  }

  /** Ranges that may hold data, from nbdkit's base:allocation (the whole disk when the plugin cannot tell). */
  allocatedExtents(): Promise<ByteRange[]> {
    return this.reader.allocatedExtents();
  }

  /** Closes the connection and stops nbdkit. Idempotent; reads in flight then fail. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.reader.close().catch(() => undefined);
      await this.process.stop();
    })();
    return this.closing;
  }
}
