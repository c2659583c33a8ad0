/**
 * gcRemote frees space on a remote without ever deleting data a concurrent
 * push may still reference. It works in two steps, a grace period apart:
 *
 * 1. Mark. Every pack holding objects no remote ref reaches is marked
 *    (`gc/pending/<pack id>` holding the time, with a checksum), and so is
 *    every pack without an index (an interrupted push, or one still
 *    uploading: the grace period protects it). If a pack also holds live
 *    objects, those are first copied into a new pack, so the packs that stay
 *    unmarked hold only reachable objects and stay closed under references.
 *    Pushes never rely on objects in marked packs (they send them again).
 * 2. Sweep, on a later run. A pack marked longer ago than the grace period
 *    is deleted (index first, which makes it invisible, then the pack, then
 *    the mark) — unless some ref reaches its objects again, in which case
 *    the mark is dropped. A push that began before the mark relied on the
 *    pack; it must finish within the grace period, after which its ref
 *    revives the pack. A mark that does not read back valid counts as made
 *    now and is rewritten: a damaged read restarts the grace period, it
 *    never shortens it. The grace period is at least MIN_GRACE_MS.
 */
import { decodeChunkList, decodeCommit, treeLinks } from '../core/encoding.js';
import { UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { PackWriter } from '../objects/pack.js';
import type { LocalStore } from '../objects/store.js';
import type { RemoteStore } from './remote-store.js';
import { fetchCommits } from './fetch.js';

/** DEFAULT_GRACE_MS: how long a marked pack survives (a push must finish within it). */
export const DEFAULT_GRACE_MS = 6 * 60 * 60 * 1000;
/**
 * MIN_GRACE_MS: shorter grace periods are refused. A grace period shorter
 * than a push lets gc delete packs the push then references.
 */
export const MIN_GRACE_MS = 60 * 60 * 1000;

export interface RemoteGcOptions {
  store: LocalStore;
  remote: RemoteStore;
  dryRun?: boolean;
  graceMs?: number;
  /** Clock, for tests. */
  now?: number;
  progress?: ProgressSink;
}

export interface RemoteGcResult {
  dryRun: boolean;
  packs: number;
  liveObjects: number;
  deadObjects: number;
  /** Packs marked for deletion in this run (after copying their live objects). */
  marked: number;
  /** Packs whose live objects were copied into a new pack. */
  repacked: number;
  /** Marked packs deleted in this run (marked longer ago than the grace period). */
  deleted: number;
  /** Marks dropped because a ref reaches the pack again. */
  revived: number;
  /** Packs without an index (interrupted pushes, or pushes in progress) seen in this run. */
  unindexed: number;
  /** Marks that did not read back valid and were rewritten as made now. */
  rewrittenMarks: number;
  /** Bytes of deleted packs. */
  bytesFreed: number;
}

export async function gcRemote(o: RemoteGcOptions): Promise<RemoteGcResult> {
  const { store, remote } = o;
  const now = o.now ?? Date.now();
  const grace = o.graceMs ?? DEFAULT_GRACE_MS;
  if (!(grace >= MIN_GRACE_MS)) {
    throw new UsageError(`a grace period of ${grace} ms is too short: gc --remote keeps marked packs at least ${MIN_GRACE_MS / 3600_000} hour`, {
      hint: 'a push must finish within the grace period, or gc deletes data it references; use --grace-hours 1 or more',
    });
  }
  await remote.refresh();
  const refs = await remote.refs();
  // Metadata of everything the refs reach (file contents are not needed).
  await fetchCommits({ store, remote, commits: refs.map((r) => r.id), metadataOnly: true });
  const live = reachable(store, refs.map((r) => r.id));
  const result: RemoteGcResult = {
    dryRun: !!o.dryRun,
    packs: remote.packCount(),
    liveObjects: 0,
    deadObjects: 0,
    marked: 0,
    repacked: 0,
    deleted: 0,
    revived: 0,
    unindexed: remote.unindexedPacks().size,
    rewrittenMarks: 0,
    bytesFreed: 0,
  };
  // Marks that cannot be trusted count as made now: rewrite them so the
  // grace period restarts from this run instead of never ending.
  const markedAt = remote.pendingPacks();
  for (const packId of remote.suspectMarkIds()) {
    markedAt.set(packId, now);
    result.rewrittenMarks++;
    if (!o.dryRun) await remote.writeMark(packId, now);
  }
  /** sweep deletes a marked pack if its mark, read again now, is still older than the grace period. */
  const sweep = async (packId: ObjectId, size: number): Promise<void> => {
    if (now - markedAt.get(packId)! < grace) return;
    if (!o.dryRun) {
      // Read the mark again: the decision must rest on a fresh, valid read.
      const at = await remote.readMark(packId);
      if (at === null || at === undefined || now - at < grace) return;
    }
    result.deleted++;
    result.bytesFreed += size;
    if (!o.dryRun) {
      await remote.backend.remove(`packs/${packId}.idx`);
      await remote.backend.remove(`packs/${packId}.pack`);
      await remote.backend.remove(`gc/pending/${packId}`);
    }
  };
  for (const [packId, idx] of [...remote.indexedPacks()]) {
    const entries = [...idx.entries()];
    const liveHere = entries.filter((e) => live.has(e.id));
    result.liveObjects += liveHere.length;
    result.deadObjects += entries.length - liveHere.length;
    if (markedAt.has(packId)) {
      if (liveHere.length > 0 && liveHere.some((e) => !inOtherSafePack(remote, e.id, packId))) {
        // A ref reaches objects found only here again: keep the pack.
        result.revived++;
        if (!o.dryRun) await remote.backend.remove(`gc/pending/${packId}`);
      } else {
        await sweep(packId, (await remote.backend.stat(`packs/${packId}.pack`))?.size ?? 0);
      }
      continue;
    }
    if (liveHere.length === entries.length) continue;
    if (!o.dryRun && liveHere.length > 0) {
      // Copy the live objects out first, so no unmarked pack holds dead ones.
      const writer = new PackWriter();
      // Each object keeps its stored form: compressed again only if it was.
      const wasCompressed = new Set(liveHere.filter((e) => e.codec !== undefined).map((e) => e.id));
      await remote.fetchObjects(
        liveHere.map((e) => e.id),
        (id, data) => writer.add(id, data, wasCompressed.has(id)),
      );
      await remote.uploadPack(writer);
    }
    if (liveHere.length > 0) result.repacked++;
    result.marked++;
    if (!o.dryRun) await remote.writeMark(packId, now);
  }
  // A pack without an index is marked the first time gc sees it, like an
  // unreachable pack: if its push is still running, the grace period covers
  // it; if its index arrives later, it is an ordinary marked pack that a ref
  // revives.
  for (const [packId, size] of remote.unindexedPacks()) {
    if (markedAt.has(packId)) {
      // Its index arrived since the listing: leave it to the next run, which sees whether a ref needs it.
      if (await remote.backend.stat(`packs/${packId}.idx`)) continue;
      await sweep(packId, size);
    } else {
      result.marked++;
      if (!o.dryRun) await remote.writeMark(packId, now);
    }
  }
  // Marks whose pack is gone altogether are dropped.
  for (const packId of markedAt.keys()) {
    if (!remote.hasPack(packId) && !remote.isUnindexedPack(packId) && !o.dryRun) await remote.backend.remove(`gc/pending/${packId}`);
  }
  return result;
}

function inOtherSafePack(remote: RemoteStore, id: ObjectId, packId: ObjectId): boolean {
  for (const [pid, idx] of remote.indexedPacks()) if (pid !== packId && !remote.isPending(pid) && idx.find(id)) return true;
  return false;
}

/** reachable lists every object ID (commits, trees, chunk lists, blobs, chunks) the commits reach. */
export function reachable(store: LocalStore, tips: ObjectId[]): Set<ObjectId> {
  const out = new Set<ObjectId>();
  const commits = [...tips];
  const trees: ObjectId[] = [];
  while (commits.length > 0) {
    const id = commits.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    const c = decodeCommit(store.getObject(id, 'commit'), id);
    if (c.record) out.add(c.record);
    trees.push(c.tree);
    commits.push(...c.parents);
  }
  while (trees.length > 0) {
    const id = trees.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    const links = treeLinks(store.getObject(id, 'tree'), id);
    trees.push(...links.shards);
    for (const e of links.entries) {
      if (e.kind === 'tree') trees.push(e.id);
      else if (!out.has(e.id)) {
        out.add(e.id);
        if (e.kind === 'chunked') for (const c of decodeChunkList(store.getObject(e.id, 'chunk list'), e.id).chunks) out.add(c.id);
      }
    }
  }
  return out;
}
