/**
 * diffTrees compares two trees and lists what changed, descending only into
 * subtrees whose IDs differ: its cost follows the size of the change, not of
 * the dataset. Renames are paired afterwards by identical content.
 */
import type { TreeEntry } from '../core/encoding.js';
import type { ObjectId } from '../core/id.js';
import { compareNames, comparePaths, joinPath } from '../core/paths.js';
import { DirectoryCursor, forEachFile, type FileEntry, type TreeSource } from './trees.js';

export type ChangeStatus = 'added' | 'deleted' | 'modified' | 'renamed';

/** Change is one file that differs between the old and new side. */
export interface Change {
  status: ChangeStatus;
  /** Path on the new side (the old path for deletions). */
  path: string;
  /** Path on the old side, for renames. */
  oldPath?: string;
  old?: { id: ObjectId; size: number; kind: 'blob' | 'chunked'; exec: boolean };
  new?: { id: ObjectId; size: number; kind: 'blob' | 'chunked'; exec: boolean };
}

export interface DiffTreesOptions {
  /** Pair deletions and additions with identical content as renames (default true). */
  renames?: boolean;
  /** Restrict to these repo paths (files or directories); empty = everything. */
  paths?: string[];
}

function side(f: FileEntry | TreeEntry) {
  return { id: f.id, size: f.size, kind: f.kind as 'blob' | 'chunked', exec: f.exec };
}

/**
 * diffTrees returns the changes from tree `a` to tree `b` (either may be
 * undefined: an empty side), sorted by path.
 */
export function diffTrees(src: TreeSource, a: ObjectId | undefined, b: ObjectId | undefined, options: DiffTreesOptions = {}): Change[] {
  const out: Change[] = [];
  walkChanges(src, a, b, options.paths ?? [], (c) => out.push(c));
  const changes = options.renames === false ? out : pairRenames(out);
  return changes.sort((p, q) => comparePaths(p.path, q.path));
}

/** DiffCounts are the numbers of the changes diffTrees would list (renames paired), without the list. */
export interface DiffCounts {
  added: number;
  deleted: number;
  modified: number;
  renamed: number;
}

/**
 * diffCounts counts the changes from tree `a` to tree `b` as diffTrees with
 * renames would list them, holding 32 bytes per added file instead of a
 * Change each (a first commit of a million files made 750 MB of them).
 * pairRenames pairs, for each content ID, as many additions with deletions
 * as there are of the fewer: that is the number counted as renamed.
 */
export function diffCounts(src: TreeSource, a: ObjectId | undefined, b: ObjectId | undefined): DiffCounts {
  const counts = { added: 0, deleted: 0, modified: 0, renamed: 0 };
  const deleted = new Map<ObjectId, number>();
  let addedIds = Buffer.allocUnsafe(32 * 1024);
  walkChanges(src, a, b, [], (c) => {
    if (c.status === 'modified') counts.modified++;
    else if (c.status === 'deleted') {
      counts.deleted++;
      deleted.set(c.old!.id, (deleted.get(c.old!.id) ?? 0) + 1);
    } else {
      if (32 * (counts.added + 1) > addedIds.length) {
        const bigger = Buffer.allocUnsafe(addedIds.length * 2);
        addedIds.copy(bigger, 0, 0, 32 * counts.added);
        addedIds = bigger;
      }
      addedIds.write(c.new!.id, 32 * counts.added, 32, 'hex');
      counts.added++;
    }
  });
  if (deleted.size > 0) {
    for (let i = 0; i < counts.added; i++) {
      const id = addedIds.toString('hex', 32 * i, 32 * i + 32);
      const left = deleted.get(id);
      if (left === undefined || left === 0) continue;
      deleted.set(id, left - 1);
      counts.renamed++;
    }
  }
  counts.added -= counts.renamed;
  counts.deleted -= counts.renamed;
  return counts;
}

/** walkChanges gives each file that differs between `a` and `b` (no renames paired) to `emit`, in walk order. */
function walkChanges(src: TreeSource, a: ObjectId | undefined, b: ObjectId | undefined, paths: string[], emit: (c: Change) => void): void {
  const out = { push: emit };
  const filters = paths.filter((p) => p !== '');
  const wanted = (path: string, isDir: boolean) =>
    filters.length === 0 || filters.some((f) => path === f || path.startsWith(`${f}/`) || (isDir && f.startsWith(`${path}/`)));
  const addAll = (status: 'added' | 'deleted', id: ObjectId, dir: string) => {
    forEachFile(src, id, dir, (f) => {
      if (wanted(f.path, false)) out.push(status === 'added' ? { status, path: f.path, new: side(f) } : { status, path: f.path, old: side(f) });
    });
  };
  const rec = (ta: ObjectId | undefined, tb: ObjectId | undefined, dir: string) => {
    if (ta === tb) return;
    const a = new DirectoryCursor(src, ta);
    const b = new DirectoryCursor(src, tb);
    while (true) {
      // Shard cuts depend only on names, so past a change both sides stand
      // before a subtree together again: equal IDs hold equal entries, skipped
      // unread. Otherwise open the larger side (both when level with each other)
      // until entries can be compared.
      const sa = a.subtree();
      const sb = b.subtree();
      if (sa && sb) {
        if (sa.id === sb.id) {
          a.skip();
          b.skip();
          continue;
        }
        if (sa.level >= sb.level) a.open();
        if (sb.level >= sa.level) b.open();
        continue;
      }
      const x = a.peek();
      const y = b.peek();
      if (x === undefined && y === undefined) break;
      const cmp = x === undefined ? 1 : y === undefined ? -1 : compareNames(x.name, y.name);
      if (cmp < 0) {
        visitOne(x, undefined, dir);
        a.next();
      } else if (cmp > 0) {
        visitOne(undefined, y, dir);
        b.next();
      } else {
        visitOne(x, y, dir);
        a.next();
        b.next();
      }
    }
  };
  const visitOne = (x: TreeEntry | undefined, y: TreeEntry | undefined, dir: string) => {
    const path = joinPath(dir, (x ?? y)!.name);
    const xDir = x?.kind === 'tree';
    const yDir = y?.kind === 'tree';
    if (!wanted(path, xDir || yDir)) return;
    if (x && y && x.id === y.id && x.kind === y.kind && x.exec === y.exec) return;
    if (xDir && yDir) return rec(x!.id, y!.id, path);
    // A file replaced by a directory (or the reverse) is a deletion plus additions.
    // The directory let `path` through the filter; its file side must pass on its own.
    const fileWanted = wanted(path, false);
    if (x) {
      if (xDir) addAll('deleted', x.id, path);
      else if ((!y || yDir) && fileWanted) out.push({ status: 'deleted', path, old: side(x) });
    }
    if (y) {
      if (yDir) addAll('added', y.id, path);
      else if (!x || xDir) {
        if (fileWanted) out.push({ status: 'added', path, new: side(y) });
      } else out.push({ status: 'modified', path, old: side(x!), new: side(y) });
    }
  };
  rec(a, b, '');
}

/**
 * pairRenames turns a deletion and an addition with the same content ID into
 * one rename; each deleted file pairs at most once, preferring the same base name.
 * Pairs depend only on the order of the additions and of the deletions among
 * themselves, so diff(b, a) pairs exactly as diff(a, b) does.
 */
export function pairRenames(changes: Change[]): Change[] {
  const deleted = new Map<ObjectId, Change[]>();
  for (const c of changes) if (c.status === 'deleted') {
    const list = deleted.get(c.old!.id);
    if (list) list.push(c);
    else deleted.set(c.old!.id, [c]);
  }
  if (deleted.size === 0) return changes;
  const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);
  const used = new Set<Change>();
  const pairs = new Map<Change, Change>();
  // Same base names first, in a pass of their own: pairing greedily in one pass
  // lets an earlier addition take the deletion a later one matches by name.
  for (const sameName of [true, false]) {
    for (const c of changes) {
      if (c.status !== 'added' || pairs.has(c)) continue;
      const match = deleted.get(c.new!.id)?.find((d) => !used.has(d) && (!sameName || base(d.path) === base(c.path)));
      if (!match) continue;
      used.add(match);
      pairs.set(c, match);
    }
  }
  const out: Change[] = [];
  for (const c of changes) {
    if (c.status !== 'added') continue;
    const match = pairs.get(c);
    out.push(match ? { status: 'renamed', path: c.path, oldPath: match.path, old: match.old, new: c.new } : c);
  }
  for (const c of changes) if (c.status === 'modified' || (c.status === 'deleted' && !used.has(c))) out.push(c);
  return out;
}
