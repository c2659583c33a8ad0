/**
 * Worker thread body for HashPool: hashes the ranges of each request (bytes
 * in shared memory) and answers with the first range that does not match
 * its ID.
 */
import { parentPort } from 'node:worker_threads';
import { badRange, type HashReply, type HashRequest } from './hash-pool.js';

parentPort!.on('message', (m: HashRequest) => {
  parentPort!.postMessage({ seq: m.seq, bad: badRange(m.bytes, m.ranges) } satisfies HashReply);
});
