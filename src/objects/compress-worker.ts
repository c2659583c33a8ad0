/**
 * Worker thread body for CompressPool: compresses each request's object
 * (bytes in shared memory) with compressSync and answers with its stored
 * bytes and codec, or nothing when it is better stored as it is.
 */
import { parentPort } from 'node:worker_threads';
import { compressSync } from './codec.js';
import type { CompressReply, CompressRequest } from './compress-pool.js';

parentPort!.on('message', (m: CompressRequest) => {
  const out = compressSync(m.bytes);
  parentPort!.postMessage({ seq: m.seq, out: out && { codec: out.codec, bytes: out.bytes } } satisfies CompressReply);
});
