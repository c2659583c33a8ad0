import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeCommit, normaliseMessage } from '../core/encoding.js';
import { ChecksFailedError, LodeError, NotFoundError, UsageError } from '../core/errors.js';
import { encodeRecord, type CommitRecord, type Provenance } from '../core/record.js';
import { lookupPath } from '../graph/trees.js';
import type { CheckReport } from '../repo/checks.js';
import { CONTRACT_FILE } from '../repo/contract.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { TreePool } from '../graph/trees.js';
import { diffCounts } from '../graph/diff.js';
import type { MergeState, Repository } from '../repo/repository.js';
import { headSnapshot, promoteStaged, withIndexTree } from '../repo/snapshot.js';
import { indexSize } from '../workspace/index-file.js';
import { add } from './add.js';
import { writePin } from '../git/pin-file.js';
import { authorOf, currentGitHead } from '../repo/author.js';

export interface CommitOptions {
  message: string;
  /** Stage every change under the tracked datasets first (like `lode add` of each). */
  all?: boolean;
  allowEmpty?: boolean;
  /** "Name <email>"; default from config, LODE_AUTHOR_*, GIT_AUTHOR_*, or the OS user. */
  author?: string;
  /** Commit time in ms (default now). */
  time?: number;
  /** git HEAD to record (the git layer fills this in). */
  git?: string;
  /**
   * How the version was made, recorded in the commit's record object. Output
   * IDs are filled in from the committed tree (`outputs` are repo paths).
   */
  provenance?: ProvenanceDraft;
  /** Refuse a commit the data contract finds violations in (default true; false is `--no-verify`: checked and recorded, not refused). */
  verify?: boolean;
  /** The contract file (default lode.checks.toml at the top of the workspace, when it exists). */
  contract?: string;
  progress?: ProgressSink;
}

/** ProvenanceDraft is a Provenance whose outputs are only paths yet. */
export type ProvenanceDraft = Omit<Provenance, 'outputs'> & { outputs: string[] };

export interface CommitResult {
  id: ObjectId;
  /** Branch that moved, or null when HEAD is detached. */
  branch: string | null;
  parent: ObjectId | null;
  tree: ObjectId;
  files: number;
  bytes: number;
  changes: { added: number; deleted: number; modified: number; renamed: number };
  /** The commit being merged, when this commit concluded a `lode merge`. */
  merged?: ObjectId;
  /** The git HEAD recorded in the commit, when inside git. */
  git?: string;
  /** The pin file rewritten for the new commit, when inside git. */
  pinFile?: string;
  /** The record object the commit names, when it has provenance or check results. */
  record?: ObjectId;
  provenance?: Provenance;
  /** What the data contract found, when there is one. */
  checks?: CheckReport;
}

/**
 * commit records the index as a new commit on the current branch. Trees and
 * the commit are stored first; moving the branch (or detached HEAD) is the
 * last step, done only if it still points where it did when we started.
 */
export async function commit(repo: Repository, options: CommitOptions): Promise<CommitResult> {
  const message = normaliseMessage(options.message ?? '');
  if (message === '') throw new UsageError('a commit needs a message', { hint: 'use `lode commit -m "what changed"`' });
  // Before `-a` stages anything: a refused commit leaves the index as it was.
  checkMergeState(repo.mergeState(), repo.refs.headCommit());
  if (options.all) {
    const idx = await repo.readIndex();
    if (idx.datasets.length > 0) await add(repo, { paths: idx.datasets.map((d) => repo.abs(d)), progress: options.progress, resolveConflicts: false });
  }
  // Read before taking the lock: the git library loads lazily and git HEAD does not depend on lode's state.
  const gitHead = options.git ?? (await currentGitHead(repo));
  return repo.withLock('commit', async () => {
    const index = await repo.readIndex();
    const head = headSnapshot(repo);
    const state = repo.mergeState();
    checkMergeState(state, head.commit);
    const merging = state?.theirs;
    const sameDatasets = head.datasets.join('\n') === index.datasets.join('\n');
    if (head.kind === 'empty' && indexSize(index) === 0 && !options.allowEmpty) {
      throw new LodeError('USAGE', 'nothing to commit: no files are tracked yet', { hint: 'track data with `lode add PATH` first' });
    }
    // Reads objects/ only (and trees built here): after the kept trees are
    // moved into objects/, counting the changes reads there every tree HEAD
    // does not share, so none the commit names is missing from objects/ (an
    // interrupted fetch or gc can leave a tree there without one below it).
    // Built from every entry, and stored, when one is not there.
    const pool = new TreePool(repo.store);
    const { root, changes } = withIndexTree(repo, index, pool, (tree, built) => {
      if (head.kind === 'commit' && tree === head.tree && sameDatasets && !options.allowEmpty && !merging) {
        throw new LodeError('USAGE', 'nothing to commit: the index matches HEAD', { hint: 'stage changes with `lode add PATH` first (or pass --allow-empty)' });
      }
      if (built) for (const bytes of built.objects.values()) repo.store.putObject(bytes, true);
      else promoteStaged(repo, tree);
      return { root: tree, changes: diffCounts(pool, head.tree, tree) };
    });
    // What the commit holds, from its top folder's entries.
    const built = { root, files: 0, size: 0 };
    for (const e of pool.readTree(root)) {
      built.files += e.files;
      built.size += e.size;
    }
    // The contract, then the record: a refused commit leaves nothing behind but stored trees (gc collects them).
    let checks: CheckReport | undefined;
    if (options.contract !== undefined || fs.existsSync(path.join(repo.root, CONTRACT_FILE))) {
      // Loaded only when there is a contract: the table readers are no business of other commits.
      const { evaluateContract, readContract } = await import('../repo/checks.js');
      const contract = readContract(repo, options.contract);
      if (contract) checks = await evaluateContract(repo, contract, pool, built.root, head.kind === 'commit' ? head.tree : undefined);
    }
    if (checks && !checks.ok && options.verify !== false) {
      const n = checks.violations.length;
      throw new ChecksFailedError(`the data contract (${checks.contract}) found ${n} violation${n === 1 ? '' : 's'}: nothing was committed`, checks.violations, {
        hint: 'fix the data (or the contract), or commit anyway with --no-verify (the violations are recorded with the commit)',
      });
    }
    let provenance: Provenance | undefined;
    if (options.provenance) {
      const outputs = options.provenance.outputs.map((p) => {
        const e = lookupPath(pool, built.root, p);
        if (!e) throw new NotFoundError(`output ${p} is not in the commit`, { hint: 'the step did not write it, or it is ignored (.lodeignore)' });
        return { path: p, kind: e.kind, id: e.id };
      });
      provenance = { ...options.provenance, outputs };
    }
    const record: CommitRecord | undefined =
      provenance || checks
        ? {
            ...(provenance ? { provenance } : {}),
            ...(checks ? { checks: { contract: checks.contract, contractSha256: checks.contractSha256, rules: checks.rules, violations: checks.violations, forced: !checks.ok } } : {}),
          }
        : undefined;
    const recordId = record ? repo.store.putObject(encodeRecord(record)) : undefined;
    const encoded = encodeCommit({
      tree: built.root,
      parents: head.commit ? (merging ? [head.commit, merging] : [head.commit]) : [],
      author: options.author ?? authorOf(repo),
      time: options.time ?? Date.now(),
      ...(gitHead ? { git: gitHead } : {}),
      ...(recordId ? { record: recordId } : {}),
      datasets: index.datasets,
      message,
    });
    const id = repo.store.putObject(encoded);
    const h = repo.refs.head();
    if (h.kind === 'branch') repo.refs.set('heads', h.name, id, head.commit ?? null);
    else repo.refs.setHead({ kind: 'detached', id });
    // The index's trees are in objects/ now; staged ones are left from earlier indexes.
    repo.store.clearStaged();
    if (merging) repo.setMergeState(undefined);
    const pinFile = writePin(repo);
    return {
      ...(merging ? { merged: merging } : {}),
      ...(gitHead ? { git: gitHead } : {}),
      ...(pinFile ? { pinFile } : {}),
      ...(recordId ? { record: recordId } : {}),
      ...(provenance ? { provenance } : {}),
      ...(checks ? { checks } : {}),
      id,
      branch: h.kind === 'branch' ? h.name : null,
      parent: head.commit ?? null,
      tree: built.root,
      files: built.files,
      bytes: built.size,
      changes,
    };
  });
}

/** checkMergeState refuses to commit a merge that went stale or still has unresolved conflicts. */
function checkMergeState(state: MergeState | undefined, headId: ObjectId | undefined): void {
  if (state && state.head !== headId) {
    throw new LodeError('CONFLICT', `the merge of ${state.theirs.slice(0, 12)} started at ${state.head.slice(0, 12)}, but HEAD is now ${headId?.slice(0, 12) ?? 'unborn'}`, {
      hint: 'run `lode merge --abort` to forget that merge (no file is touched)',
    });
  }
  if (state && state.conflicts.length > 0) {
    const shown = state.conflicts.slice(0, 10).join(', ') + (state.conflicts.length > 10 ? ` and ${state.conflicts.length - 10} more` : '');
    throw new LodeError('CONFLICT', `the merge of ${state.theirs.slice(0, 12)} still has ${state.conflicts.length} unresolved conflict(s): ${shown}`, {
      hint: 'make each file what it should be and `lode add` it (or `lode rm` it); or `lode merge --ours`/`--theirs`; or `lode merge --abort`',
    });
  }
}
