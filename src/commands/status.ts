import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { isLodeError } from '../core/errors.js';
import { diffTrees, type Change } from '../graph/diff.js';
import { TreePool } from '../graph/trees.js';
import { acquireLockNow } from '../repo/lock.js';
import type { Skipped } from '../workspace/scan.js';
import type { Repository } from '../repo/repository.js';
import { pinState, type PinState } from '../git/pin-file.js';
import { headSnapshot, withIndexTree } from '../repo/snapshot.js';
import { compareSorted, type WorkspaceComparison } from '../workspace/compare.js';
import { indexChecksum, storedTable, trackedPaths, type IndexData } from '../workspace/index-file.js';

export interface StatusOptions {
  progress?: ProgressSink;
}

export interface StatusResult {
  /** Current branch, or null when HEAD is detached. */
  branch: string | null;
  /** Commit HEAD points at, or null on an unborn branch. */
  head: ObjectId | null;
  datasets: string[];
  /** Changes staged for the next commit (HEAD -> index). */
  staged: Change[];
  /** Tracked files changed on disk but not staged. */
  unstaged: { path: string; status: 'modified' | 'deleted' }[];
  /** Files under dataset roots that are not tracked yet. */
  untracked: string[];
  /**
   * The top-most folders whose files are all untracked, each with how many
   * untracked files it holds (`untracked` still lists every file). Text
   * output shows such a folder as one line, as `git status` does.
   */
  untrackedFolders: { folder: string; files: number }[];
  /** Dataset roots missing from the workspace. */
  missingDatasets: string[];
  /** Things the scan passed over (symlinks, unsafe names). */
  skipped: Skipped[];
  clean: boolean;
  /** What the pin file (lode.lock, inside git) names, when there is one. */
  pin?: PinState;
  /** The commit a conflicted `lode merge` is bringing in, until it is committed or aborted. */
  merging?: ObjectId;
  /** During such a merge: conflicting paths not yet resolved (`lode add`/`lode rm` resolves one). */
  unresolved?: string[];
}

/**
 * status compares HEAD, the index and the workspace. It hashes nothing whose
 * stat is unchanged. When some files' stat moved but their bytes did not, it
 * refreshes the index if the repository lock is free (never waiting for it).
 */
export async function status(repo: Repository, options: StatusOptions = {}): Promise<StatusResult> {
  const index = await repo.readIndex();
  const head = headSnapshot(repo);
  // One streaming merge of the sorted walk with the index's table: no object per unchanged file.
  const ws = await compareSorted(repo.root, index, index.datasets, repo.settings.chunking);
  options.progress?.({ phase: 'scan', done: ws.scanned, finished: true });
  let staged: Change[] = [];
  if (index.tree !== head.tree) {
    const pool = new TreePool(repo.treeReader());
    staged = withIndexTree(repo, index, pool, (tree) => (tree === head.tree ? [] : diffTrees(pool, head.tree, tree)));
  }
  const c = ws.comparison;
  if (c.refreshed > 0 && refreshPays(c, index)) await refreshIndex(repo, index);
  const unstaged = [
    ...c.modified.map((f) => ({ path: f.path, status: 'modified' as const })),
    ...c.deleted.map((e) => ({ path: e.path, status: 'deleted' as const })),
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
  const h = repo.refs.head();
  const pin = pinState(repo);
  const mergeState = repo.mergeState();
  const merging = mergeState?.theirs;
  const datasetsChanged = head.kind === 'commit' && head.datasets.join('\n') !== index.datasets.join('\n');
  return {
    branch: h.kind === 'branch' ? h.name : null,
    head: head.commit ?? null,
    datasets: index.datasets,
    staged,
    unstaged,
    untracked: c.untracked.map((f) => f.path),
    untrackedFolders: c.untracked.length === 0 ? [] : untrackedFolders(c.untracked.map((f) => f.path), trackedPaths(index)),
    missingDatasets: ws.missing,
    skipped: ws.skipped,
    ...(pin ? { pin } : {}),
    ...(mergeState ? { merging, unresolved: mergeState.conflicts } : {}),
    clean: !merging && staged.length === 0 && unstaged.length === 0 && c.untracked.length === 0 && ws.missing.length === 0 && !datasetsChanged,
  };
}

/**
 * untrackedFolders finds, for each untracked file, its top-most folder that
 * holds no tracked file, and counts the untracked files in each such folder.
 * A file with no such folder (its folder holds tracked files) is in none.
 */
export function untrackedFolders(untracked: readonly string[], tracked: Iterable<string>): { folder: string; files: number }[] {
  const trackedDirs = new Set<string>(['']);
  for (const p of tracked) for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) trackedDirs.add(p.slice(0, i));
  const counts = new Map<string, number>();
  for (const p of untracked) {
    let folder: string | null = null;
    for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) {
      const d = p.slice(0, i);
      if (!trackedDirs.has(d)) {
        folder = d;
        break;
      }
    }
    if (folder !== null) counts.set(folder, (counts.get(folder) ?? 0) + 1);
  }
  return [...counts].map(([d, files]) => ({ folder: `${d}/`, files })).sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
}

/** What opening and reading one small file costs, in bytes of reading (for refreshPays). */
const FILE_COST = 16 << 10;

/**
 * refreshPays says whether rewriting the index to record refreshed stats
 * costs less than re-reading those files at each later status: a status
 * after touching one small file hashes that file and leaves a large index
 * alone (the file is hashed again next time, still cheaply); many touched
 * files, large ones, or files hashed in full (no xxh64 recorded yet) are
 * worth a rewrite. Not refreshing only costs speed: an entry whose stat
 * does not match is always re-read.
 */
export function refreshPays(c: WorkspaceComparison, index: IndexData): boolean {
  const t = storedTable(index);
  if (!t || c.refreshedFull > 0) return true;
  return c.refreshedBytes + c.refreshed * FILE_COST >= t.buf.length / 4;
}

async function refreshIndex(repo: Repository, index: Awaited<ReturnType<Repository['readIndex']>>): Promise<void> {
  let lock;
  try {
    lock = acquireLockNow(repo.lockFile, 'status', (l) => repo.notice(l));
  } catch (e) {
    if (isLodeError(e, 'LOCKED')) return; // someone else is working; refreshing is only an optimisation
    throw e;
  }
  try {
    // Only if nobody rewrote the index since we read it: compare contents, not
    // mtimes (a coarse clock gives two writes in one tick the same mtime).
    if (indexChecksum(repo.indexFile) === index.checksum) await repo.writeIndex(index);
  } finally {
    lock.release();
  }
}
