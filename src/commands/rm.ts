import * as fs from 'node:fs';
import { ConflictError, NotFoundError, UsageError } from '../core/errors.js';
import { isUnder, parentPath } from '../core/paths.js';
import { rmQuiet } from '../storage/atomic.js';
import type { Repository } from '../repo/repository.js';
import { workspaceState } from './snapshot.js';

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
  /** Whether the files were also deleted from the workspace. */
  deletedFromDisk: boolean;
  datasets: string[];
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
    for (let k = 0; k < targets.length; k++) {
      if (!index.entries.some((e) => isUnder(e.path, targets[k]))) {
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
    // A dataset root that was removed (or lies under a removed path) is no longer tracked.
    const datasets = index.datasets.filter((d) => !hit(d) && entries.some((e) => isUnder(e.path, d)));
    await repo.writeIndex({ datasets, entries, stampNs: 0n });
    if (!options.cached) {
      const dirs = new Set<string>();
      for (const p of removed) {
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
    return { removed, deletedFromDisk: !options.cached, datasets };
  });
}
