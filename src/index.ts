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
 */
export { Repository } from './repo/repository.js';
export * from './commands/index.js';
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
  isLodeError,
  type ErrorCode,
} from './core/errors.js';
export type { ProgressEvent, ProgressSink } from './core/progress.js';
export type { ObjectId } from './core/id.js';
export type { Change, ChangeStatus } from './graph/diff.js';
export { DEFAULT_CHUNKING, type ChunkerParams } from './core/chunker.js';
