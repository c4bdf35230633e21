/** A byte range of a disk. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * What a backup needs from a disk transport (NBD, HTTP /folder ...): random reads of a fixed-size disk.
 * Implementations retry what is worth retrying themselves; an error that escapes is final for the call.
 */
export interface DiskReader {
  /** Disk size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`; rejects when the range is outside the disk. */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Ranges that may hold non-zero data, sorted and disjoint; everything else reads as zeroes.
   * Absent when the transport cannot tell (then read everything).
   */
  allocatedExtents?(): Promise<ByteRange[]>;
  /** Releases the transport. Idempotent. */
  close(): Promise<void>;
}
