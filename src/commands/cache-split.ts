/**
 * When commands split the versions they replace (objects/split.ts): the
 * policy part, which needs the graph; the mechanism is in objects/.
 */
import type { ObjectId } from '../core/id.js';
import { readCommit } from '../graph/commits.js';
import { lookupPath, TreePool } from '../graph/trees.js';
import { retireFiles } from '../objects/split.js';
import type { Repository } from '../repo/repository.js';
import { listRemoteBranches } from '../repo/revisions.js';
import type { IndexEntry } from '../workspace/index-file.js';

/**
 * splitReplaced keeps the whole cached chunked files that left the index
 * (`before` -> `after`) as chunks instead: the version a new one replaced
 * costs only the chunks the new one lacks. With `keepTips`, a version that
 * HEAD or a branch, tag or remote-tracking tip names at its path stays whole (a checkout
 * moving between versions keeps what it will likely come back to as a
 * reflink source). It never fails its caller: a version it could not split
 * stays whole, readable all the same, and `lode gc` splits it later.
 */
export function splitReplaced(repo: Repository, before: readonly IndexEntry[], after: readonly IndexEntry[], options: { keepTips?: boolean } = {}): number {
  try {
    const now = new Set(after.map((e) => e.id));
    let gone = before.filter((e) => e.kind === 'chunked' && !now.has(e.id) && repo.store.hasWhole(e.id));
    if (gone.length === 0) return 0;
    if (options.keepTips) {
      const roots = tipTrees(repo);
      const pool = new TreePool(repo.store);
      gone = gone.filter((e) => !roots.some((root) => lookupPath(pool, root, e.path)?.id === e.id));
      if (gone.length === 0) return 0;
    }
    return retireFiles(repo.store, { split: new Set(gone.map((e) => e.id)) }).split;
  } catch {
    // Nothing a version needs was removed (retireFiles removes last); gc retries.
    return 0;
  }
}

/**
 * tipCommits are HEAD and every branch, tag and remote-tracking branch tip
 * (what a fetch brought for a later merge is as new as a local branch), in
 * that order.
 */
export function tipCommits(repo: Repository): ObjectId[] {
  const head = repo.refs.headCommit();
  const commits = new Set(head ? [head] : []);
  for (const r of [...repo.refs.list('heads'), ...repo.refs.list('tags'), ...listRemoteBranches(repo)]) commits.add(r.id);
  return [...commits];
}

/** tipTrees are the root trees of the tip commits the store holds. */
function tipTrees(repo: Repository): ObjectId[] {
  const commits = tipCommits(repo);
  const out: ObjectId[] = [];
  for (const id of commits) {
    try {
      out.push(readCommit(repo.store, id).tree);
    } catch {
      // a tip the store lacks names nothing here
    }
  }
  return out;
}
