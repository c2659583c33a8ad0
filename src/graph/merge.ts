/**
 * Three-way merge of dataset trees. Data files are not merged line by line:
 * a path changed on one side only takes that side; a path changed the same
 * way on both sides is clean; a path changed differently on both sides is a
 * conflict the user resolves (ours, theirs, or an edited file).
 */
import type { ObjectId } from '../core/id.js';
import { comparePaths, parentPath } from '../core/paths.js';
import { readCommit, type CommitStore } from './commits.js';
import { diffTrees, type Change } from './diff.js';
import { buildTrees, walkFiles, type BuiltTrees, type FileEntry, type TreeSource } from './trees.js';

/**
 * mergeBase returns the best common ancestor of commits `a` and `b`: a common
 * ancestor that is not an ancestor of another common ancestor (the newest one
 * when several qualify, as in a criss-cross history). Undefined when the
 * histories share nothing.
 */
export function mergeBase(store: CommitStore, a: ObjectId, b: ObjectId): ObjectId | undefined {
  const fromA = ancestors(store, [a]);
  const common: ObjectId[] = [];
  const seen = new Set<ObjectId>();
  const stack = [b];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    // A common ancestor's own ancestors are common too, but never better: stop there.
    if (fromA.has(id)) {
      common.push(id);
      continue;
    }
    stack.push(...readCommit(store, id).parents);
  }
  if (common.length <= 1) return common[0];
  const best = common.filter((c) => !common.some((o) => o !== c && ancestors(store, [o]).has(c)));
  best.sort((x, y) => readCommit(store, y).time - readCommit(store, x).time || (x < y ? -1 : 1));
  return best[0];
}

function ancestors(store: CommitStore, starts: ObjectId[]): Set<ObjectId> {
  const out = new Set<ObjectId>();
  const stack = [...starts];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...readCommit(store, id).parents);
  }
  return out;
}

type Side = NonNullable<Change['new']>;

/** ConflictKind says how the two sides disagree about a path. */
export type ConflictKind =
  /** Both sides changed (or added) the file with different content. */
  | 'content'
  /** Ours changed the file, theirs deleted it. */
  | 'modify/delete'
  /** Ours deleted the file, theirs changed it. */
  | 'delete/modify'
  /** One side has a file where the other has a directory. */
  | 'file/directory';

/** MergeConflict is one path the sides disagree about, with each side's entry (null: absent). */
export interface MergeConflict {
  path: string;
  kind: ConflictKind;
  base: Side | null;
  ours: Side | null;
  theirs: Side | null;
}

export interface MergeTreesResult extends BuiltTrees {
  /** Conflicting paths, sorted; resolved in the tree by `favor` (ours by default). */
  conflicts: MergeConflict[];
  /** Paths where the merged tree differs from ours (what merging brings in). */
  fromTheirs: number;
}

/**
 * mergeTrees merges `theirs` into `ours` against `base`. Changes are found by
 * diffing trees, so the cost follows what changed on each side; the merged
 * tree starts from every file of ours. Conflicting paths take the side named
 * by `favor` (ours when omitted) and are all listed in `conflicts`.
 */
export function mergeTrees(src: TreeSource, base: ObjectId, ours: ObjectId, theirs: ObjectId, favor: 'ours' | 'theirs' = 'ours'): MergeTreesResult {
  const files = new Map<string, FileEntry>();
  for (const f of walkFiles(src, ours)) files.set(f.path, f);
  const oursChanges = new Map<string, Change>();
  for (const c of diffTrees(src, base, ours, { renames: false })) oursChanges.set(c.path, c);
  const conflicts: MergeConflict[] = [];
  const applied = new Map<string, Side | null>();
  const apply = (p: string, s: Side | undefined) => {
    if (s) files.set(p, { path: p, ...s });
    else files.delete(p);
    applied.set(p, s ?? null);
  };
  for (const c of diffTrees(src, base, theirs, { renames: false })) {
    const o = oursChanges.get(c.path);
    if (o && sameSide(o.new, c.new)) continue;
    if (o) {
      const kind: ConflictKind = o.new && c.new ? 'content' : o.new ? 'modify/delete' : 'delete/modify';
      conflicts.push({ path: c.path, kind, base: c.old ?? null, ours: o.new ?? null, theirs: c.new ?? null });
      if (favor === 'ours') continue;
    }
    apply(c.path, c.new);
  }
  // A file on one side where the other side has a directory: both cannot
  // stand. Keep the favoured side's entries and report the file's path, once.
  // Files under a directory are found by binary search in the sorted paths
  // (deletions below are skipped by the `files.has` check), so the cost
  // follows what theirs changed, not the size of the tree.
  const sortedPaths = [...files.keys()].sort();
  const filesUnder = (dir: string): string[] => {
    const prefix = `${dir}/`;
    let lo = 0;
    let hi = sortedPaths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sortedPaths[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < sortedPaths.length && sortedPaths[i].startsWith(prefix); i++) if (files.has(sortedPaths[i])) out.push(sortedPaths[i]);
    return out;
  };
  const reported = new Set(conflicts.map((c) => c.path));
  const clash = (at: string, ours: Side, theirs: Side) => {
    if (reported.has(at)) return;
    reported.add(at);
    conflicts.push({ path: at, kind: 'file/directory', base: null, ours, theirs });
  };
  for (const p of [...applied.keys()]) {
    if (!files.has(p)) continue;
    for (let up = parentPath(p); up !== ''; up = parentPath(up)) {
      if (!files.has(up)) continue;
      clash(up, entryOf(files.get(up)!), entryOf(files.get(p)!));
      const loser = favor === 'theirs' ? up : p;
      files.delete(loser);
      if (loser === p) applied.delete(p);
      break;
    }
    if (!files.has(p)) continue;
    const below = filesUnder(p);
    if (below.length === 0) continue;
    clash(p, entryOf(files.get(below[0])!), entryOf(files.get(p)!));
    if (favor === 'theirs') for (const q of below) files.delete(q);
    else {
      files.delete(p);
      applied.delete(p);
    }
  }
  // A conflict resolved with one side can hide a clash of the other side's
  // file with the tree: report it too, so the list does not depend on `favor`.
  for (const c of [...conflicts]) {
    const lost = favor === 'theirs' ? c.ours : c.theirs;
    if (!lost || c.kind === 'file/directory') continue;
    const side = (tree: Side): [Side, Side] => (favor === 'theirs' ? [lost, tree] : [tree, lost]);
    for (let up = parentPath(c.path); up !== ''; up = parentPath(up)) {
      if (files.has(up)) clash(up, ...side(entryOf(files.get(up)!)));
    }
    const below = filesUnder(c.path);
    if (below.length > 0) clash(c.path, ...side(entryOf(files.get(below[0])!)));
  }
  const built = buildTrees([...files.values()].sort((a, b) => comparePaths(a.path, b.path)));
  conflicts.sort((a, b) => comparePaths(a.path, b.path));
  return { ...built, conflicts, fromTheirs: applied.size };
}

function entryOf(f: FileEntry): Side {
  return { id: f.id, size: f.size, kind: f.kind, exec: f.exec };
}

function sameSide(a: Side | undefined, b: Side | undefined): boolean {
  if (!a || !b) return a === b;
  return a.id === b.id && a.exec === b.exec && a.kind === b.kind;
}

/**
 * mergeDatasets merges the lists of tracked roots: a root stays when both
 * sides keep it or one side added it; a root one side dropped is dropped.
 */
export function mergeDatasets(base: readonly string[], ours: readonly string[], theirs: readonly string[]): string[] {
  const b = new Set(base);
  const o = new Set(ours);
  const t = new Set(theirs);
  const out = new Set<string>();
  for (const d of [...o, ...t]) if ((o.has(d) && t.has(d)) || !b.has(d)) out.add(d);
  return [...out].sort();
}
