/**
 * HashPool checks byte ranges against their SHA-256 IDs on worker threads,
 * so a transfer keeps reading and writing on the main thread (and the
 * thread pool) while the other cores hash. Push and fetch of large files
 * use it: hashing is most of their CPU time, and it is a check that must
 * stay (every byte read back is verified against its ID), so it moves rather
 * than goes.
 *
 * A buffer over a SharedArrayBuffer is hashed where it is (push lays packs
 * out in shared buffers). Any other buffer is copied into a shared staging
 * buffer that the pool reuses once its check is done: one memory copy (a
 * small fraction of the cost of hashing), and the caller's buffer stays
 * its own. (Transferring it to the worker and back was tried: it left the
 * garbage collector more work than the copy costs.)
 *
 * The workers are unref'd while idle: a pool never keeps the process alive,
 * but `close` should still be called once the transfer is over.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';

/** HashRange is `bytes[start, end)`, expected to hash to `id` (lowercase hex SHA-256). */
export interface HashRange {
  start: number;
  end: number;
  id: string;
}

export interface HashRequest {
  seq: number;
  /** A view of a SharedArrayBuffer. */
  bytes: Uint8Array;
  ranges: readonly HashRange[];
}

export interface HashReply {
  seq: number;
  /** Index in `ranges` of the first range that does not hash to its ID; -1 when all do. */
  bad: number;
}


/** badRange returns the index of the first range of `bytes` that does not hash to its ID, -1 when all do. */
export function badRange(bytes: Uint8Array, ranges: readonly HashRange[]): number {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i];
    if (createHash('sha256').update(bytes.subarray(r.start, r.end)).digest('hex') !== r.id) return i;
  }
  return -1;
}

/** sharedBuffer allocates a Buffer over a SharedArrayBuffer: the pool's workers read it where it is. */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

/** HASH_POOL_MIN_BYTES: below this much to hash, starting workers (about 30 ms each) costs more than it saves. */
export const HASH_POOL_MIN_BYTES = 64 << 20;

interface Waiting {
  resolve: (bad: number) => void;
  reject: (e: unknown) => void;
  worker: number;
  bytes: number;
  /** The staging buffer the bytes were copied into, given back to `spare` when the check is done. */
  staging: Buffer | undefined;
}

export class HashPool {
  private readonly workers: Worker[] = [];
  /** Bytes queued on each worker: a request goes to the least loaded. */
  private readonly load: number[] = [];
  private readonly waiting = new Map<number, Waiting>();
  /** Staging buffers free for reuse. */
  private readonly spare: Buffer[] = [];
  private seq = 0;
  private failure: unknown;

  /** `threads`: workers to start (default: the machine's cores, at most 4). */
  constructor(threads = Math.min(os.availableParallelism?.() ?? os.cpus().length, 4)) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const w = new Worker(new URL('./hash-worker.js', import.meta.url));
      w.unref();
      w.on('message', (m: HashReply) => this.settle(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`hash worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.load.push(0);
    }
  }

  /**
   * verify hashes each range of `bytes` and resolves with the index of the
   * first range that does not match its ID (-1: all match). It rejects only
   * when a worker fails (not for a mismatch). A shared `bytes` must not
   * change until the promise settles; any other may be reused at once.
   */
  verify(bytes: Buffer, ranges: readonly HashRange[]): Promise<number> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let staging: Buffer | undefined;
    let view: Uint8Array = bytes;
    if (!(bytes.buffer instanceof SharedArrayBuffer)) {
      const i = this.spare.findIndex((b) => b.length >= bytes.length);
      staging = i >= 0 ? this.spare.splice(i, 1)[0] : sharedBuffer(Math.max(bytes.length, 16 << 20));
      bytes.copy(staging);
      view = staging.subarray(0, bytes.length);
    }
    let k = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[k]) k = i;
    let size = 0;
    for (const r of ranges) size += r.end - r.start;
    const seq = this.seq++;
    this.load[k] += size;
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject, worker: k, bytes: size, staging });
      // A worker holds a ref on the process only while there is work.
      if (this.waiting.size === 1) for (const w of this.workers) w.ref();
      this.workers[k].postMessage({ seq, bytes: view, ranges } satisfies HashRequest);
    });
  }

  private settle(m: HashReply): void {
    const w = this.waiting.get(m.seq);
    if (!w) return;
    this.waiting.delete(m.seq);
    this.load[w.worker] -= w.bytes;
    if (w.staging) this.spare.push(w.staging);
    if (this.waiting.size === 0) for (const x of this.workers) x.unref();
    w.resolve(m.bad);
  }

  private fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    for (const w of this.workers) w.unref();
  }

  /** close stops the workers; checks still pending reject. */
  async close(): Promise<void> {
    this.fail(new Error('hash pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
