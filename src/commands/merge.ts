import { encodeCommit, normaliseMessage } from '../core/encoding.js';
import { LodeError, UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { isAncestor, readCommit } from '../graph/commits.js';
import { mergeBase, mergeDatasets, mergeTrees, type MergeConflict } from '../graph/merge.js';
import { buildTrees, EMPTY_TREE, lookupPath, walkFiles, TreePool, type FileEntry } from '../graph/trees.js';
import { comparePaths, isUnder } from '../core/paths.js';
import type { MergeState, Repository } from '../repo/repository.js';
import { authorOf, currentGitHead } from '../repo/author.js';
import { switchFetching, switchTo, type CheckoutResult } from './checkout.js';
import { resolveRev } from '../repo/revisions.js';

export interface MergeOptions {
  /** What to merge into HEAD: any revision (lode or git). Omitted: the merge in progress. */
  rev?: string;
  /** Resolve every conflict with one side. */
  favor?: 'ours' | 'theirs';
  message?: string;
  /** Make a merge commit even when HEAD could simply move forward. */
  noFastForward?: boolean;
  /** Give up a conflicted merge: workspace and index back to HEAD. */
  abort?: boolean;
  force?: boolean;
  author?: string;
  time?: number;
  progress?: ProgressSink;
}

export interface MergeResult {
  outcome: 'upToDate' | 'fastForward' | 'merged' | 'conflicts' | 'aborted';
  ours: ObjectId | null;
  theirs: ObjectId | null;
  base: ObjectId | null;
  /** HEAD afterwards (unchanged while conflicts wait). */
  commit: ObjectId | null;
  /** Paths changed differently on both sides; with `favor` they were resolved with that side. */
  conflicts: MergeConflict[];
  resolvedWith?: 'ours' | 'theirs';
  /** Paths the merge brought in from theirs. */
  fromTheirs: number;
  checkout?: CheckoutResult;
}

/** MergePlan is a merge computed but not yet applied (shared with the git merge driver). */
export interface MergePlan {
  ours: ObjectId;
  theirs: ObjectId;
  base: ObjectId | null;
  tree: ObjectId;
  datasets: string[];
  conflicts: MergeConflict[];
  fromTheirs: number;
}

/**
 * planMerge merges the trees of two commits against their merge base in
 * lode's commit graph and stores the merged trees (not a commit). Cost
 * follows what changed on each side since the base.
 */
export function planMerge(repo: Repository, ours: ObjectId, theirs: ObjectId, favor?: 'ours' | 'theirs'): MergePlan {
  const base = mergeBase(repo.store, ours, theirs) ?? null;
  const o = readCommit(repo.store, ours);
  const t = readCommit(repo.store, theirs);
  const b = base ? readCommit(repo.store, base) : undefined;
  const pool = new TreePool(repo.store);
  const m = mergeTrees(pool, b?.tree ?? EMPTY_TREE, o.tree, t.tree, favor);
  for (const bytes of m.objects.values()) repo.store.putObject(bytes);
  pool.addBuilt(m.objects);
  // A root one side dropped while the other still changed files under it
  // stays tracked: files in the tree outside every dataset would be invisible
  // to status, diff and commit -a.
  const datasets = new Set(mergeDatasets(b?.datasets ?? [], o.datasets, t.datasets));
  for (const d of [...o.datasets, ...t.datasets]) if (!datasets.has(d) && lookupPath(pool, m.root, d)) datasets.add(d);
  return { ours, theirs, base, tree: m.root, datasets: [...datasets].sort(), conflicts: m.conflicts, fromTheirs: m.fromTheirs };
}

/** storeMergeCommit writes the two-parent commit for a plan and returns its ID (no ref moves). */
export function storeMergeCommit(repo: Repository, plan: MergePlan, message: string, options: { author?: string; time?: number; git?: string } = {}): ObjectId {
  return repo.store.putObject(
    encodeCommit({
      tree: plan.tree,
      parents: [plan.ours, plan.theirs],
      author: options.author ?? authorOf(repo),
      time: options.time ?? Date.now(),
      ...(options.git ? { git: options.git } : {}),
      datasets: plan.datasets,
      message: normaliseMessage(message),
    }),
  );
}

/**
 * merge brings another revision's changes into HEAD with a three-way merge
 * of dataset trees. Paths changed on one side merge cleanly; a path changed
 * differently on both sides is a conflict. Without `favor`, conflicts stop
 * the merge before any commit: the workspace and index hold the merged files
 * (ours at conflicting paths) and MERGE_HEAD waits for `lode commit`.
 * The branch moves last, only if it is still where the merge started.
 */
export async function merge(repo: Repository, options: MergeOptions): Promise<MergeResult> {
  const state = repo.mergeState();
  const inProgress = state?.theirs;
  const headId = repo.refs.headCommit() ?? null;
  if (options.abort) {
    if (!state) throw new UsageError('no merge is in progress', { hint: 'there is nothing to abort: `lode status` shows the state of the workspace' });
    if (state.head !== headId) {
      // HEAD moved under the merge (by hand, or an older lode): forget the merge, touch no file.
      repo.setMergeState(undefined);
      return { outcome: 'aborted', ours: headId, theirs: state.theirs, base: null, commit: headId, conflicts: [], fromTheirs: 0 };
    }
    // Undo only what the merge did: switch from what it staged (with the
    // user's resolutions at conflicting paths) back to HEAD. Local changes the
    // merge did not touch stay; unstaged edits to merged files stop the abort
    // unless forced.
    const from = await stagedWithResolutions(repo, state);
    const co = await switchTo(repo, { rev: state.head, keepHead: true, switchFrom: from, duringMerge: true, force: options.force, progress: options.progress, beforeUnlock: () => repo.setMergeState(undefined) });
    return { outcome: 'aborted', ours: headId, theirs: state.theirs, base: null, commit: headId, conflicts: [], fromTheirs: 0, checkout: co };
  }
  if (!headId) throw new UsageError('there is nothing to merge into: HEAD has no commits yet', { hint: 'commit first, or check the other revision out instead' });
  let theirs: ObjectId;
  if (state && state.head !== headId) {
    throw new LodeError('CONFLICT', `the merge of ${state.theirs.slice(0, 12)} started at ${state.head.slice(0, 12)}, but HEAD has moved`, { hint: 'run `lode merge --abort` to forget it (no file is touched)' });
  }
  if (inProgress) {
    if (!options.favor) {
      throw new LodeError('CONFLICT', `a merge of ${inProgress.slice(0, 12)} is in progress`, {
        hint: 'resolve the conflicting files, `lode add` them and `lode commit`; or `lode merge --ours`/`--theirs`; or `lode merge --abort`',
      });
    }
    theirs = inProgress;
    if (options.rev !== undefined && (await resolveRev(repo, options.rev)).id !== inProgress) {
      throw new UsageError(`a merge of ${inProgress.slice(0, 12)} is in progress; finish or abort it before merging ${options.rev}`, {
        hint: 'conclude it with `lode merge --ours` or `--theirs` (no revision), or give it up with `lode merge --abort`',
      });
    }
  } else {
    if (options.rev === undefined) throw new UsageError('merge what? give a revision', { hint: 'e.g. `lode merge feature` or `lode merge git:main`' });
    theirs = (await resolveRev(repo, options.rev)).id;
  }
  const label = options.rev ?? theirs.slice(0, 12);
  const head = repo.refs.head();
  const branch = head.kind === 'branch' ? head.name : undefined;
  const base: MergeResult = { outcome: 'upToDate', ours: headId, theirs, base: null, commit: headId, conflicts: [], fromTheirs: 0 };
  if (!inProgress && isAncestor(repo.store, theirs, headId)) return base;
  if (!inProgress && !options.noFastForward && isAncestor(repo.store, headId, theirs)) {
    const co = await switchFetching(repo, { rev: theirs, ...(branch ? { advanceBranch: branch, advanceFrom: headId } : {}), force: options.force, progress: options.progress });
    return { ...base, outcome: 'fastForward', base: headId, commit: theirs, checkout: co };
  }
  const plan = planMerge(repo, headId, theirs, options.favor);
  const open = state ? plan.conflicts.filter((c) => state.conflicts.includes(c.path)) : plan.conflicts;
  const result = { ...base, base: plan.base, conflicts: open, fromTheirs: plan.fromTheirs };
  if (plan.conflicts.length > 0 && !options.favor) {
    // Stage the merged files under a commit nobody points at (gc collects it
    // later) and check it out without moving HEAD.
    const staged = repo.store.putObject(
      encodeCommit({ tree: plan.tree, parents: [headId], author: authorOf(repo), time: Date.now(), datasets: plan.datasets, message: `staged merge of ${label}` }),
    );
    const paths = [...new Set(plan.conflicts.map((c) => c.path))];
    // The merge state is written under the same lock as the staged files, so no other lode sees one without the other.
    const co = await switchFetching(repo, {
      rev: staged,
      keepHead: true,
      force: options.force,
      progress: options.progress,
      beforeUnlock: () => repo.setMergeState({ theirs, head: headId, staged, conflicts: paths, paths, label }),
    }, theirs);
    return { ...result, outcome: 'conflicts', checkout: co };
  }
  const message = options.message ?? `Merge ${state?.label ?? label}${branch ? ` into ${branch}` : ''}`;
  const git = await currentGitHead(repo);
  let from: ObjectId | undefined;
  if (state) {
    // Conflicts already resolved with `lode add`/`lode rm` keep that
    // resolution; --ours/--theirs decides only the ones still open. The switch
    // starts from what the merge staged, so edits to merged files carry over.
    const resolved = state.paths.filter((p) => !state.conflicts.includes(p));
    const index = await repo.readIndex();
    plan.tree = overlayIndex(repo, plan.tree, resolved, index.entries);
    from = await stagedWithResolutions(repo, state);
  }
  const id = storeMergeCommit(repo, plan, message, { author: options.author, time: options.time, git });
  const co = await switchFetching(repo, {
    rev: id,
    ...(branch ? { advanceBranch: branch, advanceFrom: headId } : {}),
    ...(from ? { switchFrom: from } : {}),
    duringMerge: !!state,
    force: options.force,
    progress: options.progress,
    beforeUnlock: state ? () => repo.setMergeState(undefined) : undefined,
  }, theirs);
  return { ...result, outcome: 'merged', commit: id, checkout: co, ...(options.favor && open.length > 0 ? { resolvedWith: options.favor } : {}) };
}


/**
 * overlayIndex returns `tree` with the paths at or under `paths` replaced by
 * what the index holds there (absent when the index has nothing), storing the
 * new trees.
 */
function overlayIndex(repo: Repository, tree: ObjectId, paths: string[], entries: readonly FileEntry[]): ObjectId {
  if (paths.length === 0) return tree;
  const pool = new TreePool(repo.store);
  const under = (p: string) => paths.some((c) => isUnder(p, c));
  const files = walkFiles(pool, tree).filter((f) => !under(f.path));
  for (const e of entries) if (under(e.path)) files.push({ path: e.path, kind: e.kind, id: e.id, size: e.size, exec: e.exec });
  const built = buildTrees(files.sort((a, b) => comparePaths(a.path, b.path)));
  for (const bytes of built.objects.values()) repo.store.putObject(bytes);
  return built.root;
}

/**
 * stagedWithResolutions is a commit (referenced by nothing) holding what the
 * merge staged with the index's current content at every conflicting path:
 * the state the workspace is expected to be in, for a switch away from it.
 */
async function stagedWithResolutions(repo: Repository, state: MergeState): Promise<ObjectId> {
  if (!repo.store.hasObject(state.staged)) {
    throw new LodeError('CORRUPT', `the merge's staged commit ${state.staged.slice(0, 12)} is missing`, {
      hint: 'remove .lode/MERGE to forget the merge, then `lode status` and `lode checkout -f -- PATH` to put files back',
    });
  }
  const staged = readCommit(repo.store, state.staged);
  const index = await repo.readIndex();
  const tree = overlayIndex(repo, staged.tree, state.paths, index.entries);
  return repo.store.putObject(encodeCommit({ ...staged, tree, message: `${staged.message.trimEnd()} (with resolutions)` }));
}
