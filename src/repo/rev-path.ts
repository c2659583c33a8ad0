/**
 * `REV:PATH` as the read commands take it (`lode cat v1:data/labels.csv`,
 * `lode ls HEAD~2:data`): a revision, a colon, and a path from the top of the
 * workspace, as in git. A path starting with `./` or `../` is relative to the
 * working directory instead.
 */
import { UsageError } from '../core/errors.js';
import type { TreePool } from '../graph/trees.js';
import { headSnapshot, INDEX_REV, resolveSnapshot, WORKSPACE_REV, type Snapshot } from './snapshot.js';
import type { Repository } from './repository.js';
import { resolveRev } from './revisions.js';

/** RevPath is a `REV:PATH` split in two; `path` is undefined when there was no colon. */
export interface RevPath {
  rev: string;
  path?: string;
}

/**
 * parseRevPath splits `REV:PATH` at the colon that ends the revision: the
 * first one after a `lode:` / `git:` prefix, or after `:index` / `:workspace`
 * (so `git:HEAD~1:data/x` and `:index:data/x` work). Without a colon the
 * whole string is the revision.
 */
export function parseRevPath(spec: string): RevPath {
  for (const special of [INDEX_REV, WORKSPACE_REV]) {
    if (spec === special) return { rev: spec };
    if (spec.startsWith(`${special}:`)) return { rev: special, path: spec.slice(special.length + 1) };
  }
  const prefix = /^(lode|git):/.exec(spec)?.[0] ?? '';
  const rest = spec.slice(prefix.length);
  const colon = rest.indexOf(':');
  if (colon < 0) return { rev: spec };
  const rev = prefix + rest.slice(0, colon);
  if (rev === '' || rev === prefix) throw new UsageError(`no revision before the colon in ${JSON.stringify(spec)}`, { hint: 'write REV:PATH, e.g. `HEAD:data/labels.csv` or `v1:data/`' });
  return { rev, path: rest.slice(colon + 1) };
}

/**
 * revPathToRepoPath turns the PATH of `REV:PATH` into a repo-relative path
 * ('' for the top): from the top of the workspace, or from `cwd` when it
 * starts with `./` or `../` (or is `.`/`..`). Trailing slashes are dropped.
 */
export function revPathToRepoPath(repo: Repository, path: string, cwd?: string): string {
  if (path === '.' || path === '..' || path.startsWith('./') || path.startsWith('../')) return repo.toRepoPath(path, cwd);
  const p = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p.split('/').some((part) => part === '..' || part === '.')) return repo.toRepoPath(p, repo.root);
  return p;
}

/**
 * versionSnapshot resolves the revision of a `REV:PATH` to the snapshot it
 * names: a commit (HEAD on an unborn branch is the empty tree), or the index.
 * The workspace is refused: its files are on disk to be read as they are.
 */
export async function versionSnapshot(repo: Repository, rev: string, pool: TreePool): Promise<Snapshot> {
  if (rev === WORKSPACE_REV) throw new UsageError(`${WORKSPACE_REV} is the files on disk: read them there`, { hint: 'give a commit (HEAD, a branch, a tag, an ID) or :index' });
  if (rev === INDEX_REV) return resolveSnapshot(repo, rev, pool, { index: await repo.readIndex() });
  if (rev === 'HEAD' && !repo.refs.headCommit()) return headSnapshot(repo);
  const r = await resolveRev(repo, rev);
  return { label: rev, kind: 'commit', tree: r.commit.tree, commit: r.id, datasets: r.commit.datasets };
}
