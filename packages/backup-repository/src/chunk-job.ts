/**
 * The jobs a chunk worker runs, and the messages that carry them. Every buffer in a message is a view
 * over a SharedArrayBuffer, so threads share the bytes instead of copying them.
 */
import { chunkId, type ChunkCodec } from './chunk-codec.js';

export type WorkerRequest =
  /** sha256 of `src` (the chunk id). */
  | { seq: number; op: 'hash'; src: Uint8Array }
  /** zstd-1 of `src` into `dst` (compressBound long); n = 0 when it saves less than 1/32. */
  | { seq: number; op: 'compress'; src: Uint8Array; dst: Uint8Array }
  /** Both at once, while `src` is in this core's cache. */
  | { seq: number; op: 'encode'; src: Uint8Array; dst: Uint8Array }
  /**
   * A stored chunk back to plaintext in `dst`: decompressed when `compressed`, else copied (so the
   * plaintext starts at dst[0], aligned for direct writes), then checked against `id` when given.
   */
  | { seq: number; op: 'decode'; src: Uint8Array; dst: Uint8Array; rawLength: number; compressed: boolean; id: Uint8Array | undefined };

/** A reply; seq 0 (never a job's) is the worker saying it is ready. */
export type WorkerReply =
  | { seq: number; id?: Uint8Array; n?: number; error?: undefined }
  | { seq: number; error: string };

/** Runs one job (in a worker, or inline on the calling thread). Never throws: errors become replies. */
export function runJob(codec: ChunkCodec, req: WorkerRequest): WorkerReply {
  try {
    switch (req.op) {
      case 'hash':
        return { seq: req.seq, id: chunkId(req.src) };
      case 'compress':
        return { seq: req.seq, n: codec.compress(req.dst, req.src) };
      case 'encode':
        return { seq: req.seq, id: chunkId(req.src), n: codec.compress(req.dst, req.src) };
      case 'decode': {
        const plain = req.dst.subarray(0, req.rawLength);
        if (req.compressed) {
          const n = codec.decompress(plain, req.src);
          if (n !== req.rawLength) return { seq: req.seq, error: `decoded ${n} bytes, expected ${req.rawLength}` };
        } else {
          if (req.src.length !== req.rawLength) return { seq: req.seq, error: `${req.src.length} stored bytes, expected ${req.rawLength}` };
          if (req.src.buffer !== req.dst.buffer || req.src.byteOffset !== req.dst.byteOffset) plain.set(req.src); // read in place: no copy
        }
        if (req.id && !chunkId(plain).equals(req.id)) return { seq: req.seq, error: 'fails its sha256' };
        return { seq: req.seq };
      }
    }
  } catch (err) {
    return { seq: req.seq, error: (err as Error).message };
  }
}
