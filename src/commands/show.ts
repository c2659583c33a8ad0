/**
 * `lode show REV`: one commit as `lode log` describes it, with what it
 * changed against its first parent as `lode diff` reports it.
 */
import type { ProgressSink } from '../core/progress.js';
import type { CommitRecord } from '../core/record.js';
import { readCommit } from '../graph/commits.js';
import { readRecord } from '../repo/provenance.js';
import { diff, type DiffResult } from './diff.js';
import { log, type LogEntry } from './log.js';
import type { Repository } from '../repo/repository.js';

export interface ShowOptions {
  /** The commit to show (default HEAD). */
  rev?: string;
  /** Add the per-directory balance (`diff --stat`). */
  stat?: boolean;
  /** Diff changed table files row by row (default true). */
  tables?: boolean;
  /** Key columns matching rows of table files. */
  key?: string[];
  progress?: ProgressSink;
}

/** ShowResult is the stable shape of `lode show --json` (docs/cli.md). */
export interface ShowResult {
  commit: LogEntry;
  /** The commit's record in full: provenance and check results (commits with a record only). */
  record?: CommitRecord;
  /** The change against the first parent (against the empty tree for a first commit). */
  diff: DiffResult;
}

/** show describes one commit and its change against its first parent. */
export async function show(repo: Repository, options: ShowOptions = {}): Promise<ShowResult> {
  const { commits } = await log(repo, { rev: options.rev ?? 'HEAD', limit: 1 });
  const commit = commits[0];
  const d = await diff(repo, {
    from: commit.parents[0] ?? null,
    to: commit.id,
    stat: options.stat,
    tables: options.tables,
    key: options.key,
    progress: options.progress,
  });
  // Name the sides as the user would: the parent as REV^, the commit as asked.
  const rev = options.rev ?? 'HEAD';
  if (commit.parents[0]) d.from.rev = `${rev}^`;
  d.to.rev = rev;
  const record = commit.record ? readRecord(repo, readCommit(repo.store, commit.id)) : undefined;
  return { commit, ...(record ? { record } : {}), diff: d };
}
