import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConflictError, LodeError, MissingContentError, NOT_FETCHED_HINT, RefConflictError, UnknownRevisionError, UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { comparePaths, isUnder, parentPath } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { resolveRevision, type ResolvedRevision } from '../graph/commits.js';
import { resolveRev } from '../repo/revisions.js';
import { writePin } from '../git/pin-file.js';
import { validateRefName } from '../graph/refs.js';
import { buildTrees, EMPTY_TREE, filesUnder, walkFiles, TreePool, type FileEntry } from '../graph/trees.js';
import { Ingester } from '../objects/ingest.js';
import { loadXxhash } from '../core/checksum.js';
import { errnoCode, rmQuiet } from '../storage/atomic.js';
import type { IndexEntry } from '../workspace/index-file.js';
import { Linker, type LinkType, type Prepared } from '../workspace/link.js';
import type { MadeStat } from '../workspace/small-writer.js';
import { placeSmallFiles } from '../workspace/place-small.js';
import { LocalStore } from '../objects/store.js';
import { ParentChecker } from '../workspace/parents.js';
import { fetchCommitData } from '../sync/open.js';
import { splitReplaced } from './cache-split.js';
import type { Repository } from '../repo/repository.js';
import { indexFiles, workspaceState } from '../repo/snapshot.js';
import { diffTrees } from '../graph/diff.js';
import { compareWorkspace, type WorkspaceComparison } from '../workspace/compare.js';
import type { ScanResult, WorkFile } from '../workspace/scan.js';

/** CheckoutOptions are what a user chooses in `lode checkout` (the public API). */
export interface CheckoutOptions {
  /** Revision to check out; default HEAD (restore the workspace). */
  rev?: string;
  /** Restrict to these paths: restore them from `rev` without moving HEAD. */
  paths?: string[];
  /** Directory `paths` are relative to (default: the process's). */
  cwd?: string;
  /** Overwrite uncommitted changes in the way. */
  force?: boolean;
  /** Create this branch at `rev` (default HEAD) and switch to it. */
  createBranch?: string;
  progress?: ProgressSink;
}

/**
 * SwitchOptions drive the switch engine: a checkout's options plus the knobs
 * that merge, pull, clone and the restore of a pin need. Internal: not part
 * of the library API.
 */
export interface SwitchOptions extends CheckoutOptions {
  /**
   * With `rev`: after switching to it, point this branch at it (it must still
   * be where HEAD was) and put HEAD on the branch: a fast-forward, as pull does.
   */
  advanceBranch?: string;
  /** With `advanceBranch`: where the branch must be now (default: HEAD's commit). */
  advanceFrom?: ObjectId | null;
  /**
   * Make the workspace and index match `rev` but leave HEAD where it is (a
   * merge waiting for its commit stages the merged files this way).
   */
  keepHead?: boolean;
  /** Rewrite the pin file when HEAD moves (default true; a restore from the pin leaves it alone). */
  writePin?: boolean;
  /**
   * Switch as if the workspace and index held this commit's tree rather than
   * HEAD's (an aborted merge goes from the staged merge back to HEAD).
   */
  switchFrom?: ObjectId;
  /** Set by `lode merge` itself: a checkout that is part of a merge in progress. */
  duringMerge?: boolean;
  /**
   * Create absent files in place rather than under a temporary name renamed
   * over them (clone: a new workspace, and an interrupted clone resumes with
   * `force`). A file killed half-written is then an untracked file.
   */
  inPlace?: boolean;
  /**
   * Workspace copies the fetch before this checkout already wrote (clone:
   * sync/fetch.ts `twins`), renamed into place instead of copied from the
   * cache. Those used are taken out of the map; the caller removes the rest.
   */
  premade?: Map<ObjectId, string>;
  /** Runs after the files, index and HEAD are written, still holding the repository lock. */
  beforeUnlock?: () => void;
}

export interface CheckoutResult {
  commit: ObjectId | null;
  /** Branch HEAD is on afterwards, or null when detached. */
  branch: string | null;
  /** Whether HEAD moved. */
  moved: boolean;
  written: number;
  removed: number;
  unchanged: number;
  /** Files placed by each method. */
  methods: Record<LinkType, number>;
  /**
   * Whether this checkout rewrote the pin file (`lode.lock`, inside git) to
   * name the new HEAD: git then sees it modified until it is committed.
   */
  pinWritten: boolean;
  /** The pin file rewritten for the new HEAD, when inside git. */
  pinFile?: string;
}

type WsState = 'clean' | 'modified' | 'deleted' | 'untracked' | 'absent';

/**
 * checkoutFetching is checkout that, when the cache lacks files of the target
 * (a commit pushed from another machine, a partial pull) and a default remote
 * is set, fetches the target's data from it and tries once more. Nothing in
 * the workspace changes before the retry.
 */
export async function checkoutFetching(repo: Repository, options: CheckoutOptions = {}): Promise<CheckoutResult & { fetched?: boolean }> {
  const { rev, paths, cwd, force, createBranch, progress } = options;
  return switchFetching(repo, { rev, paths, cwd, force, createBranch, progress });
}

/**
 * switchFetching is the switch engine that, when the cache lacks files of the target
 * (a commit pinned or pushed from another machine, a partial pull) and a
 * default remote is set, fetches the data of commit `dataOf` (default: the
 * target revision) from it and tries once more. Nothing in the workspace
 * changes before the retry: checkout checks every cache file before touching it.
 */
export async function switchFetching(repo: Repository, options: SwitchOptions = {}, dataOf?: ObjectId): Promise<CheckoutResult & { fetched?: boolean }> {
  try {
    return await switchTo(repo, options);
  } catch (e) {
    if (!(e instanceof MissingContentError)) throw e;
    // No revision: restoring paths from what is checked out (HEAD's data, perhaps dropped by `gc --pushed`).
    const id = dataOf ?? (options.rev !== undefined ? (await resolveRev(repo, options.rev)).id : repo.refs.headCommit());
    if (!repo.config.defaultRemote()) {
      // Data not fetched is the common case (a partial clone): say how to fetch it, never blame gc.
      const rev = options.rev && !/^[0-9a-f]{64}$/.test(options.rev) ? options.rev : id ? id.slice(0, 12) : 'REV';
      throw new MissingContentError(e.message, { hint: `\`lode fetch REMOTE ${rev}\` brings it (no default remote is set: \`lode remote add NAME URL\` first if none is); \`lode fsck\` tells content not fetched yet from content lost`, cause: e });
    }
    if (!id) throw e;
    try {
      await fetchCommitData(repo, id, options.progress);
    } catch (f) {
      // Say first what is wrong with the workspace (data not fetched), then why fetching it failed.
      if (!(f instanceof LodeError) || f instanceof MissingContentError || f.code === 'CORRUPT') throw f;
      throw new MissingContentError(`${e.message}, and fetching it from remote ${repo.config.defaultRemote()} failed: ${f.message}`, {
        hint: `${f.hint ? `${f.hint}; then ` : ''}check out again (or \`lode fetch ${repo.config.defaultRemote()} ${id.slice(0, 12)}\` once the remote is reachable)`,
        cause: f,
      });
    }
    return { ...(await switchTo(repo, options)), fetched: true };
  }
}

/**
 * checkout makes the workspace match a revision. Without paths it switches
 * HEAD (to the branch, or detached to a commit or tag), removing tracked files
 * the target lacks and keeping local changes to files the switch does not
 * touch. With paths it restores just those from the revision. It refuses,
 * before changing anything, when uncommitted work would be overwritten,
 * unless `force`. The index is written after the files, HEAD last.
 */
export async function checkout(repo: Repository, options: CheckoutOptions = {}): Promise<CheckoutResult> {
  // Only the public options reach the engine: its knobs belong to merge, pull and clone.
  const { rev, paths, cwd, force, createBranch, progress } = options;
  return switchTo(repo, { rev, paths, cwd, force, createBranch, progress });
}

/**
 * switchTo is the engine under checkout, merge, pull and clone: checkout's
 * contract, plus the knobs of SwitchOptions (fast-forward a branch, keep
 * HEAD, switch from another tree, leave the pin file alone).
 */
export async function switchTo(repo: Repository, options: SwitchOptions = {}): Promise<CheckoutResult> {
  return repo.withLock('checkout', async () => {
    const pathMode = (options.paths?.length ?? 0) > 0;
    if (pathMode && options.createBranch) throw new UsageError('-b cannot be combined with paths');
    const merging = repo.mergeState();
    if (merging && !pathMode && !options.duringMerge) {
      throw new ConflictError(`a merge of ${merging.theirs.slice(0, 12)} is in progress`, [], 'finish it (`lode add` the resolved files, `lode commit`), or `lode merge --abort`; `lode checkout REV -- PATH` still works');
    }
    const headId = repo.refs.headCommit();
    // `checkout -- PATHS` without a revision restores what is staged (as git
    // does): unstaged edits are discarded, staged ones kept.
    const fromIndex = pathMode && options.rev === undefined;
    const revText = options.rev ?? (fromIndex ? ':index' : 'HEAD');
    if (!headId && revText === 'HEAD' && !options.createBranch) {
      throw new UnknownRevisionError('HEAD', { hint: 'there are no commits yet: `lode add` and `lode commit` first' });
    }
    let target: ResolvedRevision | undefined = fromIndex || (revText === 'HEAD' && !headId) ? undefined : await resolveRev(repo, revText);
    if (options.createBranch) {
      validateRefName(options.createBranch, 'branch');
      if (repo.refs.get('heads', options.createBranch)) throw new RefConflictError(`branch ${options.createBranch} already exists`, { hint: `switch to it with \`lode checkout ${options.createBranch}\`, or pick another name` });
    }
    const pool = new TreePool(repo.store);
    const index = await repo.readIndex();
    const headTree = options.switchFrom
      ? resolveRevision(repo.store, repo.refs, options.switchFrom).commit.tree
      : headId
        ? resolveRevision(repo.store, repo.refs, 'HEAD').commit.tree
        : EMPTY_TREE;
    let targetTree = target?.commit.tree ?? EMPTY_TREE;
    let targetDatasets = target?.commit.datasets ?? [];
    if (fromIndex) {
      const built = buildTrees(indexFiles(index));
      pool.addBuilt(built.objects);
      targetTree = built.root;
      targetDatasets = index.datasets;
    }

    // `lode checkout HEAD` restores, like no revision at all; anything else switches.
    // `-b NAME` switches too (carrying local changes over, like git).
    const switching = !pathMode && (options.createBranch !== undefined || (options.rev !== undefined && options.rev !== 'HEAD'));
    // A switch looks only at what differs between HEAD and the target; a
    // forced one (`checkout -f BRANCH`, as git's) also throws local changes
    // away and brings deleted files back, so it looks at every tracked path.
    const onlyChanged = switching && !options.force;

    const tFiles = new Map<string, FileEntry>();
    const hFiles = new Map<string, FileEntry>();
    const iFiles = new Map<string, IndexEntry>();
    let scope: string[];
    let inScope: (p: string) => boolean;
    let ws: { scan: ScanResult; comparison: WorkspaceComparison };
    if (onlyChanged) {
      // A switch can only change paths that differ between HEAD and the
      // target: look at those alone, so its cost follows the size of the
      // change. Local changes anywhere else are carried over untouched.
      const changed = new Set<string>();
      for (const c of diffTrees(pool, headTree, targetTree, { renames: false })) {
        changed.add(c.path);
        if (c.new) tFiles.set(c.path, { path: c.path, ...c.new });
        if (c.old) hFiles.set(c.path, { path: c.path, ...c.old });
      }
      scope = [...changed];
      inScope = (p) => changed.has(p);
      for (const e of index.entries) if (changed.has(e.path)) iFiles.set(e.path, e);
      const files = new Map<string, WorkFile>();
      // Below a directory that does not exist nothing is on disk: a clone's switch looks at no file.
      const above = new ParentChecker(repo.root);
      for (const p of changed) {
        if (above.absentAbove(p)) continue;
        let st: fs.Stats | undefined;
        try {
          st = fs.lstatSync(repo.abs(p), { throwIfNoEntry: false });
        } catch (e) {
          if (errnoCode(e) !== 'ENOTDIR') throw e;
        }
        if (st?.isFile()) files.set(p, { path: p, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, exec: (st.mode & 0o111) !== 0 });
      }
      const scan: ScanResult = { files, skipped: [], missing: [] };
      const comparison = await compareWorkspace(repo.root, { ...index, entries: [...iFiles.values()] }, scan, [''], repo.settings.chunking);
      ws = { scan, comparison };
    } else {
      // Scope: which repo paths this checkout may touch.
      if (pathMode) scope = options.paths!.map((p) => repo.toRepoPath(p, options.cwd));
      else scope = unionRoots([...index.datasets, ...targetDatasets]);
      const roots = scope;
      inScope = (p) => roots.some((r) => isUnder(p, r));
      if (pathMode) {
        for (const f of filesUnder(pool, targetTree, scope, revText)) tFiles.set(f.path, f);
      } else {
        for (const f of walkFiles(pool, targetTree)) tFiles.set(f.path, f);
      }
      if (headTree === targetTree && !pathMode) for (const [p, f] of tFiles) hFiles.set(p, f);
      else for (const f of walkFiles(pool, headTree)) if (inScope(f.path)) hFiles.set(f.path, f);
      for (const e of index.entries) if (inScope(e.path)) iFiles.set(e.path, e);
      ws = await workspaceState(repo, index, scope, { hash: false });
    }
    const wsState = new Map<string, WsState>();
    for (const f of ws.comparison.modified) wsState.set(f.path, 'modified');
    for (const e of ws.comparison.deleted) wsState.set(e.path, 'deleted');
    for (const f of ws.comparison.untracked) wsState.set(f.path, 'untracked');
    const stateOf = (p: string): WsState => wsState.get(p) ?? (iFiles.has(p) ? 'clean' : 'absent');

    const same = (a: { id: ObjectId; exec: boolean } | undefined, b: { id: ObjectId; exec: boolean } | undefined) =>
      a === b || (a !== undefined && b !== undefined && a.id === b.id && a.exec === b.exec);

    // Files on disk that may already hold the target content: hash them (not store) before calling them a conflict.
    await loadXxhash();
    const hasher = new Ingester(repo.settings.chunking, undefined);
    const diskMatches = (p: string, t: FileEntry): IndexEntry | undefined => {
      const f = ws.scan.files.get(p);
      if (!f || f.size !== t.size) return undefined;
      try {
        const r = hasher.ingest(repo.abs(p), p);
        if (r.id !== t.id || r.exec !== t.exec) return undefined;
        return { path: p, kind: r.kind, id: r.id, size: r.size, exec: r.exec, mtimeNs: r.mtimeNs, ctimeNs: r.ctimeNs, ino: r.ino, xxh: r.xxh };
      } catch {
        return undefined;
      }
    };

    let adoptedAny = false;
    const writes: FileEntry[] = [];
    const removes: string[] = [];
    const keep: IndexEntry[] = [];
    const conflicts: string[] = [];
    let unchanged = 0;
    const all = new Set<string>([...tFiles.keys(), ...iFiles.keys(), ...ws.comparison.untracked.map((f) => f.path)]);
    for (const p of [...all].sort(comparePaths)) {
      const t = tFiles.get(p);
      const i = iFiles.get(p);
      const h = hFiles.get(p);
      const st = stateOf(p);
      // Restoring from the index puts staged content back: nothing staged is at risk.
      const staged = !fromIndex && !same(i, h);
      if (onlyChanged && same(h, t) && (st !== 'clean' || staged)) {
        // The switch does not change this path: carry the local change over.
        if (i) keep.push(i);
        continue;
      }
      if (t) {
        if (st === 'clean' && same(i, t)) {
          keep.push(i!);
          unchanged++;
          continue;
        }
        if (st === 'modified' || st === 'untracked') {
          // The bytes on disk may already be the target's: then there is nothing to overwrite.
          const adopted = diskMatches(p, t);
          if (adopted) {
            keep.push(adopted);
            adoptedAny = true;
            unchanged++;
            continue;
          }
        }
        if (st === 'modified' || st === 'untracked' || (staged && st !== 'absent')) conflicts.push(p);
        else if (staged && !same(i, t)) conflicts.push(p);
        writes.push(t);
      } else if (st === 'clean' || st === 'modified') {
        if (st === 'modified' || staged) conflicts.push(p);
        removes.push(p);
      } else if (st === 'deleted' && staged) {
        conflicts.push(p);
      }
      // untracked and not in the target: not ours, leave it.
    }
    // Something that is not a tracked file standing where a target file must
    // go, or a symbolic link above a path we would write or delete: lode never
    // writes or deletes through a link (it could point outside the workspace).
    const removing = new Set(removes);
    const parents = new ParentChecker(repo.root);
    const blocked = new Set<string>();
    const links: string[] = [];
    for (const t of writes) {
      const up = parents.blocker(t.path);
      if (up && !(up.kind === 'file' && removing.has(up.dir))) {
        conflicts.push(up.dir);
        blocked.add(t.path);
        if (up.kind === 'link') links.push(up.dir);
        continue;
      }
      // Below a directory that does not exist, nothing can stand in the way.
      if (!ws.scan.files.has(t.path) && !parents.absentAbove(t.path)) {
        let st: fs.Stats | undefined;
        try {
          st = fs.lstatSync(repo.abs(t.path), { throwIfNoEntry: false });
        } catch (e) {
          if (errnoCode(e) !== 'ENOTDIR') throw e;
        }
        if (st?.isSymbolicLink() || (st?.isDirectory() && !holdsOnlyRemoved(repo.abs(t.path), t.path, removing))) {
          conflicts.push(t.path);
          blocked.add(t.path);
        }
      }
    }
    for (let k = removes.length - 1; k >= 0; k--) {
      const up = parents.blocker(removes[k]);
      if (up) {
        // Never delete through a link; the file is simply not ours to remove.
        if (up.kind === 'link') links.push(up.dir);
        removes.splice(k, 1);
      }
    }
    if (conflicts.length > 0 && !options.force) {
      const unique = [...new Set(conflicts)];
      const shown = unique.slice(0, 10).join(', ') + (unique.length > 10 ? ` and ${unique.length - 10} more` : '');
      const why = links.length > 0 ? ` (${[...new Set(links)].join(', ')}: symbolic link, lode does not write through links)` : '';
      throw new ConflictError(`checkout would overwrite uncommitted changes: ${shown}${why}`, unique, 'commit them first (`lode add` + `lode commit`), or pass --force to discard them');
    }

    // Three phases so that a missing or corrupt cache file stops the checkout
    // before the workspace changes: (1) make every target file under a temp
    // name beside its destination, verifying copies; (2) remove what the target
    // lacks; (3) rename the prepared files into place. Files whose directory
    // cannot exist until a removal (a file standing where the directory goes)
    // are placed after the removals.
    let done = 0;
    let bytes = 0;
    // Bytes copied of the file being written: a big file reports as it goes, not only once placed.
    let partial = 0;
    const totalBytes = writes.reduce((s, w) => s + w.size, 0);
    const linker = new Linker(repo.store, repo.settings.cacheTypes, (n) => {
      partial += n;
      // Only big files report mid-copy: small ones report through tick, every 64 files.
      if (partial >= 4 << 20) options.progress?.({ phase: 'checkout', done, total: writes.length, bytes: Math.min(totalBytes, bytes + partial), totalBytes });
    });
    linker.premade = options.premade;
    /** Stats of files made in place, as written (saves an lstat each). */
    const madeStats = new Map<string, MadeStat>();
    const prepared: Prepared[] = [];
    const deferred: FileEntry[] = [];
    const abandonAll = () => {
      for (const p of prepared) linker.abandon(p);
      prepared.length = 0;
    };
    process.once('exit', abandonAll);
    options.progress?.({ phase: 'checkout', done: 0, total: writes.length, bytes: 0, totalBytes });
    const tick = (t: FileEntry) => {
      done++;
      bytes += t.size;
      partial = 0;
      if ((done & 63) === 0 || t.size > 8 << 20) options.progress?.({ phase: 'checkout', done, total: writes.length, bytes, totalBytes });
    };
    try {
      let lowSpace = false;
      try {
        // New small files of a clone (nothing on disk there): many at once,
        // on several threads; whatever that leaves is placed one by one below.
        const small = options.inPlace === true
          ? writes.filter((t) => t.kind === 'blob' && LocalStore.packable('blob', t.size) && !blocked.has(t.path) && !ws.scan.files.has(t.path))
          : [];
        const madeEarly = new Set<FileEntry>();
        if (small.length > 0) {
          await placeSmallFiles(repo.store, linker, small.map((t) => ({ id: t.id, size: t.size, dest: repo.abs(t.path), exec: t.exec, entry: t })), (f, p) => {
            prepared.push(p);
            madeEarly.add(f.entry);
            tick(f.entry);
          });
        }
        for (const t of writes) {
          partial = 0;
          if (madeEarly.has(t)) continue;
          if (blocked.has(t.path)) {
            // Only with --force: placed after the blocker is cleared.
            deferred.push(t);
            continue;
          }
          try {
            prepared.push(linker.prepare(t, repo.abs(t.path), t.exec, options.inPlace === true && !ws.scan.files.has(t.path)));
          } catch (e) {
            const code = errnoCode(e);
            if (code === 'ENOTDIR' || code === 'EEXIST') {
              deferred.push(t);
              continue;
            }
            throw e;
          }
          tick(t);
        }
      } catch (e) {
        if (errnoCode(e) !== 'ENOSPC') throw e;
        // The new files do not fit beside the old ones. Nothing in the
        // workspace changed yet: drop what was staged, and if the result
        // fits once the old files are gone, switch in the order that frees
        // space first; otherwise say how much room is needed.
        abandonAll();
        checkRoom(repo, writes, removes, e);
        lowSpace = true;
      }
      if (lowSpace) {
        // Every source must be there before anything is removed.
        for (const t of writes) {
          const there = t.kind === 'chunked' && !repo.store.hasWhole(t.id) ? repo.store.isSplit(t.id) : repo.store.sizeOf('cache', t.id) === t.size;
          if (!there) {
            throw new MissingContentError(`the cache has no content for ${t.id.slice(0, 12)} (needed for ${t.path}): not fetched yet`, {
              hint: NOT_FETCHED_HINT,
            });
          }
        }
        // From here an interruption leaves the workspace part-switched (HEAD
        // and the index unchanged; every removed file was clean or --force,
        // so its content is in the cache): running the checkout again ends it.
        for (const p of removes) rmQuiet(repo.abs(p));
        if (options.force) for (const c of conflicts) clearBlocker(repo, c);
        for (const t of writes) if (ws.scan.files.has(t.path)) rmQuiet(repo.abs(t.path));
        pruneEmptyDirs(repo, removes);
        done = 0;
        bytes = 0;
        partial = 0;
        for (const t of writes) {
          linker.place(t, repo.abs(t.path), t.exec);
          tick(t);
        }
      } else {
        for (const p of removes) rmQuiet(repo.abs(p));
        if (options.force) for (const c of conflicts) clearBlocker(repo, c);
        pruneEmptyDirs(repo, removes);
        for (const p of prepared) {
          linker.finish(p);
          if (p.stat) madeStats.set(p.dest, p.stat);
        }
        prepared.length = 0;
        for (const t of deferred) {
          linker.place(t, repo.abs(t.path), t.exec);
          tick(t);
        }
      }
    } catch (e) {
      abandonAll();
      linker.removeCreatedDirs();
      throw e;
    } finally {
      process.removeListener('exit', abandonAll);
    }
    options.progress?.({ phase: 'checkout', done, total: writes.length, bytes, totalBytes, finished: true });
    const newEntries: IndexEntry[] = [...keep];
    for (const t of writes) {
      const abs = repo.abs(t.path);
      const st = madeStats.get(abs) ?? fs.lstatSync(abs, { bigint: true });
      const old = iFiles.get(t.path);
      newEntries.push({
        path: t.path, kind: t.kind, id: t.id, size: t.size, exec: t.exec,
        mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino,
        xxh: old && old.id === t.id ? old.xxh : 0n,
      });
    }

    // The index keeps everything outside the scope untouched.
    for (const e of index.entries) if (!inScope(e.path)) newEntries.push(e);
    newEntries.sort((a, b) => comparePaths(a.path, b.path));
    let datasets: string[];
    if (pathMode) datasets = unionRoots([...index.datasets, ...scope.filter((s) => targetDatasets.some((d) => isUnder(s, d) || isUnder(d, s)))]);
    else {
      // The target's roots, plus any root of the index that still holds files
      // after the switch (staged work carried over): a tracked file outside
      // every dataset would be invisible to status, diff and commit -a.
      const roots = new Set(targetDatasets);
      for (const d of index.datasets) if (!roots.has(d) && newEntries.some((e) => isUnder(e.path, d))) roots.add(d);
      datasets = [...roots].sort();
    }
    if (pathMode) datasets = datasets.filter((d) => newEntries.some((e) => isUnder(e.path, d)) || index.datasets.includes(d));
    // A checkout that changed nothing leaves the index alone (saves rewriting 20,000 entries).
    const entries = dedupe(newEntries);
    const indexChanged =
      writes.length > 0 ||
      removes.length > 0 ||
      adoptedAny ||
      ws.comparison.refreshed > 0 ||
      entries.length !== index.entries.length ||
      datasets.join('\n') !== index.datasets.join('\n');
    if (indexChanged) await repo.writeIndex({ datasets, entries, stampNs: 0n });

    // HEAD last: it is the commit point of a switch.
    let moved = false;
    let branch: string | null = null;
    const h = repo.refs.head();
    if (options.createBranch) {
      // On an unborn branch there is no commit to point at: only HEAD moves.
      const start = target?.id ?? headId;
      if (start) repo.refs.set('heads', options.createBranch, start, null);
      repo.refs.setHead({ kind: 'branch', name: options.createBranch });
      branch = options.createBranch;
      moved = true;
    } else if (options.keepHead) {
      branch = h.kind === 'branch' ? h.name : null;
    } else if (switching && target && options.advanceBranch) {
      repo.refs.set('heads', options.advanceBranch, target.id, options.advanceFrom !== undefined ? options.advanceFrom : headId ?? null);
      repo.refs.setHead({ kind: 'branch', name: options.advanceBranch });
      branch = options.advanceBranch;
      moved = true;
    } else if (switching && target) {
      if (target.branch) {
        repo.refs.setHead({ kind: 'branch', name: target.branch });
        branch = target.branch;
      } else {
        repo.refs.setHead({ kind: 'detached', id: target.id });
      }
      moved = true;
    } else branch = h.kind === 'branch' ? h.name : null;
    void bytes;
    // Versions the switch replaced that no tip names any more (a pull that
    // moved past them) keep only the chunks the versions now checked out lack.
    if (indexChanged) splitReplaced(repo, index.entries, entries, { keepTips: true });
    options.beforeUnlock?.();
    const pinFile = moved && options.writePin !== false ? writePin(repo) : undefined;
    return {
      pinWritten: pinFile !== undefined,
      ...(pinFile ? { pinFile } : {}),
      commit: options.keepHead ? headId ?? null : target?.id ?? headId ?? null,
      branch,
      moved,
      written: writes.length,
      removed: removes.length,
      unchanged,
      methods: { ...linker.counts },
    };
  });
}

/**
 * checkRoom throws (as ENOSPC, with the figures) unless the file system holds
 * the checkout's result: the files it writes, less those it removes or
 * replaces (a file with other links frees nothing).
 */
function checkRoom(repo: Repository, writes: FileEntry[], removes: string[], cause: unknown): void {
  const st = fs.statfsSync(repo.root);
  const block = Math.max(st.bsize, 512);
  const rounded = (n: number) => Math.ceil(n / block) * block;
  const freedBy = (p: string): number => {
    const s = fs.lstatSync(repo.abs(p), { throwIfNoEntry: false });
    return s?.isFile() && s.nlink === 1 ? rounded(s.size) : 0;
  };
  let need = 0;
  let freed = 0;
  for (const t of writes) {
    need += rounded(t.size);
    freed += freedBy(t.path);
  }
  for (const p of removes) freed += freedBy(p);
  const free = st.bavail * st.bsize;
  // A little slack for directories and the index.
  const short = need - freed - free + 64 * block;
  if (short > 0) {
    throw Object.assign(
      new Error(`not enough space for this checkout on the file system of ${repo.root}: it needs ${formatSize(need)} for ${writes.length} file(s), frees ${formatSize(freed)}, and ${formatSize(free)} is free (${formatSize(short)} short); nothing was changed`),
      { code: 'ENOSPC', cause },
    );
  }
}

function formatSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** unionRoots drops roots contained in other roots. */
function unionRoots(roots: string[]): string[] {
  const sorted = [...new Set(roots)].sort((a, b) => a.length - b.length);
  const out: string[] = [];
  for (const r of sorted) if (!out.some((o) => isUnder(r, o))) out.push(r);
  return out.sort();
}

function dedupe(entries: IndexEntry[]): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (const e of entries) {
    if (out.length > 0 && out[out.length - 1].path === e.path) out[out.length - 1] = e;
    else out.push(e);
  }
  return out;
}

/** holdsOnlyRemoved says whether every entry beneath directory `abs` (repo path `rel`) is a file in `removing`. */
function holdsOnlyRemoved(abs: string, rel: string, removing: Set<string>): boolean {
  for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
    const r = `${rel}/${d.name}`;
    if (d.isDirectory() ? !holdsOnlyRemoved(path.join(abs, d.name), r, removing) : !(d.isFile() && removing.has(r))) return false;
  }
  return true;
}

/** clearBlocker removes whatever stands at `p`: a directory tree, a file, or a link (never its target). Only with --force. */
function clearBlocker(repo: Repository, p: string): void {
  const abs = repo.abs(p);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(abs, { throwIfNoEntry: false });
  } catch {
    return;
  }
  if (!st) return;
  // rmSync removes a link itself, never what it points to.
  if (st.isDirectory()) fs.rmSync(abs, { recursive: true, force: true });
  else fs.unlinkSync(abs);
}

/** pruneEmptyDirs removes directories left empty by removals, up to the workspace root. */
function pruneEmptyDirs(repo: Repository, removed: string[]): void {
  const dirs = new Set<string>();
  for (const p of removed) {
    let d = parentPath(p);
    while (d !== '') {
      dirs.add(d);
      d = parentPath(d);
    }
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(path.join(repo.root, ...d.split('/')));
    } catch {
      // not empty (or gone): keep it
    }
  }
}
