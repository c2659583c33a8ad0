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
import type { Compressed } from './codec.js';
import { defaultThreads, WorkerPool } from './worker-pool.js';

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

export class CompressPool {
  private readonly pool: WorkerPool<CompressRequest, CompressReply>;

  /** `threads`: workers to start (default: the machine's cores, at most 4). */
  constructor(threads = defaultThreads()) {
    this.pool = new WorkerPool(new URL('./compress-worker.js', import.meta.url), 'compress', threads);
  }

  /**
   * compress is compressSync of `bytes` (a view of a SharedArrayBuffer that
   * must not change until the promise settles) on a worker. It rejects only
   * when a worker fails.
   */
  compress(bytes: Uint8Array): Promise<Compressed | undefined> {
    if (!this.pool.failed && !(bytes.buffer instanceof SharedArrayBuffer)) {
      return Promise.reject(new Error('CompressPool.compress takes shared memory only'));
    }
    return this.pool
      .request(bytes.length, (seq) => ({ seq, bytes }))
      .then((m) => (m.out ? { codec: m.out.codec, bytes: Buffer.from(m.out.bytes.buffer, m.out.bytes.byteOffset, m.out.bytes.length) } : undefined));
  }

  /** failed says whether a worker failed (the pool takes no more work). */
  get failed(): boolean {
    return this.pool.failed;
  }

  /** close stops the workers; compressions still pending reject. */
  close(): Promise<void> {
    return this.pool.close();
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
