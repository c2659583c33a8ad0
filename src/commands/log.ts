import type { Commit } from '../core/encoding.js';
import { provenanceMark, readRecord, type ChecksMark, type ProvenanceMark } from '../repo/provenance.js';
import type { ObjectId } from '../core/id.js';
import { walkHistory } from '../graph/commits.js';
import { readCommit, resolveRevision } from '../graph/commits.js';
import { lookupPath, TreePool } from '../graph/trees.js';
import type { Repository } from '../repo/repository.js';
import { pinHistory, type PinningCommit } from '../git/pin-file.js';
import { resolveRev } from '../repo/revisions.js';

export interface LogOptions {
  /** Start here (default HEAD). */
  rev?: string;
  /** Include every branch and tag. */
  all?: boolean;
  /** At most this many commits. */
  limit?: number;
  /** Also list the git commits that pinned each lode commit (needs git). */
  git?: boolean;
  /** Only commits that changed one of these paths (absolute or relative to `cwd`). */
  paths?: string[];
  cwd?: string;
}

export interface LogEntry {
  id: ObjectId;
  parents: ObjectId[];
  tree: ObjectId;
  author: string;
  /** ISO-8601 UTC. */
  date: string;
  message: string;
  datasets: string[];
  git?: string;
  /** With `git`: git commits whose change to lode.lock named this commit, newest first. */
  pinnedBy?: PinningCommit[];
  files: number;
  bytes: number;
  /** Branches and tags pointing here, e.g. ["HEAD -> main", "tag: v1"]. */
  refs: string[];
  /** The commit's record object, when it has one. */
  record?: ObjectId;
  /** How the version was made, in short (commits with provenance). */
  provenance?: ProvenanceMark;
  /** What the data contract found at commit time, in short. */
  checks?: ChecksMark;
}

export interface LogResult {
  commits: LogEntry[];
}

/** log lists commits reachable from a revision (or all refs), newest first. */
export async function log(repo: Repository, options: LogOptions = {}): Promise<LogResult> {
  const starts: ObjectId[] = [];
  if (options.all) {
    for (const b of repo.refs.list('heads')) starts.push(b.id);
    for (const t of repo.refs.list('tags')) starts.push(t.id);
    const h = repo.refs.headCommit();
    if (h) starts.push(h);
  } else {
    if (options.rev === undefined && !repo.refs.headCommit()) return { commits: [] };
    starts.push((await resolveRev(repo, options.rev ?? 'HEAD')).id);
  }
  const labels = new Map<ObjectId, string[]>();
  const label = (id: ObjectId, text: string) => labels.set(id, [...(labels.get(id) ?? []), text]);
  const head = repo.refs.head();
  const headId = repo.refs.headCommit();
  if (head.kind === 'detached' && headId) label(headId, 'HEAD');
  for (const b of repo.refs.list('heads')) label(b.id, head.kind === 'branch' && head.name === b.name ? `HEAD -> ${b.name}` : b.name);
  for (const t of repo.refs.list('tags')) label(t.id, `tag: ${t.name}`);
  const pool = new TreePool(repo.store);
  const commits: LogEntry[] = [];
  const limit = options.limit ?? Infinity;
  const paths = (options.paths ?? []).map((p) => repo.toRepoPath(p, options.cwd));
  for (const { id, commit } of walkHistory(repo.store, starts)) {
    if (commits.length >= limit) break;
    if (paths.length > 0 && !changesPaths(repo, pool, commit.tree, commit.parents, paths)) continue;
    let files = 0;
    let bytes = 0;
    for (const e of pool.readTree(commit.tree)) {
      files += e.files;
      bytes += e.size;
    }
    commits.push({
      id,
      parents: commit.parents,
      tree: commit.tree,
      author: commit.author,
      date: new Date(commit.time).toISOString(),
      message: commit.message,
      datasets: commit.datasets,
      ...(commit.git ? { git: commit.git } : {}),
      ...recordMarks(repo, commit),
      files,
      bytes,
      refs: labels.get(id) ?? [],
    });
  }
  if (options.git) {
    const pins = await pinHistory(repo);
    for (const c of commits) c.pinnedBy = pins.get(c.id) ?? [];
  }
  return { commits };
}

/** recordMarks reads a commit's record in short; an unreadable record shows as none (fsck reports it). */
function recordMarks(repo: Repository, commit: Commit): Pick<LogEntry, 'record' | 'provenance' | 'checks'> {
  if (!commit.record) return {};
  try {
    const r = readRecord(repo, commit);
    return {
      record: commit.record,
      ...(r?.provenance ? { provenance: provenanceMark(r.provenance) } : {}),
      ...(r?.checks ? { checks: { rules: r.checks.rules, violations: r.checks.violations.length, forced: r.checks.forced } } : {}),
    };
  } catch {
    return { record: commit.record };
  }
}

/**
 * changesPaths says whether a commit changed any of `paths`: the entry there
 * (a file, or a whole directory by its tree ID) differs from its parent's —
 * from every parent's, for a merge, as git shows a merge only when it differs
 * from all the sides it joined. A root commit changed what it has.
 */
function changesPaths(repo: Repository, pool: TreePool, tree: ObjectId, parents: ObjectId[], paths: string[]): boolean {
  const at = (root: ObjectId, p: string) => (p === '' ? root : lookupPath(pool, root, p)?.id);
  const mine = paths.map((p) => at(tree, p));
  if (parents.length === 0) return mine.some((x) => x !== undefined);
  return parents.every((parent) => {
    const theirs = readCommit(repo.store, parent).tree;
    return paths.some((p, i) => at(theirs, p) !== mine[i]);
  });
}
