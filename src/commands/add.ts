import * as fs from 'node:fs';
import * as path from 'node:path';
import { NotFoundError, UsageError } from '../core/errors.js';
import { comparePaths, isUnder } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { ingestFiles } from '../objects/ingest-pool.js';
import { splitWanted, ThreadSplit } from '../workspace/walk-split.js';
import { IndexBuilder, indexTable, type IndexEntry, type IndexTable, type IndexTrees } from '../workspace/index-file.js';
import type { Skipped } from '../workspace/scan.js';
import { mergeWalk, statMatchesRow } from '../workspace/compare.js';
import { ParentChecker } from '../workspace/parents.js';
import { ensureGitignored, gitignorePattern } from '../workspace/gitignore.js';
import { findGit } from '../git/git-repo.js';
import type { Repository } from '../repo/repository.js';
import { splitReplaced } from './cache-split.js';
import { indexFiles } from '../repo/snapshot.js';

export interface AddOptions {
  /** Paths to track, absolute or relative to `cwd`. */
  paths: string[];
  cwd?: string;
  progress?: ProgressSink;
  /** Worker threads for hashing (default: automatic). */
  threads?: number;
  /**
   * During a conflicted merge, mark conflicting paths under `paths` resolved
   * (default true; `commit -a` stages without resolving anything).
   */
  resolveConflicts?: boolean;
}

export interface AddResult {
  /** During a conflicted merge: conflicting paths this add marked resolved. */
  resolved?: string[];
  /** Files newly tracked. */
  added: number;
  /** Tracked files whose new content was staged. */
  modified: number;
  /** Tracked files that vanished and were unstaged. */
  removed: number;
  unchanged: number;
  /** Bytes read and hashed. */
  bytesHashed: number;
  /** Dataset roots after the add. */
  datasets: string[];
  skipped: Skipped[];
  /** Patterns appended to .gitignore (inside git only). */
  gitignored: string[];
}

/**
 * add stages files and directories: hashes what changed since the index saw
 * it, stores the content in the cache, records each path given as a dataset
 * root, and stages deletions of tracked files that are gone. The index is
 * written last; on any error it is left as it was.
 */
export async function add(repo: Repository, options: AddOptions): Promise<AddResult> {
  if (options.paths.length === 0) throw new UsageError('nothing to add: give one or more paths', { hint: 'for example `lode add data/`' });
  return repo.withLock('add', async () => {
    const index = await repo.readIndex();
    // The entries stay in the index's table: one object is made per file this add hashes, none per unchanged file.
    const old = indexTable(index);
    const hasUnder = (rel: string) => {
      const i = old.lowerBound(rel);
      return i < old.count && isUnder(old.pathAt(i), rel);
    };
    const roots: string[] = [];
    const unresolved = options.resolveConflicts !== false ? repo.mergeState()?.conflicts ?? [] : [];
    const resolvedOnly: string[] = [];
    const parents = new ParentChecker(repo.root);
    for (const p of options.paths) {
      const rel = repo.toRepoPath(p, options.cwd);
      const blocked = rel === '' ? undefined : parents.blocker(rel);
      if (blocked?.kind === 'link') {
        let target = '';
        try {
          target = fs.realpathSync(repo.abs(blocked.dir));
        } catch {
          // a dangling link: nothing to name
        }
        const outside = target !== '' && path.relative(fs.realpathSync(repo.root), target).startsWith('..');
        throw new UsageError(`${p} is inside ${blocked.dir}, a symbolic link${target ? ` to ${target}` : ''}${outside ? ' outside the workspace' : ''}: lode does not follow symbolic links`, {
          hint: 'copy the data into the workspace, or make the workspace where the data is',
        });
      }
      if (!fs.existsSync(repo.abs(rel)) && !hasUnder(rel) && !index.datasets.some((d) => isUnder(d, rel))) {
        // A conflict resolved by the file being gone: nothing to stage, only the conflict to mark.
        if (unresolved.some((c) => isUnder(c, rel))) {
          resolvedOnly.push(rel);
          continue;
        }
        throw new NotFoundError(`${p} does not exist`, { hint: 'check the path; `lode status` lists what is tracked' });
      }
      roots.push(rel);
    }
    if (roots.length === 0) {
      return { added: 0, modified: 0, removed: 0, unchanged: 0, bytesHashed: 0, datasets: index.datasets, skipped: [], gitignored: [], resolved: resolveConflictsUnder(repo, resolvedOnly) };
    }
    // One sorted walk merged with the index: what is unchanged stays as its row, what is gone is dropped, the rest is hashed.
    const stamp = Number(index.stampNs);
    const dropped = new Uint8Array(old.count); // 1: removed from disk, 2: hashed again
    // No absolute path per task: at millions of files every string held counts (ingestFiles makes each as it sends it).
    const tasks: { rel: string; size: number; old: number }[] = [];
    let unchanged = 0;
    let removed = 0;
    const scan = mergeWalk(repo.root, old, roots, {
      tracked(i, rel, st) {
        if (statMatchesRow(old, i, st, stamp) && repo.store.hasFileAt(old.buf, old.idAt(i))) unchanged++;
        else {
          dropped[i] = 2;
          tasks.push({ rel, size: st.size, old: i });
        }
      },
      untracked(rel, st) {
        tasks.push({ rel, size: st.size, old: -1 });
      },
      // Tracked files under the given paths that are gone from disk: stage their removal.
      gone(i) {
        dropped[i] = 1;
        removed++;
      },
      // A large workspace's walk is split across two threads, as status's is.
    }, undefined, splitWanted(old.count) ? new ThreadSplit(repo.root) : undefined);
    // Hardlink checkouts need a cache file per file: with cache.type naming hardlink, small files are not packed.
    const packSmall = !repo.settings.cacheTypes.includes('hardlink');
    const results = await ingestFiles(tasks, { absOf: (rel) => repo.abs(rel), lodeDir: repo.lodeDir, params: repo.settings.chunking, progress: options.progress, threads: options.threads, packSmall });
    // Small files went to new local packs, which this process's store has not seen yet.
    if (tasks.length > 0) repo.store.packs.reload();
    let added = 0;
    let modified = 0;
    let bytesHashed = 0;
    // Task numbers of the files hashed, whose packed results become index rows (no object per file).
    const fresh: number[] = [];
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      if (!results.has(i)) {
        // Not hashed (gone since the walk): a tracked file keeps its entry, as before this add.
        if (t.old >= 0) dropped[t.old] = 0;
        continue;
      }
      if (t.old < 0) added++;
      else if (old.exec(t.old) !== results.exec(i) || old.id(t.old) !== results.id(i)) modified++;
      else unchanged++;
      bytesHashed += results.size(i);
      fresh.push(i);
    }
    // The walk gives each root's files in path order and roots do not overlap; sorting keeps any order of roots right.
    fresh.sort((a, b) => comparePaths(tasks[a].rel, tasks[b].rel));
    const merged = mergeEntries(old, dropped, { count: fresh.length, path: (f) => tasks[fresh[f]].rel, add: (b, f) => b.addIngested(tasks[fresh[f]].rel, results, fresh[f]) });
    removed += merged.removed;
    // A path inside an existing dataset adds no root; a path above datasets
    // absorbs them; a dataset root that is gone from disk stops being one.
    let datasets = index.datasets.filter((d) => !(roots.some((r) => isUnder(d, r)) && !fs.existsSync(repo.abs(d))));
    for (const r of roots) {
      if (!fs.existsSync(repo.abs(r))) continue;
      if (datasets.some((d) => isUnder(r, d))) continue;
      datasets = datasets.filter((d) => !isUnder(d, r));
      datasets.push(r);
    }
    datasets.sort();
    const built = merged.build(datasets, repo.indexTrees());
    await repo.writeIndex(built);
    // The versions this add replaced keep only the chunks the new ones lack.
    splitReplaced(repo, replacedEntries(old, dropped, merged.conflicts), indexFiles(built));
    let gitignored: string[] = [];
    const git = findGit(repo.root);
    if (git && !git.bare) {
      gitignored = ensureGitignored(
        repo.root,
        datasets.filter((d) => d !== '').map((d) => gitignorePattern(d, isDirectory(repo.abs(d)))),
      );
    }
    const resolved = options.resolveConflicts !== false ? resolveConflictsUnder(repo, [...roots, ...resolvedOnly]) : [];
    return { added, modified, removed, unchanged, bytesHashed, datasets, skipped: scan.skipped, gitignored, ...(resolved.length ? { resolved } : {}) };
  });
}

/**
 * resolveConflictsUnder marks the merge conflicts at or under `paths`
 * resolved (what `lode add`/`lode rm` of them means during a merge) and
 * returns those paths.
 */
export function resolveConflictsUnder(repo: Repository, paths: string[]): string[] {
  const state = repo.mergeState();
  if (!state || state.conflicts.length === 0) return [];
  const done = state.conflicts.filter((c) => paths.some((p) => isUnder(c, p)));
  if (done.length > 0) repo.setMergeState({ ...state, conflicts: state.conflicts.filter((c) => !done.includes(c)) });
  return done;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}


/**
 * mergeEntries merges the old entries not dropped with the fresh ones (both
 * in path order) into a new index. A file that became a directory (or the
 * reverse) leaves a stale entry in the way: the earlier of two entries
 * where one is under the other is removed (counted in `removed`; old ones
 * listed in `conflicts`).
 */
function mergeEntries(old: IndexTable, dropped: Uint8Array, fresh: FreshEntries): { removed: number; conflicts: number[]; build: (datasets: string[], trees: IndexTrees) => ReturnType<IndexBuilder['finish']> } {
  // Pass 1 decides which entries stay; pass 2 writes them. Items: [old entry number, or -1 - fresh index].
  const keep: number[] = [];
  const conflicts: number[] = [];
  let removed = 0;
  let pending: { item: number; path: string } | undefined;
  const push = (item: number, p: string) => {
    if (pending && isUnder(p, pending.path)) {
      removed++;
      if (pending.item >= 0) conflicts.push(pending.item);
    } else if (pending) keep.push(pending.item);
    pending = { item, path: p };
  };
  const c = old.cursor();
  let f = 0;
  for (let i = 0; i < old.count; i++) {
    c.next();
    if (dropped[i] !== 0) continue;
    const p = c.path();
    while (f < fresh.count && comparePaths(fresh.path(f), p) < 0) push(-1 - f, fresh.path(f)), f++;
    push(i, p);
  }
  for (; f < fresh.count; f++) push(-1 - f, fresh.path(f));
  if (pending) keep.push(pending.item);
  const build = (datasets: string[], trees: IndexTrees) => {
    let pathBytes = old.count * 8;
    for (let f = 0; f < fresh.count; f++) pathBytes += fresh.path(f).length * 3;
    // Built on the old index: only folders where entries came, went or changed get new trees.
    const b = new IndexBuilder(keep.length, pathBytes, { table: old, tree: old.tree() });
    for (const item of keep) {
      if (item < 0) fresh.add(b, -1 - item);
      else b.copyBase(item);
    }
    return b.finish(datasets, trees);
  };
  return { removed, conflicts, build };
}

/** FreshEntries are the entries an add hashed, in path order: each one's path, and how it goes into a builder. */
interface FreshEntries {
  count: number;
  path(f: number): string;
  add(b: IndexBuilder, f: number): void;
}

/** replacedEntries are the old entries an add dropped or replaced (for splitReplaced). */
function replacedEntries(old: IndexTable, dropped: Uint8Array, conflicts: number[]): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (let i = 0; i < old.count; i++) if (dropped[i] !== 0 && old.kind(i) === 'chunked') out.push(old.entry(i));
  for (const i of conflicts) if (old.kind(i) === 'chunked') out.push(old.entry(i));
  return out;
}
