/**
 * When commands split the versions they replace (objects/split.ts): the
 * policy part, which needs the graph; the mechanism is in objects/.
 */
import type { ObjectId } from '../core/id.js';
import { readCommit } from '../graph/commits.js';
import { lookupPath, TreePool, walkFiles } from '../graph/trees.js';
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
export function splitReplaced(repo: Repository, before: readonly IndexEntry[], after: Iterable<{ id: ObjectId }>, options: { keepTips?: boolean } = {}): number {
  try {
    // The IDs still named are gathered only when some whole chunked version is a candidate (rare with small files).
    let gone = before.filter((e) => e.kind === 'chunked' && repo.store.hasWhole(e.id));
    if (gone.length === 0) return 0;
    const now = new Set<ObjectId>();
    for (const e of after) now.add(e.id);
    gone = gone.filter((e) => !now.has(e.id));
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

/** newestFiles are the file versions the index, HEAD and every branch, tag and remote-tracking tip name: gc keeps them whole (checkout reflinks them). */
export async function newestFiles(repo: Repository): Promise<Set<ObjectId>> {
  // In order of preference (the index, HEAD, branches, tags, remote-tracking): gc's `promote` tries them so.
  const out = new Set<ObjectId>((await repo.readIndex()).entries.map((e) => e.id));
  const trees = new TreePool(repo.store);
  for (const id of tipCommits(repo)) {
    if (!repo.store.hasObject(id)) continue;
    try {
      for (const f of walkFiles(trees, readCommit(repo.store, id).tree)) out.add(f.id);
    } catch {
      // a damaged tip: liveSets refused it already
    }
  }
  return out;
}

/**
 * splitOlder splits every whole cached chunked file that is not among the
 * newest (newestFiles): what `clone --all` and `fetch --all` call after
 * bringing every version, so older versions cost their distinct chunks, as
 * they would after `lode gc`. Like splitReplaced it never fails its caller.
 */
export async function splitOlder(repo: Repository): Promise<number> {
  try {
    const newest = await newestFiles(repo);
    const split = new Set<ObjectId>();
    for (const id of repo.store.listIds('cache')) {
      if (!newest.has(id) && repo.store.hasObject(id) && repo.store.hasWhole(id)) split.add(id);
    }
    if (split.size === 0) return 0;
    return retireFiles(repo.store, { split, promote: newest }).split;
  } catch {
    return 0;
  }
}
