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
import { defaultThreads, WorkerPool } from './worker-pool.js';

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

export class HashPool {
  private readonly pool: WorkerPool<HashRequest, HashReply>;
  /** Staging buffers free for reuse. */
  private readonly spare: Buffer[] = [];

  /** `threads`: workers to start (default: the machine's cores, at most 4). */
  constructor(threads = defaultThreads()) {
    this.pool = new WorkerPool(new URL('./hash-worker.js', import.meta.url), 'hash', threads);
  }

  /**
   * verify hashes each range of `bytes` and resolves with the index of the
   * first range that does not match its ID (-1: all match). It rejects only
   * when a worker fails (not for a mismatch). A shared `bytes` must not
   * change until the promise settles; any other may be reused at once.
   */
  verify(bytes: Buffer, ranges: readonly HashRange[]): Promise<number> {
    let size = 0;
    for (const r of ranges) size += r.end - r.start;
    /** The staging buffer the bytes were copied into, given back to `spare` when the check is done. */
    let staging: Buffer | undefined;
    const reply = this.pool.request(size, (seq) => {
      let view: Uint8Array = bytes;
      if (!(bytes.buffer instanceof SharedArrayBuffer)) {
        const i = this.spare.findIndex((b) => b.length >= bytes.length);
        staging = i >= 0 ? this.spare.splice(i, 1)[0] : sharedBuffer(Math.max(bytes.length, 16 << 20));
        bytes.copy(staging);
        view = staging.subarray(0, bytes.length);
      }
      return { seq, bytes: view, ranges };
    });
    return reply.then((m) => {
      if (staging) this.spare.push(staging);
      return m.bad;
    });
  }

  /** close stops the workers; checks still pending reject. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
