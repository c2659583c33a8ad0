/**
 * Splitting whole cached files into chunks, and removing whole files safely.
 *
 * The cache keeps the newest version of a big file whole (so checkout is a
 * reflink) and older versions split: the chunk list, a marker in `split/`,
 * and only the chunks no whole cached file holds, as loose chunks in
 * `chunks/`. A 1 MiB edit of a 1 GiB file then costs the few chunks around
 * the edit instead of a second gigabyte.
 *
 * The one rule every removal of a whole file follows (`retireFiles`): before
 * the whole file goes, each chunk that a split file needs and that only
 * whole files about to go contain is written as a loose chunk, fsynced, and
 * only then is anything removed. A kill at any point leaves every version
 * readable: before the removal the whole file is still there; after it,
 * every chunk it alone held is on disk. Split markers are written (durably)
 * after the chunks and before the removal, so a marker never names a file
 * whose chunks are not all stored somewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { rmQuiet, syncDir, tempName } from '../storage/atomic.js';
import type { ChunkList } from '../core/encoding.js';
import type { ObjectId } from '../core/id.js';
import type { LocalStore } from './store.js';

export interface RetireOptions {
  /** Whole chunked files to keep split from now on: their whole copy goes once their chunks are safe. */
  split?: Iterable<ObjectId>;
  /** Whole files to delete outright (gc: nothing reaches them). */
  drop?: Iterable<ObjectId>;
  /**
   * Split files to make whole again rather than move their chunks to loose
   * ones, when more than half their bytes lie only in whole files that go
   * (gc: the newest version of a file whose whole newer version is dropped
   * stays a reflink source). Tried in this order: one made whole may hold
   * enough of the next one's chunks that it stays split.
   */
  promote?: ReadonlySet<ObjectId>;
  /** Report only: compute what would happen, change nothing. */
  dryRun?: boolean;
}

export interface RetireResult {
  /** Whole files now kept split. */
  split: number;
  /** Whole files deleted outright. */
  dropped: number;
  /** Split files made whole again (`promote`). */
  promoted: number;
  /** Loose chunks written (bytes in `chunkBytes`). */
  chunksWritten: number;
  chunkBytes: number;
  /** Bytes of whole files removed. */
  bytesFreed: number;
  /** Split files that already lacked a chunk (damage found on the way; fsck reports it too). */
  damaged: ObjectId[];
}

interface Place {
  file: ObjectId;
  at: number;
  size: number;
}

/**
 * faultPoint kills this process with SIGKILL when LODE_TEST_KILL_AT names
 * `point`: a test-only hook to prove a kill -9 there leaves a readable
 * store. `point:N` kills at the N-th time the point is reached.
 */
const hits = new Map<string, number>();
export function faultPoint(point: string): void {
  const want = process.env.LODE_TEST_KILL_AT;
  if (!want) return;
  const [name, nth] = want.split(':');
  if (name !== point) return;
  const n = (hits.get(point) ?? 0) + 1;
  hits.set(point, n);
  if (n >= Number(nth ?? '1')) process.kill(process.pid, 'SIGKILL');
}

/** chunkListOf reads a chunk list, or undefined when it is absent or damaged. */
function chunkListOf(store: LocalStore, id: ObjectId): ChunkList | undefined {
  if (!store.hasObject(id)) return undefined;
  try {
    return store.getChunkList(id);
  } catch {
    return undefined;
  }
}

/** indexChunks adds where each chunk of whole file `file` lies to `index`. */
function indexChunks(index: Map<ObjectId, Place>, file: ObjectId, list: ChunkList): void {
  let at = 0;
  for (const c of list.chunks) {
    if (!index.has(c.id)) index.set(c.id, { file, at, size: c.size });
    at += c.size;
  }
}

/** readVerified reads `size` bytes of whole file `file` at `at` and returns them if they hash to `id`. */
function readVerified(store: LocalStore, file: ObjectId, at: number, size: number, id: ObjectId): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(store.filePath(file), 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = fs.readSync(fd, buf, got, size - got, at + got);
      if (n === 0) return undefined;
      got += n;
    }
    return createHash('sha256').update(buf).digest('hex') === id ? buf : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * retireFiles splits and drops whole cached files without ever leaving a
 * version unreadable (the rule in this module's header). A file to split
 * that is not whole, not chunked, or has a damaged chunk stays as it is
 * (nothing is removed for it). Call under the repository lock.
 */
export function retireFiles(store: LocalStore, options: RetireOptions): RetireResult {
  const result: RetireResult = { split: 0, dropped: 0, promoted: 0, chunksWritten: 0, chunkBytes: 0, bytesFreed: 0, damaged: [] };
  store.forgetWholeIndex();
  const toSplit = new Map<ObjectId, ChunkList>();
  for (const id of options.split ?? []) {
    if (!store.hasWhole(id)) continue;
    const list = chunkListOf(store, id);
    if (list) toSplit.set(id, list);
  }
  const toDrop = new Set<ObjectId>();
  for (const id of options.drop ?? []) if (store.hasWhole(id) && !toSplit.has(id)) toDrop.add(id);
  if (toSplit.size === 0 && toDrop.size === 0) return result;
  const going = new Set<ObjectId>([...toSplit.keys(), ...toDrop]);

  // Where chunks lie in the whole files that stay, and in those that go.
  const stay = new Map<ObjectId, Place>();
  const leaving = new Map<ObjectId, Place>();
  for (const id of store.listIds('cache')) {
    const list = going.has(id) ? toSplit.get(id) ?? chunkListOf(store, id) : chunkListOf(store, id);
    if (list) indexChunks(going.has(id) ? leaving : stay, id, list);
  }

  // Every split file after this step: those marked already, and the new ones.
  const dependents = new Map<ObjectId, ChunkList>(toSplit);
  for (const id of store.listIds('split')) {
    if (dependents.has(id) || (store.hasWhole(id) && !going.has(id))) continue;
    const list = chunkListOf(store, id);
    if (list) dependents.set(id, list);
    else result.damaged.push(id);
  }

  // Split files worth making whole again: assembled (verified) while every
  // source is still there, synced, and then a source for the others.
  if (options.promote && !options.dryRun) {
    // In the caller's order: what is checked out first, so it is the one made whole.
    for (const id of options.promote) {
      const list = dependents.get(id);
      if (!list || toSplit.has(id) || store.hasWhole(id)) continue;
      let leavingBytes = 0;
      for (const c of list.chunks) if (!stay.has(c.id) && !store.hasChunk(c.id)) leavingBytes += c.size;
      if (leavingBytes * 2 <= list.size) continue;
      const tmp = tempName(store.tmpDir, 'promote');
      try {
        store.assembleTo({ kind: 'chunked', id, size: list.size }, tmp);
        const fd = fs.openSync(tmp, 'r');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        store.installFile(tmp, id);
        syncDir(path.dirname(store.filePath(id)));
      } catch {
        rmQuiet(tmp);
        continue; // stays split: its chunks are moved below like any other's
      }
      indexChunks(stay, id, list);
      dependents.delete(id);
      result.promoted++;
    }
  }

  // Move to loose chunks what only leaving files hold; note each split file's sources.
  const written: ObjectId[] = [];
  const sources = new Map<ObjectId, Set<ObjectId>>();
  const failed = new Set<ObjectId>();
  for (const [id, list] of dependents) {
    const src = new Set<ObjectId>();
    for (const c of list.chunks) {
      if (store.hasChunk(c.id)) continue;
      const s = stay.get(c.id);
      if (s) {
        src.add(s.file);
        continue;
      }
      const l = leaving.get(c.id);
      const bytes = l ? readVerified(store, l.file, l.at, c.size, c.id) : undefined;
      if (!bytes) {
        // Nowhere intact: a file to split keeps its whole copy; an older split file was damaged already.
        if (toSplit.has(id)) failed.add(id);
        else result.damaged.push(id);
        continue;
      }
      if (!options.dryRun) store.putChunk(bytes, c.id, true);
      written.push(c.id);
      result.chunksWritten++;
      result.chunkBytes += c.size;
    }
    sources.set(id, src);
  }
  if (options.dryRun) {
    for (const id of going) if (!failed.has(id)) result.bytesFreed += store.sizeOf('cache', id);
    result.split = toSplit.size - failed.size;
    result.dropped = toDrop.size;
    return result;
  }
  store.syncChunkDirs(written);
  faultPoint('split-chunks-written');

  // Markers after the chunks, before any removal.
  for (const [id, src] of sources) {
    if (failed.has(id)) continue;
    const old = toSplit.has(id) ? undefined : store.splitSources(id).sort().join(',');
    if (old === [...src].sort().join(',')) continue;
    store.markSplit(id, src);
  }
  faultPoint('split-marked');

  for (const id of going) {
    if (failed.has(id)) continue;
    result.bytesFreed += store.sizeOf('cache', id);
    store.removeUnchecked('cache', id);
    if (toSplit.has(id)) result.split++;
    else result.dropped++;
    faultPoint('split-removed');
  }
  return result;
}

export interface PruneResult {
  markersRemoved: number;
  chunksRemoved: number;
  bytesFreed: number;
}

/**
 * pruneSplit removes split markers of files not in `live` (and of files
 * whole again) and loose chunks no remaining split file needs, or that a
 * whole cached file holds too. Call after `retireFiles`, under the lock.
 */
export function pruneSplit(store: LocalStore, live: Set<ObjectId>, options: { dryRun?: boolean } = {}): PruneResult {
  const result: PruneResult = { markersRemoved: 0, chunksRemoved: 0, bytesFreed: 0 };
  const needed = new Set<ObjectId>();
  for (const id of store.listIds('split')) {
    const list = chunkListOf(store, id);
    if (!live.has(id) || store.hasWhole(id)) {
      result.markersRemoved++;
      result.bytesFreed += store.sizeOf('split', id);
      if (!options.dryRun) store.remove('split', id);
      continue;
    }
    // A damaged list: keep every loose chunk (it cannot say which it needs).
    if (!list) return { ...result, chunksRemoved: 0 };
    for (const c of list.chunks) needed.add(c.id);
  }
  faultPoint('prune-markers-removed');
  const inWhole = new Map<ObjectId, Place>();
  for (const id of store.listIds('cache')) {
    const list = chunkListOf(store, id);
    if (list) indexChunks(inWhole, id, list);
  }
  for (const id of store.listIds('chunks')) {
    if (needed.has(id)) {
      // A needed chunk goes only when a whole file holds an intact copy.
      const w = inWhole.get(id);
      if (!w || !readVerified(store, w.file, w.at, w.size, id)) continue;
    }
    result.chunksRemoved++;
    result.bytesFreed += store.sizeOf('chunks', id);
    if (!options.dryRun) store.remove('chunks', id);
  }
  return result;
}
