import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConflictError, UnknownRevisionError, UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { comparePaths, isUnder, parentPath } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { resolveRevision, type ResolvedRevision } from '../graph/commits.js';
import { validateRefName } from '../graph/refs.js';
import { EMPTY_TREE, filesUnder, walkFiles, type FileEntry } from '../graph/trees.js';
import { Ingester } from '../objects/ingest.js';
import { loadXxhash } from '../core/checksum.js';
import { errnoCode, rmQuiet } from '../storage/atomic.js';
import type { IndexEntry } from '../workspace/index-file.js';
import { Linker, type LinkType, type Prepared } from '../workspace/link.js';
import type { Repository } from '../repo/repository.js';
import { TreePool, workspaceState } from './snapshot.js';

export interface CheckoutOptions {
  /** Revision to check out; default HEAD (restore the workspace). */
  rev?: string;
  /** Restrict to these paths: restore them from `rev` without moving HEAD. */
  paths?: string[];
  cwd?: string;
  /** Overwrite uncommitted changes in the way. */
  force?: boolean;
  /** Create this branch at `rev` (default HEAD) and switch to it. */
  createBranch?: string;
  progress?: ProgressSink;
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
  /** Paths whose local changes were left in place (the switch did not touch them). */
  kept: string[];
  /** Files placed by each method. */
  methods: Record<LinkType, number>;
}

type WsState = 'clean' | 'modified' | 'deleted' | 'untracked' | 'absent';

/**
 * checkout makes the workspace match a revision. Without paths it switches
 * HEAD (to the branch, or detached to a commit or tag), removing tracked files
 * the target lacks and keeping local changes to files the switch does not
 * touch. With paths it restores just those from the revision. It refuses,
 * before changing anything, when uncommitted work would be overwritten,
 * unless `force`. The index is written after the files, HEAD last.
 */
export async function checkout(repo: Repository, options: CheckoutOptions = {}): Promise<CheckoutResult> {
  return repo.withLock('checkout', async () => {
    const pathMode = (options.paths?.length ?? 0) > 0;
    if (pathMode && options.createBranch) throw new UsageError('-b cannot be combined with paths');
    const headId = repo.refs.headCommit();
    const revText = options.rev ?? 'HEAD';
    if (!headId && revText === 'HEAD' && !options.createBranch) {
      throw new UnknownRevisionError('HEAD', { hint: 'there are no commits yet: `lode add` and `lode commit` first' });
    }
    let target: ResolvedRevision | undefined = revText === 'HEAD' && !headId ? undefined : resolveRevision(repo.store, repo.refs, revText);
    if (options.createBranch) {
      validateRefName(options.createBranch, 'branch');
      if (repo.refs.get('heads', options.createBranch)) throw new UsageError(`branch ${options.createBranch} already exists`, { hint: `switch to it with \`lode checkout ${options.createBranch}\`` });
    }
    const pool = new TreePool(repo);
    const index = await repo.readIndex();
    const headTree = headId ? resolveRevision(repo.store, repo.refs, 'HEAD').commit.tree : EMPTY_TREE;
    const targetTree = target?.commit.tree ?? EMPTY_TREE;
    const targetDatasets = target?.commit.datasets ?? [];

    // Scope: which repo paths this checkout may touch.
    let scope: string[];
    if (pathMode) scope = options.paths!.map((p) => repo.toRepoPath(p, options.cwd));
    else scope = unionRoots([...index.datasets, ...targetDatasets]);
    const inScope = (p: string) => scope.some((r) => isUnder(p, r));

    const tFiles = new Map<string, FileEntry>();
    if (pathMode) {
      for (const f of filesUnder(pool, targetTree, scope, revText)) tFiles.set(f.path, f);
    } else {
      for (const f of walkFiles(pool, targetTree)) tFiles.set(f.path, f);
    }
    const hFiles = new Map<string, FileEntry>();
    for (const f of walkFiles(pool, headTree)) if (inScope(f.path)) hFiles.set(f.path, f);
    const iFiles = new Map<string, IndexEntry>();
    for (const e of index.entries) if (inScope(e.path)) iFiles.set(e.path, e);

    const ws = await workspaceState(repo, index, scope, { hash: false });
    const wsState = new Map<string, WsState>();
    for (const f of ws.comparison.modified) wsState.set(f.path, 'modified');
    for (const e of ws.comparison.deleted) wsState.set(e.path, 'deleted');
    for (const f of ws.comparison.untracked) wsState.set(f.path, 'untracked');
    const stateOf = (p: string): WsState => wsState.get(p) ?? (iFiles.has(p) ? 'clean' : 'absent');

    // `lode checkout HEAD` restores, like no revision at all; anything else switches.
    const switching = !pathMode && options.rev !== undefined && options.rev !== 'HEAD';
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

    const writes: FileEntry[] = [];
    const removes: string[] = [];
    const keep: IndexEntry[] = [];
    const kept: string[] = [];
    const conflicts: string[] = [];
    let unchanged = 0;
    const all = new Set<string>([...tFiles.keys(), ...iFiles.keys(), ...ws.comparison.untracked.map((f) => f.path)]);
    for (const p of [...all].sort(comparePaths)) {
      const t = tFiles.get(p);
      const i = iFiles.get(p);
      const h = hFiles.get(p);
      const st = stateOf(p);
      const staged = !same(i, h);
      if (switching && same(h, t) && (st !== 'clean' || staged)) {
        // The switch does not change this path: carry the local change over.
        if (i) keep.push(i);
        if (st !== 'absent' && st !== 'untracked') kept.push(p);
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
    // Something that is not a tracked file standing where a target file must go.
    const removing = new Set(removes);
    const dirState = new Map<string, 'dir' | 'absent' | 'other'>();
    for (const t of writes) {
      const blocker = blockingPath(repo, t.path, removing, ws.scan.files, dirState);
      if (blocker) conflicts.push(blocker);
    }
    if (conflicts.length > 0 && !options.force) {
      const shown = conflicts.slice(0, 10).join(', ') + (conflicts.length > 10 ? ` and ${conflicts.length - 10} more` : '');
      throw new ConflictError(`checkout would overwrite uncommitted changes: ${shown}`, conflicts, 'commit or stash them first (`lode add` + `lode commit`), or pass --force to discard them');
    }

    // Three phases so that a missing or corrupt cache file stops the checkout
    // before the workspace changes: (1) make every target file under a temp
    // name beside its destination, verifying copies; (2) remove what the target
    // lacks; (3) rename the prepared files into place. Files whose directory
    // cannot exist until a removal (a file standing where the directory goes)
    // are placed after the removals.
    const linker = new Linker(repo.store, repo.settings.cacheTypes);
    const prepared: Prepared[] = [];
    const deferred: FileEntry[] = [];
    const abandonAll = () => {
      for (const p of prepared) linker.abandon(p);
      prepared.length = 0;
    };
    process.once('exit', abandonAll);
    let done = 0;
    let bytes = 0;
    const totalBytes = writes.reduce((s, w) => s + w.size, 0);
    options.progress?.({ phase: 'checkout', done: 0, total: writes.length, bytes: 0, totalBytes });
    const tick = (t: FileEntry) => {
      done++;
      bytes += t.size;
      if ((done & 63) === 0 || t.size > 8 << 20) options.progress?.({ phase: 'checkout', done, total: writes.length, bytes, totalBytes });
    };
    try {
      for (const t of writes) {
        try {
          prepared.push(linker.prepare(t, repo.abs(t.path), t.exec));
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
      for (const p of removes) rmQuiet(repo.abs(p));
      if (options.force) for (const c of conflicts) clearBlocker(repo, c);
      pruneEmptyDirs(repo, removes);
      for (const p of prepared) linker.finish(p);
      prepared.length = 0;
      for (const t of deferred) {
        linker.place(t, repo.abs(t.path), t.exec);
        tick(t);
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
      const st = fs.lstatSync(repo.abs(t.path), { bigint: true });
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
    else datasets = [...targetDatasets].sort();
    if (pathMode) datasets = datasets.filter((d) => newEntries.some((e) => isUnder(e.path, d)) || index.datasets.includes(d));
    await repo.writeIndex({ datasets, entries: dedupe(newEntries), stampNs: 0n });

    // HEAD last: it is the commit point of a switch.
    let moved = false;
    let branch: string | null = null;
    const h = repo.refs.head();
    if (options.createBranch) {
      repo.refs.set('heads', options.createBranch, target?.id ?? headId!, null);
      repo.refs.setHead({ kind: 'branch', name: options.createBranch });
      branch = options.createBranch;
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
    return {
      commit: target?.id ?? headId ?? null,
      branch,
      moved,
      written: writes.length,
      removed: removes.length,
      unchanged,
      kept,
      methods: { ...linker.counts },
    };
  });
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

/**
 * blockingPath returns a path that stops `p` from being written: a directory
 * at `p` holding anything but files being removed (those go first, and the
 * emptied directory is pruned), or a non-directory at one of its parents that
 * is not being removed.
 */
function blockingPath(repo: Repository, p: string, removing: Set<string>, files: Map<string, unknown>, dirState: Map<string, 'dir' | 'absent' | 'other'>): string | undefined {
  if (!files.has(p)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(repo.abs(p), { throwIfNoEntry: false });
    } catch (e) {
      if (errnoCode(e) !== 'ENOTDIR') throw e;
    }
    if (st?.isDirectory() && !holdsOnlyRemoved(repo.abs(p), p, removing)) return p;
  }
  // Walk up until a directory that exists (cached: most files share parents).
  let dir = parentPath(p);
  while (dir !== '') {
    if (removing.has(dir)) return undefined;
    let state = dirState.get(dir);
    if (state === undefined) {
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(repo.abs(dir), { throwIfNoEntry: false });
      } catch (e) {
        // ENOTDIR: a file further up stands in the way; the next step up finds it.
        if (errnoCode(e) !== 'ENOTDIR') throw e;
      }
      state = st === undefined ? 'absent' : st.isDirectory() ? 'dir' : 'other';
      dirState.set(dir, state);
    }
    if (state === 'dir') return undefined;
    if (state === 'other') return dir;
    dir = parentPath(dir);
  }
  return undefined;
}

/** holdsOnlyRemoved says whether every entry beneath directory `abs` (repo path `rel`) is a file in `removing`. */
function holdsOnlyRemoved(abs: string, rel: string, removing: Set<string>): boolean {
  for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
    const r = `${rel}/${d.name}`;
    if (d.isDirectory() ? !holdsOnlyRemoved(path.join(abs, d.name), r, removing) : !(d.isFile() && removing.has(r))) return false;
  }
  return true;
}

/** clearBlocker removes whatever stands at `p` (only with --force). */
function clearBlocker(repo: Repository, p: string): void {
  try {
    const abs = repo.abs(p);
    if (fs.lstatSync(abs).isDirectory()) fs.rmSync(abs, { recursive: true, force: true });
  } catch {
    // absent
  }
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
