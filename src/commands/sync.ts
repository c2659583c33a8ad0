import * as fs from 'node:fs';
import * as path from 'node:path';
import { isLodeError, LodeError, NotFoundError, RefConflictError, RemoteError, UsageError } from '../core/errors.js';
import type { ChunkerParams } from '../core/chunker.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { normaliseRemoteUrl, type RemoteOptions } from '../storage/registry.js';
import { rmQuiet, writeFileAtomic } from '../storage/atomic.js';
import { isAncestor, readCommit, walkHistory } from '../graph/commits.js';
import { planPush, pushRef, type PushResult } from '../sync/push.js';
import { fetchCommits } from '../sync/fetch.js';
import { gcRemote, type RemoteGcResult } from '../sync/gc.js';
import { openRemote, type OpenedRemote } from '../sync/open.js';
import { Repository } from '../repo/repository.js';
import { resolveRev } from '../repo/revisions.js';
import type { RefStore } from '../graph/refs.js';
import { addRemote, modifyRemote } from './remote.js';
import { checkout, switchTo, type CheckoutResult } from './checkout.js';
import { splitOlder } from './cache-split.js';
import { copiesInto } from '../workspace/link.js';
import { merge, type MergeResult } from './merge.js';
import { ErasureLog } from '../graph/erasure.js';
import { pullRecords, pushRecords, remoteRecordIds } from '../sync/erase.js';

export interface PushCommandOptions {
  remote?: string;
  /** Branch to push (default: the current one). */
  branch?: string;
  /** Also push every tag. */
  tags?: boolean;
  force?: boolean;
  progress?: ProgressSink;
}

export interface PushCommandResult {
  remote: string;
  pushed: PushResult[];
}

/**
 * push sends a branch (and optionally tags) to a remote; see sync/push.ts.
 * The repository lock is held only to read what to push and, afterwards, to
 * record the remote-tracking refs: the upload runs without it, so status,
 * diff, log and commits work during a long push. What it reads unlocked is
 * immutable (objects named by their hash); a ref that moves meanwhile is
 * pushed next time.
 */
export async function push(repo: Repository, o: PushCommandOptions = {}): Promise<PushCommandResult> {
  const plan = await repo.withLock('push', async () => {
    const head = repo.refs.head();
    const branch = o.branch ?? (head.kind === 'branch' ? head.name : undefined);
    if (!branch) throw new UsageError('HEAD is detached: name the branch to push', { hint: 'e.g. `lode push origin main`' });
    const refs: { kind: 'heads' | 'tags'; name: string; tip: ObjectId | undefined }[] = [{ kind: 'heads', name: branch, tip: repo.refs.get('heads', branch) }];
    if (o.tags) for (const t of repo.refs.list('tags')) refs.push({ kind: 'tags' as const, name: t.name, tip: t.id });
    return { branch, refs, current: head.kind === 'branch' ? head.name : undefined };
  });
  const r = await openRemote(repo, o.remote, { create: true });
  const chunking = repo.config.settings().chunking;
  const pushed: PushResult[] = [];
  try {
    // Erasures (`lode forget`) travel first: the remote's are applied here
    // before anything is sent, ours are uploaded before any object.
    const log = new ErasureLog(repo.lodeDir);
    if ((await remoteRecordIds(r.store.backend)).some((id) => !log.has(id))) {
      // A fetch brings the rewritten history and applies the records (refs, workspace, cache).
      await repo.withLock('push', () => {
        // Like a plain fetch: every ref's history, and the data of the branch being pushed.
        const data: FetchData = (refs) => refs.filter((x) => x.kind === 'heads' && x.name === plan.branch).map((x) => x.id);
        return fetchInto(repo, r, { data }, o.progress);
      });
      for (const x of plan.refs) if (x.tip) x.tip = log.follow(x.tip)?.id ?? (x.kind === 'heads' ? repo.refs.get('heads', x.name) : x.tip);
    }
    await pushRecords(r.store.backend, log);
    const refuse = log.erased();
    const known = new Set(log.ids());
    const recheck = async () => {
      // Right before the commit point: an erasure that landed meanwhile stops this push.
      const landed = (await remoteRecordIds(r.store.backend)).filter((id) => !known.has(id));
      if (landed.length > 0) {
        throw new RefConflictError(`an erasure (lode forget) reached ${r.name} while you pushed: the ref was not moved`, { hint: '`lode fetch` applies it here; then push again' });
      }
    };
    const rewritten = (id: ObjectId) => log.follow(id)?.id;
    for (const x of plan.refs) {
      try {
        pushed.push(await pushRef({ store: repo.store, refs: repo.refs, tip: x.tip, remote: r.store, kind: x.kind, name: x.name, force: o.force, progress: o.progress, chunking, refuse, recheck, rewritten }));
      } catch (e) {
        // `lode pull` merges into the current branch only: for another one, say what does.
        if (!isLodeError(e, 'REF_CONFLICT') || x.kind !== 'heads' || x.name === plan.current || !e.hint?.includes('lode pull')) throw e;
        throw new RefConflictError(e.message, {
          hint: `\`lode fetch ${r.name}\`, then \`lode checkout ${x.name}\` and \`lode merge ${r.name}/${x.name}\`, then push again (or \`--force\` to overwrite)`,
          cause: e,
        });
      }
    }
  } finally {
    await r.store.backend.close?.();
    const branch = pushed[0];
    if (branch) {
      // A command that started during the upload may hold the lock: give it
      // time. The tracking ref is only a record (`lode fetch` rewrites it),
      // so failing to take the lock costs no data.
      try {
        await repo.withLock(
          'push',
          async () => {
            // The remote branch holds what we wrote; a fetch that ran meanwhile may know a newer value: keep that.
            // A new remote branch: the push found no `x` beside `x/y` there, so tracking refs that clash are stale.
            if (branch.from === null) for (const t of r.tracking.list('heads')) if (nameClash(plan.branch, [t.name])) r.tracking.delete('heads', t.name);
            const now = r.tracking.get('heads', plan.branch) ?? null;
            if (now === null || now === branch.from || (repo.store.hasObject(now) && isAncestor(repo.store, now, branch.to))) r.tracking.set('heads', plan.branch, branch.to);
          },
          { waitMs: Math.max(repo.lockWaitMs, 60_000) },
        );
      } catch (e) {
        if (!isLodeError(e, 'LOCKED')) throw e;
        repo.notice(`pushed, but ${r.name}/${plan.branch} was not recorded locally (${e.message}); \`lode fetch\` records it`);
      }
    }
  }
  return { remote: r.name, pushed };
}

export interface PushDeleteResult {
  remote: string;
  /** The remote branch deleted, and the commit it held. */
  deleted: { name: string; id: ObjectId };
}

/**
 * pushDelete deletes a branch on a remote, conditionally like every ref
 * write: only if it still holds what this workspace last saw there (its
 * remote-tracking ref), so a commit someone pushed since is never dropped
 * unseen. Data stays on the remote until `lode gc --remote` finds it unreachable.
 */
export async function pushDelete(repo: Repository, o: { remote?: string; branch: string }): Promise<PushDeleteResult> {
  const r = await openRemote(repo, o.remote);
  const where = `${r.name}/${o.branch}`;
  try {
    await r.store.refresh();
    const theirs = await r.store.ref('heads', o.branch);
    if (!theirs) throw new NotFoundError(`remote ${r.name} has no branch ${o.branch}`, { hint: `\`lode fetch ${r.name}\`, then \`lode branch -r\` lists its branches` });
    // Seen: fetched (the tracking ref), or the same commit as our branch of that name.
    const seen = r.tracking.get('heads', o.branch);
    if (seen !== theirs.id && repo.refs.get('heads', o.branch) !== theirs.id) {
      throw new RefConflictError(
        `${where} is at ${theirs.id.slice(0, 12)}, which ${seen ? `is not what you last saw there (${seen.slice(0, 12)})` : 'you have not fetched'}: not deleting commits you have not seen`,
        { hint: `\`lode fetch ${r.name}\`, look at them (\`lode log ${where}\`), then delete again` },
      );
    }
    await r.store.deleteRef('heads', o.branch, theirs);
    await repo.withLock('push', async () => r.tracking.delete('heads', o.branch), { waitMs: Math.max(repo.lockWaitMs, 60_000) });
    return { remote: r.name, deleted: { name: o.branch, id: theirs.id } };
  } finally {
    await r.store.backend.close?.();
  }
}

export interface FetchCommandResult {
  remote: string;
  /** Remote refs and where they point (old: the previous tracking value). */
  refs: { kind: 'heads' | 'tags'; name: string; id: ObjectId; old: ObjectId | null }[];
  /**
   * Remote refs this workspace cannot hold, left out (their data too): a
   * branch `x/y` beside a branch `x` (the remote accepted both; lode now
   * refuses such a push). The rest of the fetch is complete.
   */
  skipped: { kind: 'heads' | 'tags'; name: string; id: ObjectId; reason: string }[];
  /** Whose file data was fetched: `all` (every version), or these commits' (each one's own files, not its history's). */
  data: 'all' | ObjectId[];
  objects: number;
  files: number;
  /** File bytes downloaded. */
  bytes: number;
  /** File bytes copied from local files instead of downloaded. */
  reused: number;
  requests: number;
  /** Erasure records (`lode forget` elsewhere) fetched and applied here. */
  erasures?: { records: ObjectId[]; refsMoved: string[]; workspaceFiles: string[]; objectsDeleted: number };
}

/** nameClash returns a name in `taken` that is `name`'s folder (`x` for `x/y`) or inside it (`x/...` for `x`). */
function nameClash(name: string, taken: Iterable<string>): string | undefined {
  for (const t of taken) if (name.startsWith(`${t}/`) || t.startsWith(`${name}/`)) return t;
  return undefined;
}

/**
 * FetchData says which file data a fetch brings (metadata — commits, trees,
 * chunk lists — of every ref fetched always comes): `all` (every version,
 * history included), or the data of the commits a function picks from the
 * remote refs that are fetched (a clone: the branch it checks out).
 */
type FetchData = 'all' | ((refs: { kind: 'heads' | 'tags'; name: string; id: ObjectId }[]) => ObjectId[]);

async function fetchInto(repo: Repository, r: OpenedRemote, only: { branch?: string; paths?: string[]; data: FetchData; twins?: Map<ObjectId, string> }, progress?: ProgressSink): Promise<FetchCommandResult> {
  // Refs first, then packs: a push uploads its packs before it moves a ref,
  // so packs listed after the refs were read hold everything those refs name.
  const all = await r.store.refs();
  await r.store.refresh();
  // Every remote ref was listed: drop tracking refs of branches and tags
  // deleted there (`lode push --delete`), so their names are free again.
  const live = new Set(all.map((x) => `${x.kind}/${x.name}`));
  for (const kind of ['heads', 'tags'] as const) for (const t of r.tracking.list(kind)) if (!live.has(`${kind}/${t.name}`)) r.tracking.delete(kind, t.name);
  // Keep what a workspace can hold: of `x` and `x/y` (which an older lode
  // let a push create), the first in name order; skip and report the other.
  const skipped: FetchCommandResult['skipped'] = [];
  let refs: typeof all = [];
  const taken = { heads: new Set<string>(), tags: new Set<string>() };
  for (const x of [...all].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const clash = nameClash(x.name, taken[x.kind]);
    if (clash === undefined) {
      taken[x.kind].add(x.name);
      refs.push(x);
    } else if (!only.branch || x.name === only.branch) {
      const what = x.kind === 'heads' ? 'branch' : 'tag';
      skipped.push({ kind: x.kind, name: x.name, id: x.id, reason: `${what} ${clash} exists too, and a name cannot be both a ${what} and a folder of them` });
    }
  }
  if (only.branch) refs = refs.filter((x) => x.kind === 'heads' && x.name === only.branch);
  const headId = repo.refs.headCommit();
  const reuseFrom = headId ? readCommit(repo.store, headId).tree : undefined;
  const data = only.data === 'all' ? undefined : only.data(refs);
  const fetched = await fetchCommits({ store: repo.store, remote: r.store, commits: refs.map((x) => x.id), data, paths: only.paths, reuseFrom, twins: only.twins, progress });
  const out: FetchCommandResult = { remote: r.name, refs: [], skipped, data: data ?? 'all', ...fetched, requests: r.store.stats.requests };
  for (const x of refs) {
    const old = r.tracking.get(x.kind, x.name) ?? null;
    r.tracking.set(x.kind, x.name, x.id);
    // Tags are shared names: create the ones we lack, never move ours.
    if (x.kind === 'tags' && !repo.refs.get('tags', x.name)) {
      try {
        repo.refs.set('tags', x.name, x.id);
      } catch (e) {
        if (!isLodeError(e, 'REF_CONFLICT')) throw e;
        skipped.push({ kind: x.kind, name: x.name, id: x.id, reason: `no local tag made: ${e.message}` });
      }
    }
    out.refs.push({ kind: x.kind, name: x.name, id: x.id, old });
  }
  // Erasures made elsewhere (`lode forget`): move our refs, clean the workspace files and the cache.
  const records = await pullRecords(r.store.backend, new ErasureLog(repo.lodeDir));
  if (records.length > 0) {
    // Loaded only here: forget.js brings the table erasers (Parquet readers and writers), which every push, fetch and clone would load for nothing.
    const { applyRecords } = await import('./forget.js');
    const applied = await applyRecords(repo);
    out.erasures = { records, refsMoved: applied.refsMoved, workspaceFiles: applied.workspaceFiles, objectsDeleted: applied.objectsDeleted };
  }
  // Every version came whole: keep the older ones as their distinct chunks
  // (objects/split.ts), as gc would, now that the tips are known.
  if (only.data === 'all') await splitOlder(repo);
  return out;
}

export interface FetchCommandOptions {
  remote?: string;
  /**
   * Revisions whose file data to fetch, besides the metadata of every ref: a
   * remote branch or tag name, `REMOTE/BRANCH`, a commit ID (prefix), or any
   * revision `lode log` takes (`main~3`, `v1^`), resolved after the metadata
   * came.
   */
  revs?: string[];
  /** Fetch the file data of every version of every ref (history included). */
  all?: boolean;
  progress?: ProgressSink;
}

/**
 * fetch downloads the metadata (commits, trees, chunk lists) of every remote
 * branch and tag, and file data: of `revs` when given; of everything with
 * `all`; otherwise of the remote branch the current branch follows (the one
 * of the same name), which is what a later `lode pull` or checkout of it
 * needs. The workspace is not touched.
 */
export async function fetch(repo: Repository, o: FetchCommandOptions = {}): Promise<FetchCommandResult> {
  return repo.withLock('fetch', async () => {
    const r = await openRemote(repo, o.remote);
    try {
      const head = repo.refs.head();
      const revs = o.revs ?? [];
      const data: FetchData = o.all
        ? 'all'
        : (refs) => (revs.length > 0 || head.kind !== 'branch' ? [] : refs.filter((x) => x.kind === 'heads' && x.name === head.name).map((x) => x.id));
      const out = await fetchInto(repo, r, { data }, o.progress);
      if (o.all || revs.length === 0) return out;
      // The revisions are resolved against what just came (tracking refs, commits).
      const ids: ObjectId[] = [];
      // A whole commit ID the remote holds needs no local metadata (a commit no ref reaches, say a pin).
      for (const rev of revs) ids.push(/^[0-9a-f]{64}$/.test(rev) && r.store.location(rev) ? rev : await resolveFetchRev(repo, r.tracking, rev));
      const reuseFrom = repo.refs.headCommit();
      const more = await fetchCommits({ store: repo.store, remote: r.store, commits: [], data: ids, reuseFrom: reuseFrom ? readCommit(repo.store, reuseFrom).tree : undefined, progress: o.progress });
      return { ...out, data: ids, objects: out.objects + more.objects, files: out.files + more.files, bytes: out.bytes + more.bytes, reused: out.reused + more.reused, requests: r.store.stats.requests };
    } finally {
      await r.store.backend.close?.();
    }
  });
}

/**
 * resolveFetchRev resolves a revision named to `lode fetch`: a branch or tag
 * of the remote being fetched (`main`, `v1`) first, then `REMOTE/BRANCH`, then
 * anything else lode resolves (a commit ID prefix, `main~3`, a local tag).
 */
async function resolveFetchRev(repo: Repository, tracking: RefStore, rev: string): Promise<ObjectId> {
  const m = /^([^~^:]+)((?:[~^]\d*)*)$/.exec(rev);
  if (m && !m[1].includes('/')) {
    let id: ObjectId | undefined;
    try {
      id = tracking.get('heads', m[1]) ?? tracking.get('tags', m[1]);
    } catch {
      // not a name a ref can have: a revision lode resolves otherwise
    }
    if (id) return m[2] ? (await resolveRev(repo, `${id}${m[2]}`)).id : id;
  }
  return (await resolveRev(repo, rev)).id;
}

export interface PullOptions {
  remote?: string;
  /** Only these paths: their data is fetched and checked out; HEAD does not move. */
  paths?: string[];
  cwd?: string;
  force?: boolean;
  progress?: ProgressSink;
}

export interface PullResult {
  remote: string;
  branch: string;
  fetched: FetchCommandResult;
  /**
   * upToDate, fastForward (HEAD moved), merged (diverged histories, merged
   * with a merge commit), conflicts (the merge stopped, as `lode merge` does),
   * or paths (only the given paths were updated).
   */
  outcome: 'upToDate' | 'fastForward' | 'merged' | 'conflicts' | 'paths';
  checkout?: CheckoutResult;
  /** The merge of the remote branch, when the histories had diverged. */
  merge?: MergeResult;
}

/**
 * pull fetches the current branch from a remote and fast-forwards the
 * workspace to it, refusing (like checkout) to overwrite uncommitted work.
 * Diverged histories are merged with `lode merge REMOTE/BRANCH` (the same
 * three-way merge, conflicts included: they stop the pull the same way).
 */
export async function pull(repo: Repository, o: PullOptions = {}): Promise<PullResult> {
  const head = repo.refs.head();
  if (head.kind !== 'branch') throw new UsageError('HEAD is detached: check out a branch to pull into');
  const branch = head.name;
  const paths = (o.paths ?? []).map((p) => repo.toRepoPath(p, o.cwd));
  const fetched = await repo.withLock('pull', async () => {
    const r = await openRemote(repo, o.remote);
    try {
      // The data of what is merged or checked out: the remote branch's tip.
      return await fetchInto(repo, r, { branch, paths: paths.length ? paths : undefined, data: (refs) => refs.map((x) => x.id) }, o.progress);
    } finally {
      await r.store.backend.close?.();
    }
  });
  const theirs = fetched.refs.find((x) => x.kind === 'heads' && x.name === branch);
  const unheld = fetched.skipped.find((x) => x.kind === 'heads' && x.name === branch);
  if (unheld) {
    throw new RefConflictError(`cannot pull ${fetched.remote}/${branch}: ${unheld.reason}`, {
      hint: `rename it on the remote: whoever has it runs \`lode checkout -b NEW\`, \`lode push\`, then \`lode push --delete ${branch}\``,
    });
  }
  if (!theirs) throw new NotFoundError(`remote ${fetched.remote} has no branch ${branch}`, { hint: `push it first (\`lode push ${fetched.remote} ${branch}\`)` });
  const mine = repo.refs.get('heads', branch);
  if (paths.length > 0) {
    const co = await checkout(repo, { rev: theirs.id, paths, force: o.force, progress: o.progress });
    return { remote: fetched.remote, branch, fetched, outcome: 'paths', checkout: co };
  }
  if (mine === theirs.id) return { remote: fetched.remote, branch, fetched, outcome: 'upToDate' };
  if (mine && !isAncestor(repo.store, mine, theirs.id)) {
    if (isAncestor(repo.store, theirs.id, mine)) return { remote: fetched.remote, branch, fetched, outcome: 'upToDate' };
    const m = await merge(repo, { rev: `${fetched.remote}/${branch}`, force: o.force, progress: o.progress });
    const outcome = m.outcome === 'conflicts' ? 'conflicts' : m.outcome === 'merged' ? 'merged' : m.outcome === 'fastForward' ? 'fastForward' : 'upToDate';
    return { remote: fetched.remote, branch, fetched, outcome, merge: m, ...(m.checkout ? { checkout: m.checkout } : {}) };
  }
  const co = await switchTo(repo, { rev: theirs.id, advanceBranch: branch, force: o.force, progress: o.progress });
  return { remote: fetched.remote, branch, fetched, outcome: 'fastForward', checkout: co };
}

export type CloneOptions = RemoteOptions & {
  url: string;
  /** Directory to create (default: the last part of the URL). */
  dir?: string;
  cwd?: string;
  /** Remote name (default origin). */
  remote?: string;
  /** Branch to check out (default main, or the remote's only branch). */
  branch?: string;
  /** Fetch the file data of every version (default: the checked-out commit's only; history's metadata always comes). */
  all?: boolean;
  /** The new remote's options (S3 endpoint, region, credentials...) are those of `lode remote add`. */
  progress?: ProgressSink;
};

export interface CloneResult {
  root: string;
  remote: string;
  branch: string;
  commit: ObjectId;
  fetched: FetchCommandResult;
  checkout: CheckoutResult;
  /** Whether the clone resumed one an interruption had left in the directory. */
  resumed: boolean;
}

/** CLONE_MARKER is the file in `.lode/` that says a clone of a URL began there and has not ended. */
const CLONE_MARKER = 'clone-in-progress';

interface CloneMarker {
  /** The remote URL, normalised. */
  url: string;
  remote: string;
}

/**
 * interruptedClone says whether `root` holds a clone of `url` that did not
 * end (Ctrl-C, a kill, a crash): a `.lode/clone-in-progress` marker naming
 * that URL, or (a clone without the marker) a workspace with no commit
 * checked out whose remote has that URL. Returns the remote's name and
 * whether the marker says lode itself wrote the workspace's files.
 */
function interruptedClone(root: string, url: string): { remote: string; marked: boolean } | undefined {
  const lodeDir = path.join(root, '.lode');
  try {
    const m = JSON.parse(fs.readFileSync(path.join(lodeDir, CLONE_MARKER), 'utf8')) as CloneMarker;
    if (m.url === url && typeof m.remote === 'string') return { remote: m.remote, marked: true };
    return undefined;
  } catch {
    // no marker (or an unreadable one): look at the workspace itself
  }
  if (!fs.existsSync(path.join(lodeDir, 'HEAD'))) return undefined;
  try {
    const repo = Repository.open(root);
    if (repo.root !== root || repo.refs.headCommit() !== undefined) return undefined;
    const match = repo.config.remotes().find((r) => repo.config.remoteOptions(r.name)?.url === url);
    return match ? { remote: match.name, marked: false } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * clone makes a new workspace from a remote: init, add the remote, fetch,
 * check out a branch. Into a directory an interrupted clone of the same URL
 * left, it resumes: the objects already fetched are kept, the rest fetched.
 */
export async function clone(o: CloneOptions): Promise<CloneResult> {
  const cwd = o.cwd ?? process.cwd();
  const url = normaliseRemoteUrl(o.url, cwd); // refuse a bad URL before anything is created
  const base = o.url.replace(/\/+$/, '').split('/').pop() || 'lode-data';
  const root = path.resolve(cwd, o.dir ?? base);
  if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
    const left = interruptedClone(root, url);
    if (!left) throw new LodeError('ALREADY_EXISTS', `${root} exists and is not empty`, { hint: 'clone into a new or empty directory' });
    // A resumed clone that fails again leaves the directory for the next try.
    // One killed before `init` finished has the marker but no HEAD yet.
    const lodeDir = path.join(root, '.lode');
    writeCloneMarker(lodeDir, { url, remote: o.remote ?? left.remote });
    const repo = fs.existsSync(path.join(lodeDir, 'HEAD')) ? Repository.open(root) : Repository.init(root);
    return { ...(await cloneInto(repo, { ...o, remote: o.remote ?? left.remote }, cwd, left.marked)), resumed: true };
  }
  const existed = fs.existsSync(root);
  try {
    // The marker first, then the workspace: a kill at any point after this
    // line leaves a directory the same clone resumes.
    writeCloneMarker(path.join(root, '.lode'), { url, remote: o.remote ?? 'origin' });
    const repo = Repository.init(root);
    return { ...(await cloneInto(repo, o, cwd, false)), resumed: false };
  } catch (e) {
    // A failed clone leaves nothing behind: not even the half-made workspace.
    // (An interrupted one, which ends without coming here, leaves its marker: cloning again resumes it.)
    if (existed) fs.rmSync(path.join(root, '.lode'), { recursive: true, force: true });
    else fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

function writeCloneMarker(lodeDir: string, m: CloneMarker): void {
  fs.mkdirSync(lodeDir, { recursive: true });
  writeFileAtomic(path.join(lodeDir, CLONE_MARKER), JSON.stringify(m) + '\n');
}

/**
 * cloneInto adds (or, resuming, updates) the remote, fetches and checks out.
 * `overwrite`: the workspace's files were written by the interrupted clone
 * itself, so the checkout may replace them.
 */
async function cloneInto(repo: Repository, o: CloneOptions, cwd: string, overwrite: boolean): Promise<Omit<CloneResult, 'resumed'>> {
  const root = repo.root;
  const remoteName = o.remote ?? 'origin';
  const { dir: _dir, branch: _branch, remote: _remote, progress: _progress, all: _all, ...remoteOptions } = o;
  if (repo.config.remoteOptions(remoteName)) await modifyRemote(repo, { ...remoteOptions, name: remoteName, cwd });
  else await addRemote(repo, { ...remoteOptions, name: remoteName, cwd });
  // Where checkout copies bytes (no reflink, no hardlink), the fetch writes
  // each large file's workspace copy as its chunks arrive, beside the cache
  // copy, and the checkout renames it into place: no second pass after the fetch.
  // Not with --all: history's files are not checked out.
  const twins = !o.all && copiesInto(repo.store, repo.settings.cacheTypes, root) ? new Map<ObjectId, string>() : undefined;
  try {
    return await fetchAndSwitch(repo, o, remoteName, twins, overwrite);
  } finally {
    // Copies the checkout did not take (a path it skipped, a failure on the way).
    for (const f of twins?.values() ?? []) rmQuiet(f);
  }
}

/** fetchAndSwitch is the fetch and checkout of cloneInto, the remote set up; `twins` as in FetchOptions. */
async function fetchAndSwitch(repo: Repository, o: CloneOptions, remoteName: string, twins: Map<ObjectId, string> | undefined, overwrite: boolean): Promise<Omit<CloneResult, 'resumed'>> {
  const root = repo.root;
  const fetched = await repo.withLock('clone', async () => {
    const r = await openRemote(repo, remoteName);
    try {
      // The data of the branch checked out (metadata of all history, every
      // branch and tag); `all`: the data of every version too.
      const data: FetchData = o.all ? 'all' : (refs) => {
        const p = pickBranch(refs.filter((x) => x.kind === 'heads'), o.branch);
        return p ? [p.id] : [];
      };
      const result = await fetchInto(repo, r, { data, twins }, o.progress);
      // Chunk new files as the remote's data was chunked, so edits dedup against it.
      if (r.store.config) adoptChunking(repo, r.store.config.chunking);
      return result;
    } finally {
      await r.store.backend.close?.();
    }
  });
  const heads = fetched.refs.filter((x) => x.kind === 'heads');
  const pick = pickBranch(heads, o.branch);
  if (!pick) {
    throw new NotFoundError(o.branch ? `remote has no branch ${o.branch}` : `remote has ${heads.length} branches and none is main`, {
      hint: heads.length ? `choose one with --branch (${heads.map((h) => h.name).join(', ')})` : 'push a branch to it first',
    });
  }
  repo.refs.setHead({ kind: 'branch', name: pick.name });
  const co = await switchTo(repo, { rev: pick.id, advanceBranch: pick.name, force: overwrite, inPlace: true, premade: twins, progress: o.progress });
  fs.rmSync(path.join(repo.lodeDir, CLONE_MARKER), { force: true });
  return { root, remote: remoteName, branch: pick.name, commit: pick.id, fetched, checkout: co };
}

/** pickBranch is the branch a clone checks out: `name`, else main, else the only one. */
function pickBranch<T extends { name: string }>(heads: T[], name: string | undefined): T | undefined {
  return name ? heads.find((x) => x.name === name) : heads.find((x) => x.name === 'main') ?? (heads.length === 1 ? heads[0] : undefined);
}

/** adoptChunking records `chunking` in the repository's config when it differs from what the config says. */
function adoptChunking(repo: Repository, chunking: ChunkerParams): void {
  const mine = repo.config.settings().chunking;
  if (mine.min === chunking.min && mine.avg === chunking.avg && mine.max === chunking.max) return;
  repo.config.setChunking(chunking);
}

export interface RemoteStatusResult {
  remote: string;
  branch: string;
  local: ObjectId | null;
  remoteTip: ObjectId | null;
  /** Local commits the remote branch lacks. */
  ahead: number;
  /** Remote commits the local branch lacks; null when they are not fetched yet. */
  behind: number | null;
  /** What `lode push` would send now. */
  toPush: { objects: number; bytes: number };
  /**
   * upToDate, ahead (push), behind (pull), diverged, unknown (fetch to know),
   * or incomplete: same commit, but the remote lacks objects it reaches (push repairs it).
   */
  state: 'upToDate' | 'ahead' | 'behind' | 'diverged' | 'unknown' | 'noRemoteBranch' | 'incomplete';
}

function countUntil(repo: Repository, from: ObjectId, stop: ObjectId | null): number {
  let n = 0;
  const stopSet = new Set<ObjectId>();
  if (stop && repo.store.hasObject(stop)) for (const c of walkHistory(repo.store, [stop])) stopSet.add(c.id);
  for (const c of walkHistory(repo.store, [from])) if (!stopSet.has(c.id)) n++;
  return n;
}

/** remoteStatus compares the current branch with its remote counterpart (one listing, no data transfer). */
export async function remoteStatus(repo: Repository, o: { remote?: string } = {}): Promise<RemoteStatusResult> {
  const head = repo.refs.head();
  if (head.kind !== 'branch') throw new UsageError('HEAD is detached: check out a branch to compare it with a remote');
  const branch = head.name;
  const r = await openRemote(repo, o.remote);
  try {
    await r.store.refresh();
    const theirs = await r.store.ref('heads', branch);
    const mine = repo.refs.get('heads', branch) ?? null;
    const out: RemoteStatusResult = { remote: r.name, branch, local: mine, remoteTip: theirs?.id ?? null, ahead: 0, behind: null, toPush: { objects: 0, bytes: 0 }, state: 'unknown' };
    if (mine) out.toPush = planPush(repo.store, r.store, mine);
    if (!theirs) {
      out.ahead = mine ? countUntil(repo, mine, null) : 0;
      out.state = 'noRemoteBranch';
      return out;
    }
    if (mine === theirs.id) {
      out.behind = 0;
      out.state = out.toPush.objects > 0 ? 'incomplete' : 'upToDate';
      return out;
    }
    if (!repo.store.hasObject(theirs.id)) {
      out.ahead = mine ? countUntil(repo, mine, null) : 0;
      out.state = 'unknown';
      return out;
    }
    out.ahead = mine ? countUntil(repo, mine, theirs.id) : 0;
    out.behind = mine ? countUntil(repo, theirs.id, mine) : countUntil(repo, theirs.id, null);
    out.state = out.ahead > 0 && out.behind > 0 ? 'diverged' : out.ahead > 0 ? 'ahead' : 'behind';
    return out;
  } finally {
    await r.store.backend.close?.();
  }
}

/** remoteGc runs `gc --remote`: mark packs no remote ref reaches, delete those marked before the grace period. */
export async function remoteGc(repo: Repository, o: { remote?: string; dryRun?: boolean; graceMs?: number; progress?: ProgressSink } = {}): Promise<RemoteGcResult & { remote: string }> {
  return repo.withLock('gc', async () => {
    const r = await openRemote(repo, o.remote);
    try {
      return { remote: r.name, ...(await gcRemote({ store: repo.store, remote: r.store, dryRun: o.dryRun, graceMs: o.graceMs, progress: o.progress })) };
    } finally {
      await r.store.backend.close?.();
    }
  });
}
