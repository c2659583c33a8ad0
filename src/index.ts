/**
 * lode's library API: open a repository and call the same command functions
 * the CLI uses. Every function returns a typed result and throws LodeError
 * (with a stable `code` and a `hint`) on failure.
 *
 *   import { Repository, add, commit, diff } from 'lode';
 *   const repo = Repository.open('/data/project');
 *   await add(repo, { paths: ['data'] });
 *   await commit(repo, { message: 'new labels' });
 *   const d = await diff(repo, { from: 'HEAD~1', to: 'HEAD' });
 *
 * Exports are listed by name: what is here is the public API (documented in
 * docs/library.md, each name imported by test/package-exports.test.ts);
 * internal engines and helpers stay out.
 */
export { Repository } from './repo/repository.js';
export { resolveRev, type ResolvedAny } from './repo/revisions.js';
export { WORKSPACE_REV, INDEX_REV } from './repo/snapshot.js';

export { init, type InitOptions, type InitResult } from './commands/init.js';
export { add, type AddOptions, type AddResult } from './commands/add.js';
export { rm, type RmOptions, type RmResult } from './commands/rm.js';
export { status, type StatusOptions, type StatusResult } from './commands/status.js';
export { commit, type CommitOptions, type CommitResult } from './commands/commit.js';
export { log, type LogOptions, type LogEntry, type LogResult } from './commands/log.js';
export { diff, type DiffOptions, type DiffResult, type DiffSide, type DirStat } from './commands/diff.js';
export { show, type ShowOptions, type ShowResult } from './commands/show.js';
export { ls, type LsOptions, type LsEntry, type LsResult } from './commands/ls.js';
export { cat, type CatOptions, type CatResult } from './commands/cat.js';
export { checkout, checkoutFetching, type CheckoutOptions, type CheckoutResult } from './commands/checkout.js';
export { merge, type MergeOptions, type MergeResult } from './commands/merge.js';
export { listBranches, createBranch, deleteBranch, listTags, createTag, deleteTag, type BranchInfo, type BranchListResult, type TagInfo } from './commands/refs.js';
export { gc, fsck, unlock, type GcOptions, type GcResult, type GcPushedResult, type FsckProblem, type FsckResult, type UnlockResult } from './commands/maintenance.js';
export { config, type ConfigOptions, type ConfigResult } from './commands/config.js';
export type { RemoteSettings } from './repo/config.js';
export { addRemote, modifyRemote, listRemotes, removeRemote, renameRemote, setDefaultRemote, type RemoteAddOptions, type RemoteListResult } from './commands/remote.js';
export {
  push,
  fetch,
  pull,
  clone,
  remoteStatus,
  remoteGc,
  type PushCommandOptions,
  type PushCommandResult,
  type FetchCommandOptions,
  type FetchCommandResult,
  type PullOptions,
  type PullResult,
  type CloneOptions,
  type CloneResult,
  type RemoteStatusResult,
} from './commands/sync.js';
export { lsRemote, getRemote, type RemoteReadOptions, type RemoteLsResult, type GetRemoteResult } from './commands/remote-read.js';
export { restorePinned, installHooks, type RestorePinnedResult, type InstallHooksOptions, type InstallHooksResult } from './commands/git.js';
export { pinHistory, type PinningCommit } from './git/pin-file.js';

export { renderHtmlReport, type HtmlReportOptions } from './ui/report-html.js';

export {
  LodeError,
  NotFoundError,
  CorruptObjectError,
  ConflictError,
  LockedError,
  RefConflictError,
  ConfigError,
  UnknownRevisionError,
  UsageError,
  NotARepoError,
  RemoteError,
  UnsupportedFormatError,
  isLodeError,
  type ErrorCode,
} from './core/errors.js';
export type { ProgressEvent, ProgressPhase, ProgressSink } from './core/progress.js';
export type { ObjectId } from './core/id.js';
export type { Change, ChangeStatus } from './graph/diff.js';
export { DEFAULT_CHUNKING, type ChunkerParams } from './core/chunker.js';
export type { RemoteOptions } from './storage/registry.js';
