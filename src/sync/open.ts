/**
 * Opening a configured remote, and fetching one commit's data from the
 * default remote: the pieces of sync that several commands share (push,
 * fetch, pull, revision resolution, a pinned checkout, the pre-push check).
 */
import * as path from 'node:path';
import { NotFoundError, UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { openBackend, type RemoteOptions } from '../storage/registry.js';
import type { LocalStore } from '../objects/store.js';
import { readCommit } from '../graph/commits.js';
import { RefStore } from '../graph/refs.js';
import { RemoteStore } from './remote-store.js';
import { fetchCommits, type FetchResult } from './fetch.js';

/**
 * RemoteHost is what opening a remote needs of a repository (repo's
 * `Repository` is one): its configured remotes (URL and the backend
 * registry's options, secrets included) and the `.lode` directory that keeps
 * each remote's cached indexes and tracking refs.
 */
export interface RemoteHost {
  readonly lodeDir: string;
  readonly config: {
    defaultRemote(): string | undefined;
    remoteOptions(name: string): { url: string; options: RemoteOptions } | undefined;
    /** Whether uploaded packs compress file data where it pays (`push.compress`; default yes). */
    compressPacks?(): boolean;
  };
}

/** OpenedRemote is a configured remote ready for sync. */
export interface OpenedRemote {
  name: string;
  store: RemoteStore;
  /** Remote-tracking refs: what each remote ref pointed at when last fetched. */
  tracking: RefStore;
}

/**
 * openRemote opens a configured remote (the default when `name` is
 * undefined). Directory remotes are created on first push (`create`).
 */
export async function openRemote(repo: RemoteHost, name: string | undefined, options: { create?: boolean } = {}): Promise<OpenedRemote> {
  const n = name ?? repo.config.defaultRemote();
  if (!n) throw new UsageError('no remote given and no default remote set', { hint: 'add one with `lode remote add NAME URL` (or name it: `lode push NAME`)' });
  const settings = repo.config.remoteOptions(n);
  if (!settings) throw new NotFoundError(`no remote named ${n}`, { hint: '`lode remote list` shows the remotes' });
  // Every remote goes through the registry, and so through the retry layer.
  const backend = await openBackend(settings.url, settings.options, { create: options.create });
  const cache = path.join(repo.lodeDir, 'remotes', n);
  const store = new RemoteStore(backend, cache);
  store.compress = repo.config.compressPacks?.() ?? true;
  return { name: n, store, tracking: new RefStore(cache) };
}

/** SyncHost is a RemoteHost with its local store, refs and lock: what fetching into a repository needs. */
export interface SyncHost extends RemoteHost {
  readonly store: LocalStore;
  readonly refs: RefStore;
  withLock<T>(command: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * fetchCommitData downloads the file data of one commit (not of its history)
 * and the metadata it reaches from the default remote: what a checkout of a
 * commit the cache lacks data for needs (a pin, a partial clone's history).
 */
export async function fetchCommitData(repo: SyncHost, id: ObjectId, progress?: ProgressSink): Promise<FetchResult> {
  return repo.withLock('fetch', async () => {
    const r = await openRemote(repo, undefined);
    try {
      await r.store.refresh();
      const headId = repo.refs.headCommit();
      const reuseFrom = headId ? readCommit(repo.store, headId).tree : undefined;
      return await fetchCommits({ store: repo.store, remote: r.store, commits: [id], data: [id], reuseFrom, progress });
    } finally {
      await r.store.backend.close?.();
    }
  });
}
