/**
 * PackFilePool writes whole pack files on worker threads: each object read
 * from a cached file (or given), checked against its ID, compressed where
 * it pays (codec.ts) and written at its place, one pack per request, so
 * several packs are written at once and each object's bytes go from the
 * page cache through one core's cache to the pack file: no pack buffer, no
 * pass over a whole pack in memory, and the main thread only plans.
 *
 * A push to a store on the local file system (a directory remote) uses it
 * for large transfers; the pack file is written under a temporary name the
 * store gave, and named (renamed into place) by the caller only once every
 * object in it has checked out. Layout: docs/formats.md ("Packs").
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ObjectId } from '../core/id.js';
import type { PackEntry, SealedPack } from './pack.js';
import { newPackHeader } from './pack.js';

/** PackFileItem is one object of a pack file: a range of a local file, or its bytes. */
export interface PackFileItem {
  id: ObjectId;
  size: number;
  file?: string;
  offset?: number;
  bytes?: Uint8Array;
  /** Whether the object may be stored compressed (file data). */
  compress: boolean;
}

export interface PackFileRequest {
  seq: number;
  /** The file to create (it must not exist). */
  file: string;
  header: Uint8Array;
  items: PackFileItem[];
}

/** PackFileFault says why a pack file was not written: item `index` is missing, ends early, or does not match its ID; or an I/O error. */
export interface PackFileFault {
  kind: 'missing' | 'shorter' | 'corrupt' | 'io';
  index: number;
  message?: string;
  code?: string;
}

/** WrittenPack is a finished pack file: its name, index and entries (as SealedPack, without the bytes) and its size. */
export type WrittenPack = Omit<SealedPack, 'pack'> & { size: number };

export interface PackFileReply {
  seq: number;
  written?: WrittenPack;
  fault?: PackFileFault;
}

/** PackFileError is a pack file not written: `fault` says which item and why (the worker removed the file). */
export class PackFileError extends Error {
  constructor(readonly fault: PackFileFault) {
    super(fault.message ?? `pack file not written: item ${fault.index} ${fault.kind}`);
  }
}

interface Waiting {
  resolve: (w: WrittenPack) => void;
  reject: (e: unknown) => void;
  worker: number;
}

export class PackFilePool {
  private readonly workers: Worker[] = [];
  private readonly queued: number[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  private failure: unknown;

  /** `threads`: workers to start (default: the machine's cores, at most 4). */
  constructor(threads = Math.min(os.availableParallelism?.() ?? os.cpus().length, 4)) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const w = new Worker(new URL('./pack-file-worker.js', import.meta.url));
      w.unref();
      w.on('message', (m: PackFileReply) => this.settle(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`pack file worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.queued.push(0);
    }
  }

  /**
   * write creates pack file `file` holding `items` in order and resolves
   * with its name and index; rejects with PackFileError (the file removed)
   * when an item is missing, short or damaged, or writing failed.
   */
  write(file: string, items: PackFileItem[]): Promise<WrittenPack> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let k = 0;
    for (let i = 1; i < this.queued.length; i++) if (this.queued[i] < this.queued[k]) k = i;
    const seq = this.seq++;
    this.queued[k]++;
    return new Promise<WrittenPack>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject, worker: k });
      if (this.waiting.size === 1) for (const w of this.workers) w.ref();
      this.workers[k].postMessage({ seq, file, header: newPackHeader(), items } satisfies PackFileRequest);
    });
  }

  private settle(m: PackFileReply): void {
    const w = this.waiting.get(m.seq);
    if (!w) return;
    this.waiting.delete(m.seq);
    this.queued[w.worker]--;
    if (this.waiting.size === 0) for (const x of this.workers) x.unref();
    if (m.written) {
      const x = m.written;
      const index = Buffer.from(x.index.buffer, x.index.byteOffset, x.index.byteLength);
      w.resolve({ ...x, index, entries: x.entries as PackEntry[] });
    } else w.reject(new PackFileError(m.fault!));
  }

  private fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    for (const w of this.workers) w.unref();
  }

  /** close stops the workers once the writes asked for are done (pending ones reject after a failure). */
  async close(): Promise<void> {
    this.fail(new Error('pack file pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
