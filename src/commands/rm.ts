import * as fs from 'node:fs';
import { ConflictError, NotFoundError, UsageError } from '../core/errors.js';
import { isUnder, parentPath } from '../core/paths.js';
import { resolveConflictsUnder } from './add.js';
import { rmQuiet } from '../storage/atomic.js';
import { ParentChecker } from '../workspace/parents.js';
import type { Repository } from '../repo/repository.js';
import { workspaceState } from '../repo/snapshot.js';

export interface RmOptions {
  paths: string[];
  cwd?: string;
  /** Stop tracking but keep the files on disk. */
  cached?: boolean;
  /** Delete even files with changes that were never added. */
  force?: boolean;
}

export interface RmResult {
  removed: string[];
  /** During a conflicted merge: conflicting paths this rm marked resolved. */
  resolved?: string[];
  /** Whether the files were also deleted from the workspace. */
  deletedFromDisk: boolean;
  datasets: string[];
  /** Paths untracked but left on disk, and why (a directory now, under a symbolic link). */
  notDeleted: { path: string; reason: string }[];
}

/**
 * rm stops tracking files (and, without `cached`, deletes them from disk).
 * Refuses to delete a file whose changes were never added, since that
 * content exists nowhere else, unless `force`.
 */
export async function rm(repo: Repository, options: RmOptions): Promise<RmResult> {
  if (options.paths.length === 0) throw new UsageError('nothing to remove: give one or more paths');
  return repo.withLock('rm', async () => {
    const index = await repo.readIndex();
    const targets = options.paths.map((p) => repo.toRepoPath(p, options.cwd));
    const unresolved = repo.mergeState()?.conflicts ?? [];
    for (let k = 0; k < targets.length; k++) {
      // A dataset root with no files (an empty directory) is tracked too.
      if (!index.entries.some((e) => isUnder(e.path, targets[k])) && !index.datasets.some((d) => isUnder(d, targets[k]))) {
        // A conflicting path already absent: removing it means resolving the conflict as deleted.
        if (unresolved.some((c) => isUnder(c, targets[k]))) continue;
        throw new NotFoundError(`${options.paths[k]} is not tracked`, { hint: '`lode status` lists tracked datasets' });
      }
    }
    const hit = (p: string) => targets.some((t) => isUnder(p, t));
    const removed = index.entries.filter((e) => hit(e.path)).map((e) => e.path);
    if (!options.cached && !options.force) {
      const ws = await workspaceState(repo, index, targets, { hash: false });
      const unsaved = ws.comparison.modified.map((f) => f.path);
      if (unsaved.length > 0) {
        throw new ConflictError(`these files have changes that were never added: ${unsaved.slice(0, 10).join(', ')}`, unsaved, 'add them first, use --cached to keep the files, or --force to delete them anyway');
      }
    }
    const entries = index.entries.filter((e) => !hit(e.path));
    // A dataset root that was removed (or lies under a removed path) is no
    // longer tracked; so is one whose last files were removed here.
    const datasets = index.datasets.filter(
      (d) => !hit(d) && !(removed.some((p) => isUnder(p, d)) && !entries.some((e) => isUnder(e.path, d))),
    );
    // Decide what to delete before anything changes: only regular files, and
    // never through a symbolic link above them (it may point outside).
    const toDelete: string[] = [];
    const notDeleted: { path: string; reason: string }[] = [];
    if (!options.cached) {
      const parents = new ParentChecker(repo.root);
      for (const p of removed) {
        const up = parents.blocker(p);
        if (up) {
          notDeleted.push({ path: p, reason: `${up.dir} is a ${up.kind === 'link' ? 'symbolic link' : 'file'}` });
          continue;
        }
        let st: fs.Stats | undefined;
        try {
          st = fs.lstatSync(repo.abs(p), { throwIfNoEntry: false });
        } catch {
          st = undefined;
        }
        if (!st) continue;
        if (st.isFile()) toDelete.push(p);
        else notDeleted.push({ path: p, reason: st.isDirectory() ? 'now a directory' : 'not a regular file' });
      }
    }
    // Files go first, the index last: a kill in between leaves files the index
    // still tracks as deleted (`status` shows them, a re-run of rm finishes),
    // never untracked files nothing lists. Their content is in the cache: the
    // check above refused unsaved changes.
    if (!options.cached) {
      const dirs = new Set<string>();
      for (const p of toDelete) {
        rmQuiet(repo.abs(p));
        for (let d = parentPath(p); d !== ''; d = parentPath(d)) dirs.add(d);
      }
      for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
        try {
          fs.rmdirSync(repo.abs(d));
        } catch {
          // still holds other files
        }
      }
    }
    await repo.writeIndex({ datasets, entries, stampNs: 0n });
    const resolved = resolveConflictsUnder(repo, targets);
    return { removed, deletedFromDisk: !options.cached, datasets, notDeleted, ...(resolved.length ? { resolved } : {}) };
  });
}
