/**
 * CompressPool compresses objects on worker threads. The column layout of
 * delimited text (columns.ts) is JavaScript and costs about as much CPU as
 * brotli itself; on the calling thread it would hold up the push that fills
 * the next pack, so a large push hands whole objects to workers instead,
 * each of which lays out and compresses one object (compressSync).
 *
 * Only objects in shared memory go to the pool: push lays its packs out in
 * SharedArrayBuffers once it is large enough to start worker threads at all
 * (HASH_POOL_MIN_BYTES), so the pool reads them where they are and starts
 * only for such pushes. One pool serves the process; its workers are unref'd
 * while idle, so it never keeps the process alive. If a worker cannot start
 * or fails, `compress` rejects and the caller compresses in place.
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Compressed } from './codec.js';

export interface CompressRequest {
  seq: number;
  /** A view of a SharedArrayBuffer. */
  bytes: Uint8Array;
}

export interface CompressReply {
  seq: number;
  /** Absent: the object is better stored as it is. */
  out?: { codec: number; bytes: Uint8Array };
}

interface Waiting {
  resolve: (out: Compressed | undefined) => void;
  reject: (e: unknown) => void;
  worker: number;
  bytes: number;
}

export class CompressPool {
  private readonly workers: Worker[] = [];
  /** Bytes queued on each worker: a request goes to the least loaded. */
  private readonly load: number[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  private failure: unknown;

  /** `threads`: workers to start (default: the machine's cores, at most 4). */
  constructor(threads = Math.min(os.availableParallelism?.() ?? os.cpus().length, 4)) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const w = new Worker(new URL('./compress-worker.js', import.meta.url));
      w.unref();
      w.on('message', (m: CompressReply) => this.settle(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`compress worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.load.push(0);
    }
  }

  /**
   * compress is compressSync of `bytes` (a view of a SharedArrayBuffer that
   * must not change until the promise settles) on a worker. It rejects only
   * when a worker fails.
   */
  compress(bytes: Uint8Array): Promise<Compressed | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!(bytes.buffer instanceof SharedArrayBuffer)) return Promise.reject(new Error('CompressPool.compress takes shared memory only'));
    let k = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[k]) k = i;
    const seq = this.seq++;
    this.load[k] += bytes.length;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject, worker: k, bytes: bytes.length });
      // A worker holds a ref on the process only while there is work.
      if (this.waiting.size === 1) for (const w of this.workers) w.ref();
      this.workers[k].postMessage({ seq, bytes } satisfies CompressRequest);
    });
  }

  private settle(m: CompressReply): void {
    const w = this.waiting.get(m.seq);
    if (!w) return;
    this.waiting.delete(m.seq);
    this.load[w.worker] -= w.bytes;
    if (this.waiting.size === 0) for (const x of this.workers) x.unref();
    w.resolve(m.out ? { codec: m.out.codec, bytes: Buffer.from(m.out.bytes.buffer, m.out.bytes.byteOffset, m.out.bytes.length) } : undefined);
  }

  private fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    for (const w of this.workers) w.unref();
  }

  /** failed says whether a worker failed (the pool takes no more work). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** close stops the workers; compressions still pending reject. */
  async close(): Promise<void> {
    this.fail(new Error('compress pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

let processPool: CompressPool | undefined;
let processPoolFailed = false;

/**
 * sharedCompressPool returns the process's CompressPool, starting it on
 * first use; undefined once it could not start or a worker failed (callers
 * then compress in place).
 */
export function sharedCompressPool(): CompressPool | undefined {
  if (processPoolFailed) return undefined;
  if (processPool?.failed) {
    processPoolFailed = true;
    return undefined;
  }
  try {
    processPool ??= new CompressPool();
  } catch {
    processPoolFailed = true;
    return undefined;
  }
  return processPool;
}
