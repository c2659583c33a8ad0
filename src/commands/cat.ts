/**
 * `lode cat REV:PATH`: one file of any version, as verified pieces, without
 * a checkout. Content the cache lacks is fetched first from the default
 * remote — that file only.
 */
import { isLodeError, MissingContentError, NotFoundError, UsageError } from '../core/errors.js';
import type { EntryKind } from '../core/encoding.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { streamCachedFile } from '../objects/file-stream.js';
import { lookupPath, TreePool } from '../graph/trees.js';
import { fetchCommits, type FetchResult } from '../sync/fetch.js';
import { openRemote } from '../sync/open.js';
import type { Repository } from '../repo/repository.js';
import { parseRevPath, revPathToRepoPath, versionSnapshot } from '../repo/rev-path.js';

export interface CatOptions {
  /** `REV:PATH`, or a bare PATH for HEAD:PATH. */
  spec: string;
  /** Where `./` and `../` paths start (default process.cwd()). */
  cwd?: string;
  /** Fetch missing content from the default remote (default true). */
  fetch?: boolean;
  progress?: ProgressSink;
}

/** CatResult describes the file; `content` yields its bytes, each piece verified before it is yielded. */
export interface CatResult {
  rev: string;
  commit: ObjectId | null;
  /** Repo-relative path. */
  path: string;
  kind: Exclude<EntryKind, 'tree'>;
  id: ObjectId;
  size: number;
  /** What was fetched from the default remote first, when the cache lacked the file. */
  fetched: (FetchResult & { remote: string }) | null;
  content: AsyncIterable<Buffer>;
}

/**
 * cat finds the file at PATH in REV and returns a stream of its content.
 * NotFoundError when PATH is not in REV, UsageError when it is a directory,
 * MissingContentError when the content is in no cache or remote reachable.
 * Errors about the file itself are thrown before the stream starts.
 */
export async function cat(repo: Repository, options: CatOptions): Promise<CatResult> {
  const parsed = parseRevPath(options.spec);
  const rev = parsed.path === undefined ? 'HEAD' : parsed.rev;
  const path = revPathToRepoPath(repo, parsed.path ?? parsed.rev, options.cwd);
  if (path === '') throw new UsageError(`${options.spec} names the top of the workspace, not a file`, { hint: '`lode ls REV` lists it' });
  // Over objects/, then the index's kept trees: :index reads below a tree objects/ holds through it.
  const pool = new TreePool(repo.treeReader());
  const snap = await versionSnapshot(repo, rev, pool);
  const entry = lookupPath(pool, snap.tree, path);
  if (!entry) throw new NotFoundError(`${path} is not in ${rev}`, { hint: `\`lode ls ${rev}:${parentOf(path)}\` lists what is there` });
  if (entry.kind === 'tree') throw new UsageError(`${path} is a directory in ${rev}`, { hint: `list it with \`lode ls ${rev}:${path}\`` });
  const ref = { kind: entry.kind, id: entry.id, size: entry.size };
  let fetched: CatResult['fetched'] = null;
  if (!hasContent(repo, ref)) {
    const remote = repo.config.defaultRemote();
    if (!snap.commit || options.fetch === false || !remote) {
      throw new MissingContentError(`the content of ${path} at ${rev} is not fetched yet`, {
        hint: remote && snap.commit
          ? `\`lode fetch ${remote} ${snap.commit.slice(0, 12)}\` brings that version's data (or cat without --no-fetch: just this file)`
          : remote
            ? `\`lode fetch ${remote}\` brings it from the default remote`
            : 'set the remote it was pushed to (`lode remote add origin URL`), then cat again',
      });
    }
    fetched = { remote, ...(await fetchPath(repo, snap.commit, path, rev, options.progress)) };
  }
  return { rev, commit: snap.commit ?? null, path, kind: entry.kind, id: entry.id, size: entry.size, fetched, content: streamCachedFile(repo.store, ref, `${path} at ${rev}`) };
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function hasContent(repo: Repository, ref: { kind: string; id: ObjectId; size: number }): boolean {
  if (ref.size === 0) return true;
  return repo.store.hasFile(ref.id) && (ref.kind !== 'chunked' || repo.store.hasObject(ref.id));
}

/** fetchPath brings the content of one path of a commit from the default remote into the cache. */
async function fetchPath(repo: Repository, commit: ObjectId, path: string, rev: string, progress?: ProgressSink): Promise<FetchResult> {
  return repo.withLock('cat', async () => {
    const r = await openRemote(repo, undefined);
    try {
      await r.store.refresh();
      return await fetchCommits({ store: repo.store, remote: r.store, commits: [commit], data: [commit], paths: [path], progress });
    } catch (e) {
      if (!isLodeError(e, 'NOT_FOUND')) throw e;
      throw new MissingContentError(`the content of ${path} at ${rev} is neither in the local cache nor on remote ${r.name}`, {
        hint: 'whoever committed it has not pushed it: ask them to `lode push`, then try again',
        cause: e,
      });
    } finally {
      await r.store.backend.close?.();
    }
  });
}
