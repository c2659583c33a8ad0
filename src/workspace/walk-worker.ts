/**
 * Helper thread body for ThreadSplit (walk-split.ts): walks its share of a
 * directory's names as the main thread would and posts the files, in order,
 * in batches of paths and packed stats.
 */
import { workerData } from 'node:worker_threads';
import { errorToJSON } from '../core/errors.js';
import { IgnoreRules, walkEntries, type Skipped } from './scan.js';
import { MAX_IN_FLIGHT, STAT_FIELDS, type SplitJob, type SplitMessage } from './walk-split.js';

const BATCH = 4096;
const job = workerData as SplitJob;
const count = new Int32Array(job.counters);
Atomics.store(count, 2, 1); // running: the main thread waits for this one as long as it takes
let batches = 0;
const post = (m: SplitMessage, transfer: ArrayBuffer[] = []): void => {
  job.port.postMessage(m, transfer);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
};

let rels: string[] = [];
let stats = new Float64Array(BATCH * STAT_FIELDS);
const flush = (): void => {
  // Running too far ahead of the main thread's replay: wait for it.
  for (let done = Atomics.load(count, 1); batches - done >= MAX_IN_FLIGHT; done = Atomics.load(count, 1)) Atomics.wait(count, 1, done);
  batches++;
  const m: SplitMessage = { type: 'files', rels: rels.join('\n'), stats: stats.subarray(0, rels.length * STAT_FIELDS) };
  post(m, [stats.buffer as ArrayBuffer]);
  rels = [];
  stats = new Float64Array(BATCH * STAT_FIELDS);
};
try {
  const skipped: Skipped[] = [];
  walkEntries(job.relDir, job.absDir, job.names, new IgnoreRules(job.root), (rel, st) => {
    const at = rels.length * STAT_FIELDS;
    stats[at] = st.mode;
    stats[at + 1] = st.size;
    stats[at + 2] = st.ino;
    stats[at + 3] = st.mtimeMs;
    stats[at + 4] = st.ctimeMs;
    rels.push(rel);
    if (rels.length === BATCH) flush();
  }, skipped);
  if (rels.length > 0) flush();
  post({ type: 'done', skipped });
} catch (e) {
  post({ type: 'error', error: errorToJSON(e) });
}
job.port.close();
