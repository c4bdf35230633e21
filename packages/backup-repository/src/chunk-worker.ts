/**
 * Entry of a chunk worker thread (see {@link ChunkWorkers}): runs hash, compress and decode jobs so
 * sha256 and zstd use every core while the main thread reads, writes and keeps the books.
 */
import { parentPort } from 'node:worker_threads';
import { ChunkCodec } from './chunk-codec.js';
import { runJob, type WorkerRequest } from './chunk-job.js';

const codec = new ChunkCodec();
const port = parentPort;
if (!port) throw new Error('chunk-worker runs as a worker thread');
port.on('message', (req: WorkerRequest) => port.postMessage(runJob(codec, req)));
port.postMessage({ seq: 0 }); // ready: jobs go to this worker from now on
