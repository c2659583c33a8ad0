/**
 * placeSmallFiles creates many new small workspace files (blobs kept in
 * local packs) at once: a clone of 20,000 small files spends most of its
 * time creating them, and on ext4 creating a file is CPU time in the kernel
 * that a second thread can spend in parallel. The main thread reads each
 * file's bytes from the local packs (verified, or written from verified
 * bytes by this very process: LocalStore.readPackedFile) into one buffer per
 * batch, and either hands the batch to a worker thread (small-writer.ts) or
 * writes it itself, whichever is free: the work spreads over the threads
 * even when the machine is loaded unevenly.
 *
 * A batch holds files of one directory (up to BATCH_FILES), so two threads
 * seldom create files in the same directory at once. Every file is created
 * with O_EXCL where nothing stands: a file that cannot be made so (something
 * appeared there, the disk is full) is left to the caller, which places it
 * the ordinary way (Linker.prepare) with its error handling; nothing is ever
 * written over.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ObjectId } from '../core/id.js';
import type { LocalStore } from '../objects/store.js';
import type { Linker, Prepared } from './link.js';
import { SMALL_WRITER_ROLE, writeNewFiles, type SmallBatch, type SmallBatchResult } from './small-writer.js';

/** SmallFile is one file to create: blob `id` of `size` bytes at absolute path `dest`. */
export interface SmallFile {
  id: ObjectId;
  size: number;
  dest: string;
  exec: boolean;
}

/** Files per batch: large enough to amortise a message, small enough to balance the threads. */
const BATCH_FILES = 256;
/** Bytes per batch at most (a batch's buffer is moved to the worker, not copied). */
const BATCH_BYTES = 4 << 20;
/** Below this many files, starting a worker costs more than it saves: the main thread writes them all. */
export const SMALL_PARALLEL_MIN = 1000;
/** Batches queued on one worker at most: then the main thread writes the next batch itself. */
const QUEUED_PER_WORKER = 2;

/**
 * smallWriterThreads is how many worker threads help the main thread: one
 * per core beyond the first, at most 3, and none when the machine already
 * has more runnable work than twice its cores (1-minute load average):
 * there, threads creating files at once contend in the file system and
 * slowed this step down (measured at a load of 20 on two cores), where on a
 * machine with a free core they speed it up.
 */
export function smallWriterThreads(): number {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  if (os.loadavg()[0] > 2 * cores) return 0;
  return Math.max(0, Math.min(cores - 1, 3));
}

/**
 * placeSmallFiles creates `files` (none of which may exist) and calls
 * `onPlaced` with each one made, as `Prepared` in place (its stat as
 * written); it returns how many it made. Files it did not make (not
 * packed, unreadable, or creation failed) are for the caller to place. The
 * directories are made through `linker` (so an abort removes them). Throws
 * only when a worker thread fails; the files reported before stay reported.
 */
export async function placeSmallFiles<F extends SmallFile>(
  store: LocalStore,
  linker: Linker,
  files: readonly F[],
  onPlaced: (f: F, p: Prepared) => void,
  threads = files.length >= SMALL_PARALLEL_MIN ? smallWriterThreads() : 0,
): Promise<number> {
  let made = 0;
  const batches = new Map<number, F[]>();
  const settle = (r: SmallBatchResult) => {
    const batch = batches.get(r.seq)!;
    batches.delete(r.seq);
    for (let i = 0; i < r.stats.length; i++) {
      const f = batch[i];
      made++;
      onPlaced(f, { tmp: f.dest, dest: f.dest, method: 'copy', inPlace: true, stat: r.stats[i] });
    }
  };
  const pool = threads > 0 ? new WriterPool(threads, settle) : undefined;
  let seq = 0;
  let scratch = Buffer.alloc(0);
  try {
    let i = 0;
    while (i < files.length) {
      // One directory per batch.
      const dir = path.dirname(files[i].dest);
      const batch: F[] = [];
      let bytes = 0;
      for (; i < files.length && batch.length < BATCH_FILES && bytes + files[i].size <= Math.max(BATCH_BYTES, files[i].size); i++) {
        if (path.dirname(files[i].dest) !== dir) break;
        batch.push(files[i]);
        bytes += files[i].size;
      }
      try {
        linker.ensureDir(dir);
      } catch {
        continue; // something stands where the directory goes: the caller's placement deals with it
      }
      // A batch for a worker gets a buffer of its own (moved to the worker); one written here reuses `scratch`.
      const toWorker = pool?.hasRoom() === true;
      const b = readBatch(store, batch, toWorker ? Buffer.allocUnsafeSlow(bytes) : (scratch = scratch.length >= bytes ? scratch : Buffer.allocUnsafeSlow(Math.max(bytes, BATCH_BYTES))), seq++);
      if (b.paths.length === 0) continue;
      batches.set(b.seq, b.files);
      if (!toWorker || !pool!.offer(b.batch)) {
        settle(writeNewFiles(b.batch));
        // Let the workers' answers in, so their queues refill while this thread writes too.
        if (pool) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    await pool?.drain();
  } finally {
    // Files a worker made are reported before it stops, even when this ends in an error.
    await pool?.drain().catch(() => {});
    await pool?.close();
  }
  return made;
}

/**
 * readBatch reads the bytes of `files` into `data` (at least their total
 * size). A file whose packed bytes cannot be read as expected is left out
 * (the caller's ordinary placement reports why).
 */
function readBatch<F extends SmallFile>(store: LocalStore, files: F[], data: Buffer, seq: number): { seq: number; batch: SmallBatch; files: F[]; paths: string[] } {
  const kept: F[] = [];
  const paths: string[] = [];
  const modes: number[] = [];
  const offsets: number[] = [0];
  let at = 0;
  for (const f of files) {
    const into = data.subarray(at, at + f.size);
    let got: Buffer | undefined;
    try {
      got = store.readPackedFile(f.id, into);
    } catch {
      got = undefined; // damaged: the ordinary placement says so
    }
    if (!got || got.length !== f.size) continue;
    if (got.buffer !== data.buffer || got.byteOffset !== into.byteOffset) got.copy(into);
    at += f.size;
    kept.push(f);
    paths.push(f.dest);
    modes.push(f.exec ? 0o755 : 0o644);
    offsets.push(at);
  }
  return { seq, files: kept, paths, batch: { seq, paths, modes, offsets, data: at === data.length ? data : data.subarray(0, at) } };
}

/** WriterPool runs batches on worker threads, at most QUEUED_PER_WORKER queued on each. */
class WriterPool {
  private readonly workers: Worker[] = [];
  private readonly queued: number[] = [];
  private readonly owner = new Map<number, number>();
  private failure: unknown;
  private idle: (() => void) | undefined;

  constructor(threads: number, private readonly settle: (r: SmallBatchResult) => void) {
    for (let k = 0; k < threads; k++) {
      const w = new Worker(new URL('./small-writer.js', import.meta.url), { workerData: { role: SMALL_WRITER_ROLE } });
      w.on('message', (r: SmallBatchResult) => {
        this.queued[this.owner.get(r.seq)!]--;
        this.owner.delete(r.seq);
        this.settle(r);
        this.wake();
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (this.owner.size > 0) this.fail(new Error(`small-file writer thread exited with code ${code}`));
      });
      this.workers.push(w);
      this.queued.push(0);
    }
  }

  /** hasRoom says whether a worker would take a batch now. */
  hasRoom(): boolean {
    if (this.failure !== undefined) throw this.failure;
    return this.queued.some((n) => n < QUEUED_PER_WORKER);
  }

  /** offer queues `b` on a worker with room and says whether it did (the buffer then belongs to the worker). */
  offer(b: SmallBatch): boolean {
    if (this.failure !== undefined) throw this.failure;
    let k = 0;
    for (let j = 1; j < this.queued.length; j++) if (this.queued[j] < this.queued[k]) k = j;
    if (this.queued[k] >= QUEUED_PER_WORKER) return false;
    this.queued[k]++;
    this.owner.set(b.seq, k);
    const transfer = b.data.byteOffset === 0 && b.data.byteLength === b.data.buffer.byteLength ? [b.data.buffer as ArrayBuffer] : [];
    this.workers[k].postMessage(b, transfer);
    return true;
  }

  /** drain waits until every queued batch is settled. */
  async drain(): Promise<void> {
    while (this.owner.size > 0 && this.failure === undefined) await new Promise<void>((resolve) => (this.idle = resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.terminate()));
  }

  private wake(): void {
    const f = this.idle;
    this.idle = undefined;
    f?.();
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    this.wake();
  }
}
