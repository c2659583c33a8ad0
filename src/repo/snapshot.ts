/**
 * Snapshots the commands compare: a commit's tree, the index, or the
 * workspace as it is on disk, each turned into a Merkle tree so one diff
 * routine serves every pair. The index's trees are the ones kept with it
 * (writeIndex keeps them), or else built in memory as the workspace's are;
 * nothing is written to the store here.
 */
import type { ObjectId } from '../core/id.js';
import { comparePaths } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { CorruptObjectError, LodeError, NotFoundError, UsageError } from '../core/errors.js';
import { buildTrees, EMPTY_TREE, type BuiltTrees, type FileEntry, type TreePool } from '../graph/trees.js';
import { resolveRevision } from '../graph/commits.js';
import { treeLinks } from '../core/encoding.js';
import { childrenFirst } from '../graph/order.js';
import { storedTable, type IndexData } from '../workspace/index-file.js';
import { scanRoots, type ScanResult } from '../workspace/scan.js';
import { compareWorkspace, type WorkspaceComparison } from '../workspace/compare.js';
import type { Repository } from './repository.js';

/** Revision names for the two snapshots that are not commits. */
export const WORKSPACE_REV = ':workspace';
export const INDEX_REV = ':index';

/** Snapshot is one side of a comparison. */
export interface Snapshot {
  /** What the user asked for (e.g. "HEAD~1", ":workspace"). */
  label: string;
  kind: 'commit' | 'index' | 'workspace' | 'empty';
  /** Root tree ID. */
  tree: ObjectId;
  commit?: ObjectId;
  datasets: string[];
}

/**
 * indexFiles yields the index entries as tree file entries, in order. From
 * an index read from disk they are made one at a time from its table (a
 * tree build of millions of entries keeps none of them).
 */
export function* indexFiles(index: IndexData): Generator<FileEntry> {
  const t = storedTable(index);
  if (!t) {
    for (const e of index.entries) yield { path: e.path, kind: e.kind, id: e.id, size: e.size, exec: e.exec };
    return;
  }
  const c = t.cursor();
  for (let i = 0; i < t.count; i++) {
    c.next();
    yield { path: c.path(), kind: t.kind(i), id: t.id(i), size: t.size(i), exec: t.exec(i) };
  }
}

/** WorkspaceState is the workspace compared with the index, with content IDs for everything on disk. */
export interface WorkspaceState {
  scan: ScanResult;
  comparison: WorkspaceComparison;
  /** With `hash`: every tracked or new file as it is on disk, sorted by path (else empty). */
  files: FileEntry[];
}

/**
 * workspaceState scans the dataset roots and, when `hash` is set, hashes
 * modified and untracked files (without storing them) so the workspace can
 * be diffed like any tree.
 */
export async function workspaceState(repo: Repository, index: IndexData, roots: readonly string[], options: { hash: boolean; progress?: ProgressSink }): Promise<WorkspaceState> {
  const scan = scanRoots(repo.root, roots);
  options.progress?.({ phase: 'scan', done: scan.files.size, finished: true });
  const comparison = await compareWorkspace(repo.root, index, scan, roots, repo.settings.chunking);
  const files = new Map<string, FileEntry>();
  if (options.hash) {
    const deleted = new Set(comparison.deleted.map((e) => e.path));
    for (const e of index.entries) if (!deleted.has(e.path)) files.set(e.path, { path: e.path, kind: e.kind, id: e.id, size: e.size, exec: e.exec });
    const todo = [...comparison.modified, ...comparison.untracked];
    // Loaded here, not at the top: `status` (no hashing) must not pay for worker threads.
    const { ingestFiles } = await import('../objects/ingest-pool.js');
    const hashed = await ingestFiles(
      todo.map((f) => ({ abs: repo.abs(f.path), rel: f.path, size: f.size })),
      { lodeDir: undefined, params: repo.settings.chunking, progress: options.progress },
    );
    for (let i = 0; i < todo.length; i++) {
      const f = todo[i];
      const r = hashed.get(i)!;
      files.set(f.path, { path: f.path, kind: r.kind, id: r.id, size: r.size, exec: r.exec });
    }
  }
  return { scan, comparison, files: [...files.values()].sort((a, b) => comparePaths(a.path, b.path)) };
}

/** datasetsOfIndex returns the roots scanned for the workspace: the index's datasets. */
export function trackedRoots(index: IndexData): string[] {
  return index.datasets;
}

/**
 * resolveSnapshot turns a revision (or :workspace / :index) into a snapshot,
 * registering any in-memory trees with `pool`.
 */
export async function resolveSnapshot(repo: Repository, rev: string, pool: TreePool, ctx: { index: IndexData; progress?: ProgressSink }): Promise<Snapshot> {
  if (rev === WORKSPACE_REV) {
    const ws = await workspaceState(repo, ctx.index, trackedRoots(ctx.index), { hash: true, progress: ctx.progress });
    const built = buildTrees(ws.files);
    pool.addBuilt(built.objects);
    return { label: rev, kind: 'workspace', tree: built.root, datasets: ctx.index.datasets };
  }
  if (rev === INDEX_REV) {
    // An index whose recorded tree is HEAD's: HEAD's stored trees are the index's (nothing staged), and no entry need be read.
    if (ctx.index.tree !== undefined && ctx.index.tree === headSnapshot(repo).tree && repo.refs.headCommit()) {
      return { label: rev, kind: 'index', tree: ctx.index.tree, datasets: ctx.index.datasets };
    }
    // The trees kept with the index (IndexTrees), when every one below its root is there and sound.
    const kept = ctx.index.tree !== undefined ? stagedTrees(repo, ctx.index.tree, { keptFirst: true, fault: 'give-up' }) : undefined;
    if (kept) {
      pool.addBuilt(kept);
      return { label: rev, kind: 'index', tree: ctx.index.tree!, datasets: ctx.index.datasets };
    }
    const built = buildTrees(indexFiles(ctx.index));
    pool.addBuilt(built.objects);
    return { label: rev, kind: 'index', tree: built.root, datasets: ctx.index.datasets };
  }
  if (rev.startsWith(':')) throw new UsageError(`unknown special revision ${rev}`, { hint: 'the special revisions are :workspace and :index' });
  // Loaded here: resolving a revision may fetch, and `status` must not load the sync layer for that.
  const { resolveRev } = await import('./revisions.js');
  const r = await resolveRev(repo, rev);
  return { label: rev, kind: 'commit', tree: r.commit.tree, commit: r.id, datasets: r.commit.datasets };
}

/**
 * withIndexTree calls `use` with the root tree of the index's entries: the
 * one its header names, as writeIndex kept it (`pool` reads it through
 * repo.treeReader(), or over objects/ once `use` has moved it there with
 * promoteStaged). When
 * that tree is not stored, or reading it through `pool` finds an object
 * missing or damaged, `use` runs again on trees built from every entry
 * (registered with `pool`, and given as `built` for a caller that stores
 * them). `use` must not have changed anything before it read the trees.
 */
export function withIndexTree<T>(repo: Repository, index: IndexData, pool: TreePool, use: (tree: ObjectId, built?: BuiltTrees) => T): T {
  const named = index.tree;
  if (named !== undefined && named !== EMPTY_TREE && (repo.store.hasObject(named) || repo.store.hasStaged(named))) {
    try {
      return use(named);
    } catch (e) {
      if (!(e instanceof NotFoundError || e instanceof CorruptObjectError)) throw e;
    }
  }
  const built = buildTrees(indexFiles(index));
  pool.addBuilt(built.objects);
  return use(built.root, built);
}

/**
 * What stagedTrees does with a staged tree it cannot read (missing, or its
 * bytes not matching its ID): give up (undefined), throw the error, or skip
 * it and what lies below it.
 */
export type StagedFault = 'give-up' | 'throw' | 'skip';

/**
 * stagedTrees reads the staged trees under `root`, each checked against its
 * ID, down to the trees objects/ holds: a tree there should have every tree
 * below it there too (objects are stored children first and deleted parents
 * first: graph/order.ts), but an older lode or a damaged store can break
 * that, so readers below these trees go through repo.treeReader() (objects/,
 * then the kept trees), and commit counts on objects/ alone. With
 * `keptFirst` a kept copy is read even where objects/ has one, and only
 * below it is objects/ trusted. The map's order puts every tree after all
 * the trees it names (a folder named twice included).
 *   - diff's :index snapshot: keptFirst, 'give-up' (then it builds them);
 *   - commit (promoteStaged): 'throw' (withIndexTree then builds them);
 *   - gc (pruneStaged): 'skip' (a damaged one goes).
 */
export function stagedTrees(repo: Repository, root: ObjectId, how: { keptFirst?: boolean; fault: StagedFault }): Map<ObjectId, Buffer> | undefined {
  const found = new Map<ObjectId, Buffer>();
  const names = new Map<ObjectId, ObjectId[]>();
  const stack = [root];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === EMPTY_TREE || found.has(id)) continue;
    if (!(how.keptFirst && repo.store.hasStaged(id)) && repo.store.hasObject(id)) continue;
    let bytes: Buffer;
    let links: ReturnType<typeof treeLinks>;
    try {
      bytes = repo.store.getStaged(id, 'tree');
      links = treeLinks(bytes, id);
    } catch (e) {
      if (!(e instanceof LodeError) || how.fault === 'throw') throw e;
      if (how.fault === 'give-up') return undefined;
      continue;
    }
    const below = [...links.shards];
    for (const e of links.entries) if (e.kind === 'tree') below.push(e.id);
    found.set(id, bytes);
    names.set(id, below);
    stack.push(...below);
  }
  const out = new Map<ObjectId, Buffer>();
  for (const id of childrenFirst([root], names)) out.set(id, found.get(id)!);
  return out;
}

/**
 * promoteStaged moves the staged trees under `root` that objects/ lacks into
 * objects/, each after the trees it names, so a tree in objects/ never
 * lacks one below it (even if the process dies halfway). For a commit of
 * the index's tree; NotFoundError or CorruptObjectError when a staged tree
 * is gone or damaged.
 */
export function promoteStaged(repo: Repository, root: ObjectId): void {
  for (const bytes of stagedTrees(repo, root, { fault: 'throw' })!.values()) repo.store.putObject(bytes);
}

/** headSnapshot is HEAD's commit, or the empty tree on an unborn branch. */
export function headSnapshot(repo: Repository): Snapshot {
  const id = repo.refs.headCommit();
  if (!id) return { label: 'HEAD', kind: 'empty', tree: EMPTY_TREE, datasets: [] };
  const r = resolveRevision(repo.store, repo.refs, 'HEAD');
  return { label: 'HEAD', kind: 'commit', tree: r.commit.tree, commit: r.id, datasets: r.commit.datasets };
}
