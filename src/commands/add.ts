import * as fs from 'node:fs';
import * as path from 'node:path';
import { NotFoundError, UsageError } from '../core/errors.js';
import { comparePaths, isUnder } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { ingestFiles } from '../objects/ingest-pool.js';
import type { IndexEntry } from '../workspace/index-file.js';
import { scanRoots, type Skipped } from '../workspace/scan.js';
import { statMatches } from '../workspace/compare.js';
import { ParentChecker } from '../workspace/parents.js';
import { ensureGitignored, gitignorePattern } from '../workspace/gitignore.js';
import { findGit } from '../git/git-repo.js';
import type { Repository } from '../repo/repository.js';
import { splitReplaced } from './cache-split.js';

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
    const byPath = new Map(index.entries.map((e) => [e.path, e]));
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
      if (!fs.existsSync(repo.abs(rel)) && !index.entries.some((e) => isUnder(e.path, rel)) && !index.datasets.some((d) => isUnder(d, rel))) {
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
    const scan = scanRoots(repo.root, roots);
    const tasks = [];
    let unchanged = 0;
    for (const f of scan.files.values()) {
      const e = byPath.get(f.path);
      if (e && statMatches(e, f, index.stampNs) && repo.store.hasFile(e.id)) unchanged++;
      else tasks.push({ abs: repo.abs(f.path), rel: f.path, size: f.size });
    }
    // Hardlink checkouts need a cache file per file: with cache.type naming hardlink, small files are not packed.
    const packSmall = !repo.settings.cacheTypes.includes('hardlink');
    const results = await ingestFiles(tasks, { lodeDir: repo.lodeDir, params: repo.settings.chunking, progress: options.progress, threads: options.threads, packSmall });
    // Small files went to new local packs, which this process's store has not seen yet.
    if (tasks.length > 0) repo.store.packs.reload();
    let added = 0;
    let modified = 0;
    let bytesHashed = 0;
    for (const [rel, r] of results) {
      const old = byPath.get(rel);
      if (!old) added++;
      else if (old.id !== r.id || old.exec !== r.exec) modified++;
      else unchanged++;
      bytesHashed += r.size;
      byPath.set(rel, { path: rel, kind: r.kind, id: r.id, size: r.size, exec: r.exec, mtimeNs: r.mtimeNs, ctimeNs: r.ctimeNs, ino: r.ino, xxh: r.xxh });
    }
    // Tracked files under the given paths that are gone from disk: stage their removal.
    let removed = 0;
    for (const e of index.entries) {
      if (roots.some((r) => isUnder(e.path, r)) && !scan.files.has(e.path)) {
        byPath.delete(e.path);
        removed++;
      }
    }
    // A file that became a directory (or the reverse) leaves a stale entry in the way.
    const entries = [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
    const clean: IndexEntry[] = [];
    for (const e of entries) {
      const prev = clean[clean.length - 1];
      if (prev && isUnder(e.path, prev.path)) {
        clean.pop();
        removed++;
      }
      clean.push(e);
    }
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
    await repo.writeIndex({ datasets, entries: clean, stampNs: 0n });
    // The versions this add replaced keep only the chunks the new ones lack.
    splitReplaced(repo, index.entries, clean);
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

