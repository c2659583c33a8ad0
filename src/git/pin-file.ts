/**
 * The pin file seen from a lode workspace: where it lives in git, writing it
 * after anything that moves HEAD, reading it from disk or at a git revision,
 * and the git history of pins. Outside git there is no pin file and all of
 * this is a no-op.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isLodeError, LodeError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { readCommit, type CommitStore } from '../graph/commits.js';
import type { RefStore } from '../graph/refs.js';
import { lookupPath, TreePool } from '../graph/trees.js';
import { GitRepo, type GitCommitInfo } from './git-repo.js';
import { encodePin, parsePin, PIN_FILE, type Pin, type PinnedDataset } from './pin.js';
import { readFileOrUndefined, writeFileAtomic } from '../storage/atomic.js';

/**
 * PinHost is what the pin file needs of a lode workspace (repo's
 * `Repository` is one): where it is, its commits and its HEAD.
 */
export interface PinHost {
  readonly root: string;
  readonly store: CommitStore;
  readonly refs: RefStore;
}

/** GitContext is a lode workspace inside a git work tree. */
export interface GitContext {
  git: GitRepo;
  /** Absolute path of the pin file (beside `.lode/`). */
  pinFile: string;
  /** The pin file's path inside git (`/`-separated, relative to the work tree). */
  pinGitPath: string;
}

/**
 * gitContext finds the git work tree around the workspace. With `required`
 * it throws when there is none (or it is bare); without, it returns
 * undefined for both, so commands outside git behave as before.
 */
export function gitContext(repo: { readonly root: string }, required: boolean): GitContext | undefined {
  let git: GitRepo | undefined;
  try {
    git = GitRepo.open(repo.root);
  } catch (e) {
    if (required) throw e;
    return undefined;
  }
  if (!git) {
    if (!required) return undefined;
    throw new LodeError('USAGE', `${repo.root} is not inside a git work tree`, { hint: 'git revisions and hooks need a git repository: `git init` there first (plain lode revisions work without git)' });
  }
  const pinFile = path.join(repo.root, PIN_FILE);
  return { git, pinFile, pinGitPath: git.toGitPath(pinFile) };
}

/** pinOf describes a commit as a pin: its ID, a branch, and each dataset's root entry. */
export function pinOf(repo: { readonly store: CommitStore }, commit: ObjectId, branch: string | null): Pin {
  const c = readCommit(repo.store, commit);
  const pool = new TreePool(repo.store);
  const datasets: PinnedDataset[] = [];
  for (const d of c.datasets) {
    const e = lookupPath(pool, c.tree, d);
    if (!e) continue;
    datasets.push({ path: d, kind: e.kind, id: e.id, files: e.kind === 'tree' ? e.files : 1, bytes: e.size });
  }
  return { commit, branch, datasets };
}

/**
 * writePin records HEAD in the pin file when the workspace is inside git.
 * Returns the file written, or undefined when outside git, on an unborn
 * branch, or when the file already says the same.
 */
export function writePin(repo: PinHost): string | undefined {
  const ctx = gitContext(repo, false);
  const id = repo.refs.headCommit();
  if (!ctx || !id) return undefined;
  const head = repo.refs.head();
  const text = encodePin(pinOf(repo, id, head.kind === 'branch' ? head.name : null));
  if (readFileOrUndefined(ctx.pinFile)?.toString('utf8') === text) return undefined;
  writeFileAtomic(ctx.pinFile, text);
  return ctx.pinFile;
}

/** readWorkspacePin reads the pin file on disk; undefined when there is none. */
export function readWorkspacePin(ctx: GitContext): Pin | undefined {
  const bytes = readFileOrUndefined(ctx.pinFile);
  if (!bytes) return undefined;
  return parsePin(bytes.toString('utf8'), PIN_FILE);
}

/** readPinAt reads the pin file as git commit `oid` has it; `rev` is how the user named it. */
export async function readPinAt(ctx: GitContext, oid: string, rev: string): Promise<Pin> {
  const bytes = await ctx.git.readFile(oid, ctx.pinGitPath);
  if (!bytes) {
    throw new LodeError('NOT_FOUND', `git ${rev} (${oid.slice(0, 10)}) has no ${ctx.pinGitPath}: no data was pinned at that commit`, {
      hint: '`lode log --git` lists the git commits that pinned data',
    });
  }
  return parsePin(bytes.toString('utf8'), `${ctx.pinGitPath} at git ${rev}`);
}

/** pinState is what `lode status` says about the pin: cheap, no git library loaded. */
export interface PinState {
  /** The commit the pin file names, or null when the workspace has no pin file. */
  commit: ObjectId | null;
  /** Whether HEAD is the pinned commit. */
  matchesHead: boolean;
  /** A problem reading the pin (hand-edited into nonsense, conflict markers). */
  problem?: string;
}

/** pinState reads the pin file beside `.lode/` (only when a `.git` is around). */
export function pinState(repo: Pick<PinHost, 'root' | 'refs'>): PinState | undefined {
  const file = path.join(repo.root, PIN_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    const pin = parsePin(fs.readFileSync(file, 'utf8'), PIN_FILE);
    return { commit: pin.commit, matchesHead: pin.commit === repo.refs.headCommit() };
  } catch (e) {
    if (isLodeError(e)) return { commit: null, matchesHead: false, problem: e.message };
    throw e;
  }
}

/** PinningCommit is a git commit that changed the pin file to name a lode commit. */
export interface PinningCommit {
  oid: string;
  summary: string;
  /** ISO-8601 UTC. */
  date: string;
}

/**
 * pinHistory walks git's history from HEAD, every parent (at most `limit`
 * commits), and returns, for each lode commit, the git commits whose change
 * to the pin file named it (a pin that differs from every parent's), newest
 * first.
 */
export async function pinHistory(repo: { readonly root: string }, limit = 2000): Promise<Map<ObjectId, PinningCommit[]>> {
  const ctx = gitContext(repo, true)!;
  const out = new Map<ObjectId, PinningCommit[]>();
  const head = (await ctx.git.head()).oid;
  if (!head) return out;
  const pins = new Map<string, ObjectId | null>();
  const pinIn = async (oid: string): Promise<{ blob: string | undefined; commit: ObjectId | null }> => {
    const blob = await ctx.git.blobId(oid, ctx.pinGitPath);
    if (!blob) return { blob, commit: null };
    if (!pins.has(blob)) {
      try {
        const bytes = await ctx.git.readFile(oid, ctx.pinGitPath);
        pins.set(blob, parsePin(bytes!.toString('utf8'), ctx.pinGitPath).commit);
      } catch {
        pins.set(blob, null);
      }
    }
    return { blob, commit: pins.get(blob)! };
  };
  // Every parent, not just the first: a pin changed on a branch that was
  // merged in is still the commit that pinned that data.
  const pinOfCommit = new Map<string, { blob: string | undefined; commit: ObjectId | null }>();
  const pinFor = async (oid: string) => {
    let p = pinOfCommit.get(oid);
    if (!p) {
      p = await pinIn(oid).catch(() => ({ blob: undefined, commit: null }));
      pinOfCommit.set(oid, p);
    }
    return p;
  };
  const found: (PinningCommit & { commit: ObjectId; time: number })[] = [];
  const seen = new Set<string>([head]);
  const queue = [head];
  while (queue.length > 0 && seen.size <= limit) {
    const oid = queue.shift()!;
    const c: GitCommitInfo | undefined = await ctx.git.commit(oid).catch(() => undefined);
    if (!c) continue;
    const cur = await pinFor(oid);
    const parents = await Promise.all(c.parents.map((p) => pinFor(p)));
    if (cur.commit && parents.every((p) => p.blob !== cur.blob && p.commit !== cur.commit)) {
      found.push({ oid: c.oid, summary: c.summary, date: new Date(c.time).toISOString(), commit: cur.commit, time: c.time });
    }
    for (const p of c.parents) {
      if (seen.has(p)) continue;
      seen.add(p);
      queue.push(p);
    }
  }
  found.sort((a, b) => b.time - a.time || (a.oid < b.oid ? -1 : 1));
  for (const f of found) out.set(f.commit, [...(out.get(f.commit) ?? []), { oid: f.oid, summary: f.summary, date: f.date }]);
  return out;
}

