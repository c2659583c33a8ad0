/**
 * Revisions as users type them: lode names (HEAD, branches, tags, commit ID
 * prefixes, `~n`, `^n`) and, inside a git work tree, git revisions resolved
 * through the pin file they committed. `lode:` and `git:` force one reading.
 */
import { isLodeError, NotFoundError, UnknownRevisionError } from '../core/errors.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ObjectId } from '../core/id.js';
import { readCommit, resolveRevision, type ResolvedRevision } from '../graph/commits.js';
import { RefStore } from '../graph/refs.js';
import { ErasureLog } from '../graph/erasure.js';
import type { Repository } from './repository.js';
import { gitContext, readPinAt } from '../git/pin-file.js';

/** RevisionSource says where a revision was found. */
export interface ResolvedAny extends ResolvedRevision {
  /** Set when the revision was a git revision: the git commit whose pin named the lode commit. */
  git?: { rev: string; oid: string };
}

/** MERGE_HEAD names the commit being merged while a merge waits for its commit. */
export const MERGE_HEAD = 'MERGE_HEAD';

/**
 * resolveRev resolves a revision: `lode:REV` as a lode revision, `git:REV` as
 * a git revision, anything else as a lode revision first and, when lode has
 * no such name and the workspace is inside git, as a git revision. A pinned
 * commit missing locally is fetched (metadata only) from the default remote.
 */
export async function resolveRev(repo: Repository, rev: string): Promise<ResolvedAny> {
  if (rev.startsWith('lode:')) {
    try {
      return resolveLode(repo, rev.slice(5));
    } catch (e) {
      // Name the revision as the user typed it, prefix included.
      if (isLodeError(e, 'UNKNOWN_REVISION')) throw new UnknownRevisionError(rev, { hint: e.hint, cause: e });
      throw e;
    }
  }
  if (rev.startsWith('git:')) return resolveGit(repo, rev.slice(4));
  try {
    return resolveLode(repo, rev);
  } catch (e) {
    // HEAD~9 past the start of lode's history is lode's error, not a cue to read git's HEAD~9.
    if (!isLodeError(e, 'UNKNOWN_REVISION') || lodeKnowsName(repo, rev)) throw e;
    const ctx = gitContext(repo, false);
    if (!ctx) throw e;
    try {
      return await resolveGit(repo, rev);
    } catch (g) {
      if (!isLodeError(g, 'UNKNOWN_REVISION')) throw g;
      throw new UnknownRevisionError(rev, { hint: `neither lode nor git has a revision by that name (${(e as Error & { hint?: string }).hint ?? 'no lode branch, tag or commit'})`, cause: g });
    }
  }
}

/** lodeKnowsName says whether the name part of `rev` (before `~n`/`^n`) is HEAD, MERGE_HEAD or a lode branch or tag. */
function lodeKnowsName(repo: Repository, rev: string): boolean {
  const base = rev.replace(/(~\d*|\^\d*)+$/, '');
  if (base === 'HEAD' || base === '@' || base === MERGE_HEAD) return true;
  // A lode commit ID prefix (even an ambiguous one) is lode's to explain.
  if (/^[0-9a-f]{4,64}$/.test(base) && repo.store.findObjectsByPrefix(base).length > 0) return true;
  const name = base.replace(/^refs\/(heads|tags)\//, '');
  return repo.refs.get('heads', name) !== undefined || repo.refs.get('tags', name) !== undefined || remoteTrackingRef(repo, base) !== undefined;
}

/**
 * remoteTrackingRefs is the store of a remote's tracking refs: where each of
 * its branches and tags pointed when last fetched (or pushed to).
 */
export function remoteTrackingRefs(repo: Repository, remote: string): RefStore {
  return new RefStore(path.join(repo.lodeDir, 'remotes', remote));
}

/**
 * remoteTrackingRef reads a remote-tracking name, `REMOTE/BRANCH` or
 * `refs/remotes/REMOTE/BRANCH`, as the last fetch recorded it; undefined
 * when the name is not one.
 */
export function remoteTrackingRef(repo: Repository, name: string): ObjectId | undefined {
  const full = name.replace(/^refs\/remotes\//, '');
  const cut = full.indexOf('/');
  if (cut <= 0 || cut === full.length - 1) return undefined;
  const remote = full.slice(0, cut);
  if (remote.startsWith('.') || !fs.existsSync(path.join(repo.lodeDir, 'remotes', remote))) return undefined;
  return remoteTrackingRefs(repo, remote).get('heads', full.slice(cut + 1));
}

/** RemoteBranch is a remote-tracking branch: `remote/name` at `id`. */
export interface RemoteBranch {
  remote: string;
  name: string;
  id: ObjectId;
}

/** listRemoteBranches returns every remote-tracking branch of every remote this workspace has fetched from. */
export function listRemoteBranches(repo: Repository): RemoteBranch[] {
  let remotes: string[];
  try {
    remotes = fs.readdirSync(path.join(repo.lodeDir, 'remotes'), { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  } catch {
    return [];
  }
  return remotes.flatMap((remote) => remoteTrackingRefs(repo, remote).list('heads').map((b) => ({ remote, name: b.name, id: b.id })));
}

function resolveLode(repo: Repository, rev: string): ResolvedAny {
  if (rev === MERGE_HEAD || rev.startsWith(`${MERGE_HEAD}~`) || rev.startsWith(`${MERGE_HEAD}^`)) {
    const id = repo.mergeHead();
    if (!id) throw new UnknownRevisionError(rev, { hint: 'no merge is in progress' });
    return resolveRevision(repo.store, repo.refs, id + rev.slice(MERGE_HEAD.length));
  }
  try {
    return resolveRevision(repo.store, repo.refs, rev);
  } catch (e) {
    // Branches and tags first (a local branch may be called `origin/x`), then remote-tracking names.
    if (!isLodeError(e, 'UNKNOWN_REVISION')) throw e;
    const suffix = /(~\d*|\^\d*)+$/.exec(rev)?.[0] ?? '';
    const base = rev.slice(0, rev.length - suffix.length);
    const id = remoteTrackingRef(repo, base) ?? rewrittenCommit(repo, base, `commit ${base}`);
    if (!id) throw e;
    return resolveRevision(repo.store, repo.refs, id + suffix);
  }
}

/**
 * rewrittenCommit follows an erasure record (`lode forget`): a commit ID (or
 * a prefix of at least 4 hex digits) that an erasure replaced resolves to its
 * rewritten commit, with a one-line notice naming `who`. Undefined when no
 * record names it, or when the store still holds that commit.
 */
export function rewrittenCommit(repo: Repository, idOrPrefix: string, who: string): ObjectId | undefined {
  if (!/^[0-9a-f]{4,64}$/.test(idOrPrefix)) return undefined;
  const log = new ErasureLog(repo.lodeDir);
  if (log.ids().length === 0) return undefined;
  const old = log.findOld(idOrPrefix);
  if (old.length !== 1 || repo.store.hasObject(old[0])) return undefined;
  const next = log.follow(old[0]);
  if (!next) return undefined;
  repo.notice(`note: ${who} was rewritten by erasure ${next.record.slice(0, 12)} (lode forget): using ${next.id.slice(0, 12)}, the same data minus what was erased`);
  return next.id;
}

async function resolveGit(repo: Repository, rev: string): Promise<ResolvedAny> {
  const ctx = gitContext(repo, true)!;
  const oid = await ctx.git.resolve(rev);
  const pin = await readPinAt(ctx, oid, rev);
  const id = await pinnedCommit(repo, pin.commit, `lode.lock at git ${rev}`, `the pin file at git ${rev}`);
  return { id, commit: readCommit(repo.store, id), git: { rev, oid } };
}

/**
 * pinnedCommit is the lode commit a pin names, in the local store: fetched
 * (metadata) from the default remote when missing, and followed through the
 * erasure records when `lode forget` replaced it (with a one-line notice),
 * fetching the remote's records when the commit is found nowhere.
 */
export async function pinnedCommit(repo: Repository, id: ObjectId, pinName: string, missingWho = pinName): Promise<ObjectId> {
  const who = `lode commit ${id.slice(0, 12)}, pinned by ${pinName},`;
  const next = rewrittenCommit(repo, id, who);
  if (next) return next;
  try {
    await ensureCommit(repo, id, missingWho);
    return id;
  } catch (e) {
    // The remote may hold an erasure record this workspace has not fetched yet.
    if (!isLodeError(e, 'NOT_FOUND') || !(await fetchRecords(repo))) throw e;
    const after = rewrittenCommit(repo, id, who);
    if (!after) throw e;
    return after;
  }
}

/** fetchRecords downloads the default remote's erasure records this workspace lacks; true when there were some. */
async function fetchRecords(repo: Repository): Promise<boolean> {
  const remoteName = repo.config.defaultRemote();
  if (!remoteName) return false;
  // The sync layer loads only when a remote is asked: resolving a revision locally never needs it.
  const [{ openRemote }, { pullRecords }] = await Promise.all([import('../sync/open.js'), import('../sync/erase.js')]);
  const r = await openRemote(repo, remoteName);
  try {
    return (await pullRecords(r.store.backend, new ErasureLog(repo.lodeDir))).length > 0;
  } finally {
    await r.store.backend.close?.();
  }
}

/**
 * ensureCommit makes sure a commit and its trees are in the local store,
 * fetching them (not file contents) from the default remote when missing.
 */
export async function ensureCommit(repo: Repository, id: ObjectId, who: string): Promise<void> {
  if (repo.store.hasObject(id)) return;
  const remoteName = repo.config.defaultRemote();
  const missing = () =>
    new NotFoundError(`${who} names lode commit ${id.slice(0, 12)}, which is not in the local store${remoteName ? ` nor on remote ${remoteName}` : ''}`, {
      hint: remoteName
        ? 'whoever made that commit has not pushed it: ask them to `lode push`, then try again'
        : 'add the remote it was pushed to (`lode remote add origin URL` + `lode remote default origin`), then try again',
    });
  if (!remoteName) throw missing();
  const [{ openRemote }, { fetchCommits }] = await Promise.all([import('../sync/open.js'), import('../sync/fetch.js')]);
  const r = await openRemote(repo, remoteName);
  try {
    await r.store.refresh();
    if (!r.store.location(id)) throw missing();
    await fetchCommits({ store: repo.store, remote: r.store, commits: [id], metadataOnly: true });
  } finally {
    await r.store.backend.close?.();
  }
  if (!repo.store.hasObject(id)) throw missing();
}
