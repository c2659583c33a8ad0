import * as fs from 'node:fs';
import { decodeChunkList, decodeCommit, isCommitEncoding, isTreeEncoding, treeLinks } from '../core/encoding.js';
import { LockedError, LodeError } from '../core/errors.js';
import { decodeRecord, isRecordEncoding } from '../core/record.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { reachableFrom, readCommit, walkHistory } from '../graph/commits.js';
import { TreePool, walkFiles } from '../graph/trees.js';
import { pruneSplit, retireFiles } from '../objects/split.js';
import { newestFiles, tipCommits } from './cache-split.js';
import type { Repository } from '../repo/repository.js';
import { stagedTrees } from '../repo/snapshot.js';
import { parentsFirst } from '../graph/order.js';
import { statMatches } from '../workspace/compare.js';
import type { UnlockResult } from '../repo/lock.js';
import { forgetComplete, keepComplete, readComplete } from '../sync/complete.js';
import { gitContext, readPinAt, readWorkspacePin } from '../git/pin-file.js';

export interface GcOptions {
  dryRun?: boolean;
  /**
   * Also drop cached file data that a remote holds (checked against its pack
   * indexes now): this remote's name, or true for the default remote. What
   * the index needs (the checked-out files) is kept, and so is anything the
   * remote lacks: never the only copy.
   */
  pushed?: string | true;
  /**
   * With or without `pushed` (it implies it): keep the data of the last N
   * commits of each branch and of every tag's commit; older data is dropped
   * only where the remote holds it.
   */
  keepLast?: number;
  progress?: ProgressSink;
}

export interface GcResult {
  dryRun: boolean;
  /** Metadata objects (trees, commits, chunk lists) removed or, with dryRun, removable. */
  objectsRemoved: number;
  /** Cached files removed or removable. */
  filesRemoved: number;
  bytesFreed: number;
  objectsKept: number;
  filesKept: number;
  /** With `pushed` or `keepLast`: the reachable data dropped because a remote holds it. */
  pushed?: GcPushedResult;
  /** Older versions of chunked files now kept as chunks (their whole copy removed; see objects/split.ts). */
  filesSplit: number;
  /** Loose chunks written for them, and loose chunks and split markers removed as unneeded. */
  chunksWritten: number;
  chunksRemoved: number;
}

/**
 * liveSets lists what branches, tags, HEAD, a merge in progress and the index
 * keep alive, and inside git also the commits pinned by lode.lock in the work
 * tree and at every git branch and tag: code that git keeps must keep its data.
 */
async function liveSets(repo: Repository) {
  const starts = [...repo.refs.list('heads'), ...repo.refs.list('tags')].map((r) => r.id);
  const head = repo.refs.headCommit();
  if (head) starts.push(head);
  const merge = repo.mergeState();
  // A merge in progress needs what it merges and what it staged (its --abort switches from there).
  if (merge) for (const id of [merge.theirs, merge.staged, merge.head]) if (repo.store.hasObject(id)) starts.push(id);
  starts.push(...(await pinnedCommits(repo)));
  const reach = reachableFrom(repo.store, starts);
  const index = await repo.readIndex();
  for (const e of index.entries) {
    reach.files.add(e.id);
    if (e.kind === 'chunked') reach.chunkLists.add(e.id);
  }
  return reach;
}

/**
 * pruneStaged removes the staged trees not under `root` (the index's tree):
 * those of indexes written before it. A damaged one goes too; status and
 * commit build what they cannot read.
 */
function pruneStaged(repo: Repository, root: ObjectId | undefined): void {
  const kept = repo.store.listStaged();
  if (kept.length === 0) return;
  const live = root ? stagedTrees(repo, root, { fault: 'skip' })! : new Map<ObjectId, Buffer>();
  for (const id of kept) if (!live.has(id)) repo.store.removeStaged(id);
}

/** pinnedCommits are the lode commits that git's branches, tags and work tree pin and the store holds. */
async function pinnedCommits(repo: Repository): Promise<ObjectId[]> {
  const ctx = gitContext(repo, false);
  if (!ctx) return [];
  const out: ObjectId[] = [];
  try {
    const pin = readWorkspacePin(ctx);
    if (pin) out.push(pin.commit);
  } catch {
    // an unreadable pin file pins nothing; status and checkout report it
  }
  for (const tip of await ctx.git.refTips()) {
    try {
      out.push((await readPinAt(ctx, tip.oid, tip.name)).commit);
    } catch {
      // a git branch without a (valid) pin file
    }
  }
  return out.filter((id) => repo.store.hasObject(id));
}

/**
 * gc removes cached files and metadata objects that no branch, tag, HEAD,
 * the index, a merge in progress or (inside git) a pin at a git branch or tag
 * reaches. It refuses to run when any reachable object is missing
 * or corrupt: what lies beneath a damaged tree cannot be enumerated, and
 * deleting it would make the damage permanent.
 */
export async function gc(repo: Repository, options: GcOptions = {}): Promise<GcResult> {
  return repo.withLock('gc', async () => {
    const reach = await liveSets(repo);
    if (reach.problems.size > 0) {
      const [id, why] = [...reach.problems][0];
      throw new LodeError('CORRUPT', `gc stopped: ${reach.problems.size} reachable object(s) are missing or corrupt (first: ${id.slice(0, 12)}: ${why})`, {
        hint: 'run `lode fsck` for the full list and repair them before collecting garbage',
      });
    }
    // Forget, before deleting anything, that commits about to go were complete.
    if (!options.dryRun) keepComplete(repo.store, reach.commits);
    // Staged trees (the index's, see IndexTrees) that the index no longer names.
    if (!options.dryRun) pruneStaged(repo, (await repo.readIndex({ lazy: true })).tree);
    const liveObjects = new Set<ObjectId>([...reach.commits, ...reach.trees, ...reach.chunkLists, ...reach.records]);
    const result: GcResult = { dryRun: !!options.dryRun, objectsRemoved: 0, filesRemoved: 0, bytesFreed: 0, objectsKept: 0, filesKept: 0, filesSplit: 0, chunksWritten: 0, chunksRemoved: 0 };
    // Whole files first, while every chunk list is still there: unreachable
    // ones go, older versions of chunked files are split, and chunks split
    // files read from either are moved to loose chunks before anything is removed.
    const cacheSplit = await splitCache(repo, reach, options.dryRun);
    result.filesSplit = cacheSplit.filesSplit;
    result.chunksWritten = cacheSplit.chunksWritten;
    result.chunksRemoved = cacheSplit.chunksRemoved;
    result.bytesFreed += cacheSplit.bytesFreed;
    result.filesRemoved = cacheSplit.filesRemoved;
    let done = 0;
    const dead: ObjectId[] = [];
    for (const id of repo.store.listIds('objects')) {
      if (liveObjects.has(id)) result.objectsKept++;
      else {
        result.objectsRemoved++;
        result.bytesFreed += repo.store.sizeOf('objects', id);
        dead.push(id);
      }
      if ((++done & 1023) === 0) options.progress?.({ phase: 'gc', done });
    }
    // Each before what it names: a gc stopped halfway leaves no tree naming a deleted one.
    if (!options.dryRun) for (const id of parentsFirst(dead, (x) => repo.store.getObject(x))) repo.store.remove('objects', id);
    // What is left dead (packed small files; retireFiles removed loose ones above).
    const deadFiles = new Set<ObjectId>();
    for (const id of repo.store.listIds('cache')) {
      if (reach.files.has(id)) result.filesKept++;
      else {
        result.filesRemoved++;
        result.bytesFreed += repo.store.sizeOf('cache', id);
        deadFiles.add(id);
      }
      if ((++done & 1023) === 0) options.progress?.({ phase: 'gc', done });
    }
    // Loose files go one by one; local packs holding dead files are rewritten without them.
    if (!options.dryRun) repo.store.removeFiles(deadFiles);
    options.progress?.({ phase: 'gc', done, finished: true });
    if (!options.dryRun) repo.store.clearTmp();
    if (options.pushed !== undefined || options.keepLast !== undefined) {
      result.pushed = await dropPushedData(repo, { remote: typeof options.pushed === 'string' ? options.pushed : undefined, keepLast: options.keepLast, dryRun: options.dryRun, reachable: reach.files });
      result.bytesFreed += result.pushed.bytesDropped;
    }
    return result;
  });
}

/** GcPushedResult is what `gc --pushed` / `--keep-last` dropped and kept. */
export interface GcPushedResult {
  remote: string;
  /** Cached files dropped (or, with dryRun, droppable) because the remote holds them. */
  filesDropped: number;
  bytesDropped: number;
  /** Kept because the workspace (index, HEAD, a merge) or a recent commit (`keepLast`) needs them. */
  filesNeeded: number;
  /** Kept because the remote lacks them (not pushed yet): dropping would lose the only copy. */
  notOnRemote: { files: number; bytes: number };
  keepLast: number | null;
}

/**
 * dropPushedData removes from the cache the file data that remote `remote`
 * (default: the default remote) holds in packs not marked for deletion, as
 * its pack indexes say now (listed and read at this call, not remembered),
 * except what workspaceNeeds keeps (what is checked out, unless a clean
 * workspace file holds it; a merge in progress; with `keepLast`, the last N
 * commits of each branch and every tag's commit). Metadata (commits, trees, chunk lists)
 * is always kept, so every version stays listable and is fetched again on
 * checkout. Content the remote lacks is never dropped: it may be the only copy.
 * Only `reachable` files are looked at (the rest is plain gc's). Caller holds
 * the repository lock.
 */
async function dropPushedData(repo: Repository, o: { remote?: string; keepLast?: number; dryRun?: boolean; reachable: ReadonlySet<ObjectId> }): Promise<GcPushedResult> {
  const needed = await workspaceNeeds(repo, o.keepLast);
  const { openRemote } = await import('../sync/open.js');
  const r = await openRemote(repo, o.remote);
  try {
    await r.store.refresh();
    const onRemote = (id: ObjectId): boolean => {
      if (r.store.isSafe(id)) return true;
      // A chunked file is on the remote when every chunk is (its cache ID is its chunk list's).
      if (!repo.store.hasObject(id)) return false;
      try {
        const list = decodeChunkList(repo.store.getObject(id), id);
        return list.chunks.every((c) => r.store.isSafe(c.id));
      } catch {
        return false;
      }
    };
    const out: GcPushedResult = { remote: r.name, filesDropped: 0, bytesDropped: 0, filesNeeded: 0, notOnRemote: { files: 0, bytes: 0 }, keepLast: o.keepLast ?? null };
    const drop = new Set<ObjectId>();
    for (const id of [...repo.store.listIds('cache')]) {
      if (!o.reachable.has(id)) continue; // unreachable: the plain gc's (removed, or with dryRun counted, there)
      const size = repo.store.sizeOf('cache', id);
      if (needed.has(id)) out.filesNeeded++;
      else if (!onRemote(id)) {
        out.notOnRemote.files++;
        out.notOnRemote.bytes += size;
      } else {
        out.filesDropped++;
        out.bytesDropped += size;
        drop.add(id);
      }
    }
    // Older versions kept as chunks (objects/split.ts) that the remote holds
    // go too: their markers first, so removing the whole files below does not
    // move their chunks to loose ones; then the loose chunks nothing needs.
    const unsplit = new Set<ObjectId>();
    for (const id of [...repo.store.listIds('split')]) {
      if (!o.reachable.has(id) || repo.store.hasWhole(id) || needed.has(id) || !onRemote(id)) continue;
      out.filesDropped++;
      unsplit.add(id);
      if (!o.dryRun) repo.store.unmarkSplit(id);
    }
    // Loose and packed alike (small fetched files live in local packs).
    if (!o.dryRun) repo.store.removeFiles(drop);
    if (!o.dryRun && unsplit.size > 0) out.bytesDropped += pruneSplit(repo.store, new Set([...o.reachable].filter((id) => !unsplit.has(id)))).bytesFreed;
    // Commits recorded complete may now lack data: forget them (the metadata record stays true).
    if (!o.dryRun && out.filesDropped > 0) forgetComplete(repo.store, { metadata: false });
    return out;
  } finally {
    await r.store.backend.close?.();
  }
}

/**
 * workspaceNeeds lists the cached files `gc --pushed` keeps: those of a merge
 * in progress and, with `keepLast`, of the last N commits of each branch
 * (newest first, as `lode log` lists them) and of every tag's commit (only
 * these commits' own trees, not their history); and those of what is checked
 * out (the index, HEAD's commit) unless the workspace itself holds them: a
 * file at its path whose stat is the one the index recorded (clean, as
 * `status` trusts it) and that is not the cache file itself (a hardlink).
 * Such content is in the workspace and on the remote; a later restore of
 * that file (after editing it) fetches it again.
 */
async function workspaceNeeds(repo: Repository, keepLast: number | undefined): Promise<Set<ObjectId>> {
  const filesOf = (commits: ObjectId[]) => {
    const roots = commits.map((id) => decodeCommit(repo.store.getObject(id, 'commit'), id).tree);
    // Only these commits' own trees: reachableFrom would add their whole history.
    return reachableFrom(repo.store, [], roots).files;
  };
  const strict: ObjectId[] = [];
  const merge = repo.mergeState();
  if (merge) for (const id of [merge.theirs, merge.staged, merge.head]) if (repo.store.hasObject(id)) strict.push(id);
  if (keepLast !== undefined && keepLast > 0) {
    for (const b of repo.refs.list('heads')) {
      let n = 0;
      for (const c of walkHistory(repo.store, [b.id])) {
        if (n++ >= keepLast) break;
        strict.push(c.id);
      }
    }
    for (const t of repo.refs.list('tags')) strict.push(t.id);
  }
  const out = filesOf(strict);
  const index = await repo.readIndex();
  const held = heldByWorkspace(repo, index);
  const head = repo.refs.headCommit();
  for (const id of head ? filesOf([head]) : []) if (!held.has(id)) out.add(id);
  for (const e of index.entries) if (!held.has(e.id)) out.add(e.id);
  return out;
}

/**
 * heldByWorkspace lists the file IDs whose content a clean workspace file
 * holds: an index entry whose file's stat matches what the index recorded
 * (not racy), and whose inode is not the cache file's.
 */
function heldByWorkspace(repo: Repository, index: Awaited<ReturnType<Repository['readIndex']>>): Set<ObjectId> {
  const out = new Set<ObjectId>();
  for (const e of index.entries) {
    try {
      const st = fs.lstatSync(repo.abs(e.path));
      if (!st.isFile()) continue;
      const f = { path: e.path, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, exec: (st.mode & 0o111) !== 0 };
      if (!statMatches(e, f, index.stampNs)) continue;
      if (repo.store.hasLooseFile(e.id) && fs.statSync(repo.store.filePath(e.id)).ino === st.ino) continue;
      out.add(e.id);
    } catch {
      // absent or unreadable: the cache copy stays needed
    }
  }
  return out;
}

/**
 * splitCache is gc's pass over the file cache (objects/split.ts): whole files
 * nothing reaches are dropped; reachable chunked files that are not the
 * newest (not in the index, HEAD, or a branch or tag tip) are split, so the
 * cache holds old versions as the chunks no whole file has; then split
 * markers of unreachable files and loose chunks nothing needs go.
 */
async function splitCache(repo: Repository, reach: Awaited<ReturnType<typeof liveSets>>, dryRun?: boolean) {
  const newest = await newestFiles(repo);
  const drop: ObjectId[] = [];
  const split: ObjectId[] = [];
  for (const id of repo.store.listIds('cache')) {
    if (!reach.files.has(id)) drop.push(id);
    else if (reach.chunkLists.has(id) && !newest.has(id)) split.push(id);
  }
  // With dryRun nothing is dropped here, and gc's count of dead files counts them.
  const droppedBytes = dryRun ? drop.filter((id) => repo.store.hasWhole(id)).reduce((n, id) => n + repo.store.sizeOf('cache', id), 0) : 0;
  const r = retireFiles(repo.store, { split, drop, dryRun, promote: newest });
  const p = pruneSplit(repo.store, reach.files, { dryRun });
  return { filesSplit: r.split, filesRemoved: dryRun ? 0 : r.dropped, chunksWritten: r.chunksWritten, chunksRemoved: p.chunksRemoved, bytesFreed: r.bytesFreed - droppedBytes - r.chunkBytes + p.bytesFreed };
}

export interface FsckProblem {
  /** corrupt: bytes do not match the ID or do not decode; missing: referenced but absent; ref: a ref is broken. */
  kind: 'corrupt' | 'missing' | 'ref';
  id?: ObjectId;
  message: string;
}

/**
 * FsckNotFetched is file content the workspace never fetched (a path-limited
 * pull, a partial clone): not damage. `remote` names the remote whose indexes
 * list it; null when no remote could be asked (unreachable), the file then
 * being reachable only from commits no whole fetch brought.
 */
export interface FsckNotFetched {
  id: ObjectId;
  remote: string | null;
  message: string;
}

export interface FsckResult {
  objects: number;
  files: number;
  bytes: number;
  refs: number;
  /** Failures: corrupt, missing everywhere (not on the default remote either), broken refs. */
  problems: FsckProblem[];
  /** Not failures: content not fetched yet, on a remote (or presumably, when it could not be asked). */
  notFetched: FsckNotFetched[];
  /** Why the remote was not asked about missing content (unreachable, no remote), if it was not. */
  remoteNote?: string;
  /** Set when problems were found but the record of complete commits could not be forgotten (the lock was busy). */
  completeNote?: string;
  ok: boolean;
}

/**
 * fsck verifies every stored object and cached file against its ID, checks
 * that each ref names a commit, and that everything reachable is present.
 * Finding a problem forgets the record of complete commits (sync/complete.ts)
 * so that the next fetch walks everything and refills what a remote has.
 */
export async function fsck(repo: Repository, options: { progress?: ProgressSink } = {}): Promise<FsckResult> {
  const problems: FsckProblem[] = [];
  const chunked = new Set<ObjectId>();
  // Every tree's subtrees and shards, reachable or not: a tree in objects/
  // must not name one that is missing (walks stop at a stored tree).
  const treeLinksOf = new Map<ObjectId, ObjectId[]>();
  let objects = 0;
  for (const id of repo.store.listIds('objects')) {
    objects++;
    let bytes: Buffer;
    try {
      bytes = repo.store.getObject(id);
    } catch (e) {
      problems.push({ kind: 'corrupt', id, message: e instanceof LodeError ? e.message : String(e) });
      continue;
    }
    try {
      if (isTreeEncoding(bytes)) {
        const links = treeLinks(bytes, id); // decodes and checks it
        const below = [...links.shards];
        for (const e of links.entries) if (e.kind === 'tree') below.push(e.id);
        if (below.length > 0) treeLinksOf.set(id, below);
      } else if (isCommitEncoding(bytes)) decodeCommit(bytes, id);
      else if (isRecordEncoding(bytes)) decodeRecord(bytes, id);
      else {
        decodeChunkList(bytes, id);
        chunked.add(id);
      }
    } catch (e) {
      problems.push({ kind: 'corrupt', id, message: e instanceof LodeError ? e.message : String(e) });
    }
  }
  const ids = [...repo.store.listIds('cache')];
  const totalBytes = ids.reduce((s, id) => s + repo.store.sizeOf('cache', id), 0);
  let files = 0;
  let bytes = 0;
  options.progress?.({ phase: 'fsck', done: 0, total: ids.length, bytes: 0, totalBytes });
  const buf = Buffer.allocUnsafe(4 << 20);
  for (const id of ids) {
    const size = repo.store.sizeOf('cache', id);
    const problem = chunked.has(id)
      ? repo.store.verifyFile({ kind: 'chunked', id, size }, buf)
      : repo.store.verifyFile({ kind: 'blob', id, size }, buf);
    if (problem) problems.push({ kind: 'corrupt', id, message: `cached file ${id} is corrupt: ${problem} (${repo.store.describeFile(id)})` });
    files++;
    bytes += size;
    if ((files & 255) === 0 || size > 8 << 20) options.progress?.({ phase: 'fsck', done: files, total: ids.length, bytes, totalBytes });
  }
  // Loose chunks (objects/split.ts): each checked against its ID.
  for (const id of repo.store.listIds('chunks')) {
    const size = repo.store.sizeOf('chunks', id);
    try {
      repo.store.readPiece({ id, size, offset: 0, source: repo.store.chunkPath(id), at: 0 }, buf);
    } catch (e) {
      problems.push({ kind: 'corrupt', id, message: `loose chunk ${id} is corrupt: ${e instanceof Error ? e.message : String(e)}` });
    }
    files++;
    bytes += size;
  }
  // Split files: every chunk must be somewhere. Their bytes were checked
  // above, as loose chunks or as pieces of the whole files holding them.
  for (const id of repo.store.listIds('split')) {
    if (repo.store.hasWhole(id)) continue;
    let size: number;
    try {
      size = repo.store.getChunkList(id).size;
    } catch (e) {
      if (!alreadyReported(problems, id)) problems.push({ kind: repo.store.hasObject(id) ? 'corrupt' : 'missing', id, message: `file ${id} is kept as chunks, but its chunk list is unreadable: ${(e as Error).message}` });
      continue;
    }
    try {
      repo.store.pieces({ kind: 'chunked', id, size });
    } catch (e) {
      problems.push({ kind: 'missing', id, message: (e as Error).message });
    }
  }
  options.progress?.({ phase: 'fsck', done: files, total: ids.length, bytes, totalBytes, finished: true });
  for (const p of repo.store.packs.problems()) problems.push({ kind: 'corrupt', message: `local pack ${p.name}: ${p.problem}` });
  // Refs and reachability.
  const starts: ObjectId[] = [];
  let refs = 0;
  for (const kind of ['heads', 'tags'] as const) {
    let list: { name: string; id: ObjectId }[] = [];
    try {
      list = repo.refs.list(kind);
    } catch (e) {
      problems.push({ kind: 'ref', message: (e as Error).message });
    }
    for (const r of list) {
      refs++;
      try {
        if (!isCommitEncoding(repo.store.getObject(r.id))) problems.push({ kind: 'ref', id: r.id, message: `refs/${kind}/${r.name} points at ${r.id.slice(0, 12)}, which is not a commit` });
        else starts.push(r.id);
      } catch (e) {
        problems.push({ kind: 'ref', id: r.id, message: `refs/${kind}/${r.name}: ${(e as Error).message}` });
      }
    }
  }
  try {
    const h = repo.refs.headCommit();
    if (h) starts.push(h);
  } catch (e) {
    problems.push({ kind: 'ref', message: (e as Error).message });
  }
  const reach = reachableFrom(repo.store, starts);
  const reported = new Set(problems.map((p) => p.id));
  for (const [id, why] of reach.problems) {
    if (reported.has(id)) continue;
    reported.add(id);
    problems.push({ kind: repo.store.hasObject(id) ? 'corrupt' : 'missing', id, message: why });
  }
  // Trees nothing reaches can still name missing ones (a write or delete an
  // older lode left half done): the walks that trust a stored tree would stop there.
  for (const [id, below] of treeLinksOf) {
    for (const child of below) {
      if (reported.has(child) || repo.store.hasObject(child)) continue;
      reported.add(child);
      problems.push({ kind: 'missing', id: child, message: `tree ${id.slice(0, 12)}, which no ref reaches, names tree ${child.slice(0, 12)}, which is not in the store (a write or delete left half done; \`lode gc\` removes trees nothing reaches)` });
    }
  }
  let staged: { path: string; id: ObjectId }[] = [];
  try {
    staged = (await repo.readIndex()).entries.filter((e) => !repo.store.hasFile(e.id));
  } catch (e) {
    problems.push({ kind: 'corrupt', message: (e as Error).message });
  }
  const absent = [...reach.files].filter((id) => !repo.store.hasFile(id));
  // Checked-out content `gc --pushed` dropped (the workspace holds it) is on the remote: ask about it too.
  const classified = await classifyAbsent(repo, [...new Set([...absent, ...staged.map((e) => e.id)])]);
  const listed = new Set<ObjectId>();
  for (const id of absent) {
    const c = classified.of(id);
    if (c.remote !== undefined) {
      classified.notFetched.push({ id, remote: c.remote, message: `file content ${id} is not fetched yet${c.remote ? ` (on remote ${c.remote})` : ''}` });
      listed.add(id);
    } else problems.push({ kind: 'missing', id, message: `file content ${id} is referenced but not in the cache${classified.remote ? ` nor on remote ${classified.remote}` : ''}` });
  }
  for (const e of staged) {
    // Staged content that no commit has is on no remote: only content a remote holds may be absent.
    const c = classified.of(e.id);
    if (c.remote) {
      if (!listed.has(e.id)) classified.notFetched.push({ id: e.id, remote: c.remote, message: `file content ${e.id} of ${e.path} is not in the cache (on remote ${c.remote})` });
      listed.add(e.id);
    } else if (!(c.remote === null && reach.files.has(e.id))) problems.push({ kind: 'missing', id: e.id, message: `staged file ${e.path} has no content in the cache` });
  }
  // A damaged store may hold commits recorded complete that no longer are:
  // forget the record, so the next fetch walks everything and refills the gaps.
  // Under the lock: a fetch running meanwhile rewrites the record from what it read before.
  let completeNote: string | undefined;
  if (problems.length > 0) {
    try {
      await repo.withLock('fsck', async () => forgetComplete(repo.store), { waitMs: repo.lockWaitMs });
    } catch (e) {
      if (!(e instanceof LockedError)) throw e;
      completeNote = 'another lode command held the lock, so the record of complete commits (.lode/complete) was kept: run `lode fsck` again when it is done, so the next fetch refills the gaps';
    }
  }
  return { objects, files, bytes, refs, problems, notFetched: classified.notFetched, ...(classified.note ? { remoteNote: classified.note } : {}), ...(completeNote ? { completeNote } : {}), ok: problems.length === 0 };
}

/**
 * classifyAbsent sorts file contents the cache lacks into "not fetched yet"
 * and "missing". With a default remote that answers, its pack indexes decide
 * (a chunked file counts as on the remote when all its chunks are). Without
 * one, content that only commits no whole fetch brought (sync/complete.ts:
 * a path-limited pull, a partial clone) reach is presumed not fetched, as
 * long as a remote is configured; content a complete commit reaches was
 * there once, so its absence is damage.
 */
async function classifyAbsent(repo: Repository, absent: ObjectId[]): Promise<{ of(id: ObjectId): { remote?: string | null }; notFetched: FsckNotFetched[]; remote?: string; note?: string }> {
  const notFetched: FsckNotFetched[] = [];
  if (absent.length === 0) return { of: () => ({}), notFetched };
  const name = repo.config.defaultRemote();
  if (!name) return { of: () => ({}), notFetched, note: 'no remote is configured to look for missing content on' };
  const { openRemote } = await import('../sync/open.js');
  try {
    const r = await openRemote(repo, name);
    try {
      await r.store.refresh();
      const onRemote = (id: ObjectId): boolean => {
        if (r.store.location(id) !== undefined) return true;
        if (!repo.store.hasObject(id)) return false;
        try {
          const list = decodeChunkList(repo.store.getObject(id), id);
          return list.chunks.every((c) => r.store.location(c.id) !== undefined);
        } catch {
          return false;
        }
      };
      return { of: (id) => (onRemote(id) ? { remote: name } : {}), notFetched, remote: name };
    } finally {
      await r.store.backend.close?.();
    }
  } catch (e) {
    if (!(e instanceof LodeError)) throw e;
    const wholeFetches = reachableFrom(repo.store, [...readComplete(repo.store)].filter((id) => repo.store.hasObject(id)));
    return { of: (id) => (wholeFetches.files.has(id) ? {} : { remote: null }), notFetched, note: `remote ${name} was not asked: ${e.message}` };
  }
}

function alreadyReported(problems: FsckProblem[], id: ObjectId): boolean {
  return problems.some((p) => p.id === id);
}

export type { UnlockResult };

/**
 * unlock removes the repository lock, reporting who held it. A live owner on
 * this host is refused (LockedError) unless `force`; an owner on another
 * host, or one that is gone, is not: the user has looked and decided.
 */
export async function unlock(repo: Repository, options: { force?: boolean } = {}): Promise<UnlockResult> {
  return repo.unlock(options);
}
