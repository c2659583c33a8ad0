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
import type { ObjectId } from '../core/id.js';
import type { PackEntry, SealedPack } from './pack.js';
import { newPackHeader } from './pack.js';
import { defaultThreads, WorkerPool } from './worker-pool.js';

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

export class PackFilePool {
  /** Load is the pack files queued on each worker. */
  private readonly pool: WorkerPool<PackFileRequest, PackFileReply>;

  /** `threads`: workers to start (default: the machine's cores, at most 4). */
  constructor(threads = defaultThreads()) {
    this.pool = new WorkerPool(new URL('./pack-file-worker.js', import.meta.url), 'pack file', threads);
  }

  /**
   * write creates pack file `file` holding `items` in order and resolves
   * with its name and index; rejects with PackFileError (the file removed)
   * when an item is missing, short or damaged, or writing failed.
   */
  write(file: string, items: PackFileItem[]): Promise<WrittenPack> {
    return this.pool.request(1, (seq) => ({ seq, file, header: newPackHeader(), items })).then((m) => {
      if (!m.written) throw new PackFileError(m.fault!);
      const x = m.written;
      const index = Buffer.from(x.index.buffer, x.index.byteOffset, x.index.byteLength);
      return { ...x, index, entries: x.entries as PackEntry[] };
    });
  }

  /** close stops the workers once the writes asked for are done (pending ones reject after a failure). */
  close(): Promise<void> {
    return this.pool.close();
  }
}
