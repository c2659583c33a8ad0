/**
 * ingestFiles runs the Ingester over many files, on worker threads when the
 * work is big enough to pay for starting them (about 30 ms each), else inline.
 * Small files travel in batches so per-message overhead stays low; big files
 * go one per message so both cores stay busy.
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChunkerParams } from '../core/chunker.js';
import { loadXxhash } from '../core/checksum.js';
import { errorFromJSON, type SerializedError } from '../core/errors.js';
import type { ProgressSink } from '../core/progress.js';
import { Ingester, IngestResults, RESULT_RECORD } from './ingest.js';
import { LocalStore } from './store.js';

export interface IngestTask {
  /** The file's path; default: the options' `absOf(rel)` (no string per task held meanwhile). */
  abs?: string;
  rel: string;
  size: number;
}

export type WorkerRequest =
  | { type: 'init'; lodeDir: string | undefined; params: ChunkerParams; packSmall: boolean }
  | { type: 'batch'; seq: number; files: { abs: string; rel: string }[] }
  /** Seal the local pack of small files this worker wrote (answered by WorkerSealed). */
  | { type: 'seal' };

/** WorkerSealed answers 'seal': the worker's small files are visible in local packs (or why not). */
export interface WorkerSealed {
  type: 'sealed';
  error?: SerializedError;
}

export interface WorkerReply {
  type: 'result';
  seq: number;
  /** The batch's results packed as records (ingest.ts RESULT_RECORD), in batch order; transferred, not copied. */
  records: ArrayBuffer;
  /** How many files of the batch have a record; the next one failed with `error`, and the rest were not read. */
  done: number;
  error?: SerializedError;
  /** Bytes already reported through progress messages, per file. */
  progressed: number[];
}

/** WorkerProgress reports bytes read inside a big file. */
export interface WorkerProgress {
  type: 'progress';
  bytes: number;
}

export interface IngestOptions {
  /** The path of a task without `abs`, from its `rel` (the workspace's `abs`). */
  absOf?: (rel: string) => string;
  /** The .lode directory to write into, or undefined to hash only. */
  lodeDir: string | undefined;
  params: ChunkerParams;
  progress?: ProgressSink;
  /** Worker threads to use; default: cores (at most 4), or inline for small work. */
  threads?: number;
  /** Small whole files go to local packs (default); false: a cache file each (what hardlink checkouts need). */
  packSmall?: boolean;
}

const BATCH_FILES = 128;
const BATCH_BYTES = 8 << 20;
const INLINE_BYTES = 48 << 20;
const INLINE_FILES = 1500;
/** Young-generation size of an ingest worker (MiB): 200,000 small files measured 236 MB peak RSS with 8 against 287 with the default, in the same CPU time. */
const WORKER_YOUNG_MB = 8;

/**
 * ingestFiles returns one result per task, by task number (packed: see
 * IngestResults); a task whose file vanished before it was read fails the
 * call like any other error. On the first
 * failure it stops all work and throws that error (rebuilt by errorFromJSON
 * as the class the worker threw, with its code and hint); objects already
 * written stay in the cache, unreferenced. When writing, small files go to
 * local packs (one being written per thread), which are all sealed, so
 * visible to a LocalStore that reloads its packs, before this returns.
 */
export async function ingestFiles(tasks: IngestTask[], options: IngestOptions): Promise<IngestResults> {
  const results = new IngestResults(tasks.length);
  const progress = options.progress;
  const totalBytes = tasks.reduce((s, t) => s + t.size, 0);
  let bytes = 0;
  const absOf = (t: IngestTask) => t.abs ?? options.absOf!(t.rel);
  const report = (finished = false) =>
    progress?.({ phase: 'hash', done: results.done, total: tasks.length, bytes: Math.min(totalBytes, bytes + partial), totalBytes, finished });
  if (tasks.length === 0) return results;
  // Bytes of files still being read: shown as progress, replaced by the real count when a file is done.
  let partial = 0;
  progress?.({ phase: 'hash', done: 0, total: tasks.length, bytes: 0, totalBytes });
  const cores = Math.min(os.availableParallelism?.() ?? os.cpus().length, 4);
  const inline = options.threads === 0 || (options.threads === undefined && (cores < 2 || (totalBytes < INLINE_BYTES && tasks.length < INLINE_FILES)));
  if (inline) {
    await loadXxhash();
    const store = options.lodeDir ? new LocalStore(options.lodeDir) : undefined;
    const packer = options.packSmall === false ? undefined : store?.packs.writer();
    const ing = new Ingester(
      options.params,
      store,
      (n) => {
        partial += n;
        report();
      },
      packer,
    );
    try {
      for (let i = 0; i < tasks.length; i++) {
        const t = tasks[i];
        const r = ing.ingest(absOf(t), t.rel);
        results.set(i, r);
        partial = 0;
        bytes += r.size;
        if ((results.done & 255) === 0) report();
      }
      packer?.finish();
    } catch (e) {
      packer?.abort();
      throw e;
    } finally {
      store?.packs.close();
    }
    report(true);
    return results;
  }

  // Biggest files first: a large file started last would leave one core idle at the end.
  // Batches hold task numbers: a result goes to its task's record.
  const ordered = Uint32Array.from(tasks.keys()).sort((a, b) => tasks[b].size - tasks[a].size);
  const batches: number[][] = [];
  let cur: number[] = [];
  let curBytes = 0;
  for (const i of ordered) {
    const size = tasks[i].size;
    if (cur.length > 0 && (cur.length >= BATCH_FILES || curBytes + size > BATCH_BYTES)) {
      batches.push(cur);
      cur = [];
      curBytes = 0;
    }
    cur.push(i);
    curBytes += size;
  }
  if (cur.length > 0) batches.push(cur);

  const threads = Math.max(1, Math.min(options.threads ?? cores, batches.length));
  const workers: Worker[] = [];
  return await new Promise<IngestResults>((resolve, reject) => {
    let next = 0;
    let pending = 0;
    let failed = false;
    let sealing = 0;
    const finish = (err?: unknown) => {
      if (failed) return;
      if (err !== undefined) failed = true;
      for (const w of workers) void w.terminate();
      if (err !== undefined) reject(err);
      else {
        report(true);
        resolve(results);
      }
    };
    // Every batch is done: each worker seals its pack of small files; the last answer finishes.
    const seal = () => {
      if (!options.lodeDir || options.packSmall === false) return finish();
      sealing = workers.length;
      for (const w of workers) w.postMessage({ type: 'seal' } satisfies WorkerRequest);
    };
    const feed = (w: Worker) => {
      if (failed || next >= batches.length) return;
      const seq = next++;
      pending++;
      w.postMessage({ type: 'batch', seq, files: batches[seq].map((i) => ({ abs: absOf(tasks[i]), rel: tasks[i].rel })) } satisfies WorkerRequest);
    };
    for (let i = 0; i < threads; i++) {
      // A small young generation: a worker's garbage is a few short-lived objects per file, and
      // V8's default (tens of MiB per thread, never given back) was a third of an add's peak memory.
      const w = new Worker(new URL('./ingest-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
      workers.push(w);
      w.on('error', (e) => finish(e));
      w.on('message', (reply: WorkerReply | WorkerProgress | WorkerSealed) => {
        if (reply.type === 'sealed') {
          if (reply.error) finish(errorFromJSON(reply.error));
          else if (--sealing === 0) finish();
          return;
        }
        if (reply.type === 'progress') {
          partial += reply.bytes;
          report();
          return;
        }
        pending--;
        const batch = batches[reply.seq];
        // The error the worker threw, as itself: an OS error keeps its code so the CLI reports it as I/O, as it would inline.
        if (reply.error) {
          finish(errorFromJSON(reply.error));
          return;
        }
        const records = Buffer.from(reply.records);
        if (reply.done !== batch.length || records.length !== batch.length * RESULT_RECORD) {
          finish(new Error(`ingest worker answered ${reply.done} of ${batch.length} files`));
          return;
        }
        for (let k = 0; k < batch.length; k++) {
          results.copy(batch[k], records, k);
          bytes += results.size(batch[k]);
          partial -= reply.progressed[k] ?? 0;
        }
        batches[reply.seq] = [];
        report();
        if (next < batches.length) feed(w);
        else if (pending === 0) seal();
      });
      w.postMessage({ type: 'init', lodeDir: options.lodeDir, params: options.params, packSmall: options.packSmall !== false } satisfies WorkerRequest);
    }
    // One batch to each worker in turn, then (when there is plenty) a second
    // each to hide the message round trip. Feeding one worker twice first
    // would leave another idle when there are only a few big files.
    for (const w of workers) feed(w);
    if (batches.length >= 2 * workers.length) for (const w of workers) feed(w);
  });
}
