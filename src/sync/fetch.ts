/**
 * fetchCommits brings everything needed to check out some remote commits
 * into the local store: commits and trees level by level (each level one
 * batch of coalesced ranged reads), then file contents. Every object is
 * verified against its ID as it is cut out of a pack (see pack.ts), and every
 * tree is decoded, which validates its names, before anything is written
 * from it. Chunked files are assembled under a temporary name chunk by chunk
 * at their offsets and installed when complete.
 *
 * A fetch is complete or it is not trusted: the walk goes through objects
 * already present (a commit or tree may be present while what it names is
 * not, after an interrupted fetch) and stops only at commits recorded
 * complete (complete.ts). When fetchCommits returns,
 * everything `commits` reach is in the store, and only then are they recorded
 * complete; callers move refs after that.
 *
 * A partial fetch (`data`: a default clone, `lode fetch REV`, a checkout that
 * lacks data) brings the metadata of everything (commits, trees, chunk lists)
 * but the file data of the named commits only — their own trees, not their
 * ancestors'. Its walk stops at commits whose metadata is recorded complete,
 * and it records complete (data included) only a named commit whose parents
 * already were.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { decodeChunkList, decodeCommit, decodeTreeObject, isShardNode, treeLinks, type ChunkList } from '../core/encoding.js';
import { decodeRecord } from '../core/record.js';
import { CorruptObjectError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { isUnder, joinPath } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { rmQuiet, tempName } from '../storage/atomic.js';
import { LocalStore, type Piece } from '../objects/store.js';
import { directoryEntries, lookupPath, objectTrees, TreePool } from '../graph/trees.js';
import { childrenFirst } from '../graph/order.js';
import type { RemoteStore } from './remote-store.js';
import { markComplete, markMetadataComplete, readComplete, readMetadataComplete } from './complete.js';

export interface FetchOptions {
  store: LocalStore;
  remote: RemoteStore;
  commits: ObjectId[];
  /** Only file contents at or under these repo paths (all metadata is fetched). */
  paths?: string[];
  /**
   * Only the file data of these commits (each one's own tree; metadata of
   * everything `commits` and these reach is fetched). Absent: the file data
   * of every commit reached, history included.
   */
  data?: ObjectId[];
  /**
   * A local root tree (the current HEAD) whose files at the same paths may
   * already hold some chunks: those are copied locally, not downloaded.
   */
  reuseFrom?: ObjectId;
  /** Fetch commits, trees and chunk lists only (what gc --remote needs). */
  metadataOnly?: boolean;
  /**
   * Workspace copies made on the way (a clone where checkout copies: no
   * reflink, no hardlink). When given, every chunked file assembled is also
   * written, from the same verified bytes as they arrive, to a second
   * temporary file in the store's tmp dir (mode 0644), recorded here
   * (file ID -> path) once complete: the checkout that follows renames it
   * into the workspace instead of copying the cache file after the fetch.
   * The caller removes what it does not use.
   */
  twins?: Map<ObjectId, string>;
  progress?: ProgressSink;
}

export interface FetchResult {
  objects: number;
  files: number;
  /** File bytes downloaded. */
  bytes: number;
  /** File bytes copied from local files instead of downloaded. */
  reused: number;
  requests: number;
}

/** Chunked files assembled at a time (each holds an open file). */
const ASSEMBLE_BATCH = 64;
/** Chunk writes into assembled files running at once in the thread pool. */
const WRITES_IN_FLIGHT = 16;

/** writeAllAt writes all of `data` at `position` of `fd`, in the thread pool. */
async function writeAllAt(fd: number, data: Buffer, position: number): Promise<void> {
  let w = 0;
  while (w < data.length) {
    const at = w;
    w += await new Promise<number>((resolve, reject) => fs.write(fd, data, at, data.length - at, position + at, (e, n) => (e ? reject(e) : resolve(n))));
  }
}

export async function fetchCommits(o: FetchOptions): Promise<FetchResult> {
  const { store, remote } = o;
  const result: FetchResult = { objects: 0, files: 0, bytes: 0, reused: 0, requests: 0 };
  const startRequests = remote.stats.requests;
  const wanted = (p: string) => !o.paths || o.paths.length === 0 || o.paths.some((f) => isUnder(p, f) || isUnder(f, p));
  const keep = (id: ObjectId, data: Buffer) => {
    store.putObject(data);
    result.objects++;
  };
  // Commits and trees are stored only once every tree they reach has been
  // decoded (names validated): a refused tree leaves no commit behind that
  // a later checkout could half-read.
  const metadata = new Map<ObjectId, Buffer>();
  // What each fetched commit and tree names (its tree and parents; its
  // subtrees and shards), for the order they are stored in.
  const names = new Map<ObjectId, ObjectId[]>();

  // Commits, then trees, breadth first: each round is one batch of reads.
  // A present object proves nothing about what lies beneath it (file data
  // comes after the metadata, an interruption can land anywhere, and an
  // older lode kept objects as they arrived): the walk goes through present
  // commits and trees too (read locally, which is cheap) and stops only at
  // commits recorded complete. That is how a re-run after an interrupted
  // fetch fills every gap the first one left.
  const complete = readComplete(store);
  const dataAll = o.data === undefined;
  const dataOf = new Set(o.data ?? []);
  const wantsData = (id: ObjectId) => dataAll || dataOf.has(id);
  // Where the commit walk may stop: at a whole closure, or (a partial fetch
  // needs no history data) at a commit whose metadata closure is present.
  const done = dataAll ? complete : readMetadataComplete(store);
  /** A tree to walk; `data`: its files' contents are wanted, not only its chunk lists. */
  type TreeWalk = { id: ObjectId; dir: string; data: boolean };
  const trees: TreeWalk[] = [];
  const seenCommits = new Set<ObjectId>();
  let commits = [...new Set([...o.commits, ...dataOf])];
  // Record objects (provenance, check results) the walked commits name.
  const records = new Set<ObjectId>();
  // A complete tip's own tree is still walked (one tree, read locally): that
  // is how a tip whose files were damaged or removed gets them back.
  for (const id of commits) if (done.has(id) && wantsData(id)) trees.push({ id: decodeCommit(store.getObject(id, 'commit'), id).tree, dir: '', data: true });
  while (commits.length > 0) {
    const next: ObjectId[] = [];
    const visit = (id: ObjectId, data: Buffer): ObjectId[] => {
      const c = decodeCommit(data, id);
      trees.push({ id: c.tree, dir: '', data: wantsData(id) });
      next.push(...c.parents);
      if (c.record && !store.hasObject(c.record)) records.add(c.record);
      return [c.tree, ...c.parents];
    };
    const fetchIds: ObjectId[] = [];
    for (const id of commits) {
      if (seenCommits.has(id) || done.has(id)) continue;
      seenCommits.add(id);
      if (store.hasObject(id)) visit(id, store.getObject(id, 'commit'));
      else fetchIds.push(id);
    }
    await remote.fetchObjects(fetchIds, (id, data) => {
      names.set(id, visit(id, data));
      metadata.set(id, data);
    });
    commits = [...new Set(next)];
  }
  // Records are leaves: kept as they arrive (checked first), before any commit that names them.
  await remote.fetchObjects(records, (id, data) => {
    decodeRecord(data, id);
    keep(id, data);
  });
  const blobs = new Map<ObjectId, number>();
  const chunked = new Set<ObjectId>();
  const chunkedPath = new Map<ObjectId, string>();
  const chunkLists = new Set<ObjectId>();
  // Files and chunk lists found present or already queued: a long history
  // names the same file in many trees, and each is looked up once.
  const known = new Set<ObjectId>();
  let level = trees;
  // Without a path filter a tree's place does not matter: visit each once.
  const allPaths = !o.paths || o.paths.length === 0;
  // Trees visited, and whether for their data: a tree walked for its
  // metadata only is walked again when a commit wants its data.
  const seenTrees = new Map<string, boolean>();
  // No file content is written during the walk: the cache may be listed rather than probed.
  const hasFile = store.fileProbe();
  // Directories (not shards of one): a sharded one is checked whole below.
  const directories = new Set<ObjectId>(trees.map((t) => t.id));
  while (level.length > 0) {
    const next: TreeWalk[] = [];
    const fetchIds: ObjectId[] = [];
    const dirs = new Map<ObjectId, { dir: string; data: boolean }[]>();
    for (const t of level) {
      const key = allPaths ? t.id : `${t.id}\0${t.dir}`;
      const seen = seenTrees.get(key);
      if (seen === true || (seen === false && !t.data)) continue;
      seenTrees.set(key, t.data);
      dirs.set(t.id, [...(dirs.get(t.id) ?? []), { dir: t.dir, data: t.data }]);
    }
    const visit = (id: ObjectId, data: Buffer): ObjectId[] => {
      const { entries, shards } = treeLinks(data, id);
      for (const { dir, data: withData } of dirs.get(id) ?? []) {
        // Shards are more of the same directory: same path.
        for (const s of shards) next.push({ id: s, dir, data: withData });
        for (const e of entries) {
          const p = joinPath(dir, e.name);
          if (e.kind === 'tree') {
            next.push({ id: e.id, dir: p, data: withData });
            directories.add(e.id);
          }
          else {
            // Chunk lists are metadata: every one the trees name, wanted or not.
            if (!withData || !wanted(p)) {
              if (e.kind === 'chunked' && !chunkLists.has(e.id) && !store.hasObject(e.id)) chunkLists.add(e.id);
              continue;
            }
            if (known.has(e.id)) continue;
            known.add(e.id);
            if (e.kind === 'chunked' && !store.hasObject(e.id)) chunkLists.add(e.id);
            if (hasFile(e.id)) continue;
            else if (e.kind === 'blob') blobs.set(e.id, e.size);
            else {
              chunked.add(e.id);
              chunkedPath.set(e.id, p);
            }
          }
        }
      }
      const named = [...shards];
      for (const e of entries) if (e.kind === 'tree') named.push(e.id);
      return named;
    };
    for (const id of dirs.keys()) {
      const fetched = metadata.get(id);
      if (fetched) visit(id, fetched);
      else if (store.hasObject(id)) visit(id, store.getObject(id, 'tree'));
      else fetchIds.push(id);
    }
    await remote.fetchObjects(fetchIds, (id, data) => {
      names.set(id, visit(id, data));
      metadata.set(id, data);
    });
    level = next;
  }
  // A sharded directory whose shards do not fit together (overlapping ranges,
  // wrong totals) is refused like a tree with a bad name: nothing is kept.
  const fetchedTrees = objectTrees((id) => decodeTreeObject(metadata.get(id) ?? store.getObject(id, 'tree'), id));
  for (const id of directories) {
    const data = metadata.get(id);
    if (data && isShardNode(data)) directoryEntries(fetchedTrees, id);
  }
  // Each after everything it names (trees after their subtrees, commits
  // after their trees and parents), a subtree named at two depths included:
  // an interruption never leaves a stored commit or tree naming one that is not.
  for (const id of childrenFirst(metadata.keys(), names)) keep(id, metadata.get(id)!);

  // Chunk lists the trees name that the store lacks.
  await remote.fetchObjects(chunkLists, (id, data) => {
    decodeChunkList(data, id); // refuse a forged list before it is kept
    keep(id, data);
  });

  const walked = [...new Set([...o.commits, ...dataOf])];
  if (o.metadataOnly) {
    markMetadataComplete(store, walked);
    result.requests = remote.stats.requests - startRequests;
    return result;
  }

  // Whole files of one chunk: small ones into local packs (a few large
  // writes instead of a file each: the workspace copy is then the only file
  // created per small file), larger ones as cache files.
  // Every file arrives checked against its ID (fetchObjects): a checkout in this command reads it back unhashed.
  const packer = store.packs.writer(true);
  try {
    await remote.fetchObjects(
      blobs.keys(),
      (id, data) => {
        if (LocalStore.packable('blob', data.length)) packer.add(id, data);
        else store.putFileBytes(data, id);
        result.files++;
        result.bytes += data.length;
      },
      o.progress,
    );
    packer.finish();
  } catch (e) {
    packer.abort();
    throw e;
  }

  // Chunked files, assembled at their offsets.
  const files = [...chunked];
  for (let i = 0; i < files.length; i += ASSEMBLE_BATCH) {
    const batch: { id: ObjectId; list: ChunkList; tmp: string; fd: number; twin?: string; twinFd: number }[] = [];
    for (const id of files.slice(i, i + ASSEMBLE_BATCH)) {
      const list = decodeChunkList(store.getObject(id, 'chunk list'), id);
      const tmp = tempName(store.tmpDir, 'fetch');
      const f = { id, list, tmp, fd: -1, twin: o.twins ? tempName(store.tmpDir, 'twin') : undefined, twinFd: -1 };
      batch.push(f);
      f.fd = fs.openSync(tmp, 'wx', 0o444);
      if (f.twin) f.twinFd = fs.openSync(f.twin, 'wx', 0o644);
    }
    // Where each chunk goes, with the size its chunk list declares for it there.
    const places = new Map<ObjectId, { fd: number; offset: number; size: number; list: ObjectId }[]>();
    for (const f of batch) {
      let off = 0;
      for (const c of f.list.chunks) {
        const at = places.get(c.id) ?? [];
        at.push({ fd: f.fd, offset: off, size: c.size, list: f.id });
        // The workspace copy gets the same bytes at the same place.
        if (f.twinFd >= 0) at.push({ fd: f.twinFd, offset: off, size: c.size, list: f.id });
        places.set(c.id, at);
        off += c.size;
      }
    }
    /**
     * place writes a chunk's verified bytes wherever it goes. What is written
     * is bounded by what was received: a chunk whose length is not the size
     * its list declares is refused before a byte lands (a forged list must not
     * make a small chunk fill the disk with a sparse multi-gigabyte file).
     */
    const place = async (id: ObjectId, data: Buffer, transient = false) => {
      const targets = places.get(id)!;
      for (const p of targets) {
        if (data.length !== p.size) {
          throw new CorruptObjectError(`chunk list ${p.list} is corrupt: it declares chunk ${id} of ${p.size} bytes, but that chunk has ${data.length}`, {
            objectId: p.list,
            hint: 'the remote copy is damaged or forged: push the file again from a workspace that has it',
          });
        }
      }
      // Written in the thread pool while the next range is checked; at most WRITES_IN_FLIGHT at once.
      const mine: Promise<void>[] = [];
      for (const p of targets) {
        const w = writeAllAt(p.fd, data, p.offset);
        w.catch(() => {}); // observed below
        writes.push(w);
        mine.push(w);
      }
      // Bytes lent by the fetch (a reused read buffer) are written before they are let go.
      if (transient) await Promise.all(mine);
      else while (writes.length > WRITES_IN_FLIGHT) await writes.shift();
    };
    const writes: Promise<void>[] = [];
    try {
      // Chunks the previous version of the same file already has are copied
      // from the local cache (and checked) instead of downloaded.
      if (o.reuseFrom) {
        const localTrees = new TreePool(store);
        for (const f of batch) {
          const p = chunkedPath.get(f.id);
          const old = p === undefined ? undefined : lookupPath(localTrees, o.reuseFrom, p);
          if (!old || old.kind !== 'chunked' || !store.hasFile(old.id)) continue;
          // Whole or split (store.pieces), every piece verified as it is read.
          let oldPieces: Piece[];
          try {
            oldPieces = store.pieces({ kind: 'chunked', id: old.id, size: old.size });
          } catch {
            continue;
          }
          for (const c of oldPieces) {
            if (!places.has(c.id)) continue;
            let data: Buffer;
            try {
              data = store.readPiece(c);
            } catch {
              continue;
            }
            await place(c.id, data);
            places.delete(c.id);
            result.reused += c.size;
          }
        }
      }
      // Transient: every chunk is written out and nothing keeps its bytes,
      // so the fetch may read into a few reused buffers (see fetchObjects).
      await remote.fetchObjects(places.keys(), async (id, data) => {
        result.bytes += data.length;
        await place(id, data, true);
      }, o.progress, { transient: true });
      while (writes.length > 0) await writes.shift();
      for (const f of batch) {
        fs.closeSync(f.fd);
        f.fd = -1;
        if (fs.statSync(f.tmp).size !== f.list.size) throw new CorruptObjectError(`assembled file ${f.id} has the wrong size`, { objectId: f.id });
        // Every chunk written into it was checked against its ID as it arrived.
        store.installFile(f.tmp, f.id, true);
        result.files++;
        if (f.twin) {
          fs.closeSync(f.twinFd);
          f.twinFd = -1;
          // The same writes as the cache copy's: complete when that one is.
          if (fs.statSync(f.twin).size === f.list.size && !o.twins!.has(f.id)) {
            o.twins!.set(f.id, f.twin);
            f.twin = undefined;
          }
        }
      }
    } finally {
      // No write may still run on a file descriptor closed here.
      await Promise.allSettled(writes);
      for (const f of batch) {
        if (f.fd >= 0) fs.closeSync(f.fd);
        if (f.twinFd >= 0) fs.closeSync(f.twinFd);
        rmQuiet(f.tmp);
        if (f.twin) rmQuiet(f.twin);
      }
    }
  }
  // Everything the walk reached is now in the store: only now may these
  // commits be trusted as complete (a path-limited fetch left files out; a
  // partial one, the data of history: there, a commit is complete only when
  // its own data came and its parents already were).
  markMetadataComplete(store, walked);
  if (allPaths && dataAll) markComplete(store, o.commits);
  else if (allPaths) {
    const whole = readComplete(store);
    markComplete(
      store,
      [...dataOf].filter((id) => decodeCommit(store.getObject(id, 'commit'), id).parents.every((p) => whole.has(p))),
    );
  }
  result.requests = remote.stats.requests - startRequests;
  return result;
}

