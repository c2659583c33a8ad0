/**
 * Opening a configured remote, and fetching one commit's data from the
 * default remote: the pieces of sync that several commands share (push,
 * fetch, pull, revision resolution, a pinned checkout, the pre-push check).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NotFoundError, RemoteError, UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import type { Backend } from '../storage/backend.js';
import { DirBackend } from '../storage/dir.js';
import type { S3Options } from '../storage/s3.js';
import type { LocalStore } from '../objects/store.js';
import { readCommit } from '../graph/commits.js';
import { RefStore } from '../graph/refs.js';
import { RemoteStore } from './remote-store.js';
import { fetchCommits, type FetchResult } from './fetch.js';

/** ConfiguredRemote is one `[remote.NAME]` as configuration holds it (secrets apart). */
export interface ConfiguredRemote {
  url: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  pathStyle?: boolean;
  checksumMode?: S3Options['checksumMode'];
}

/**
 * RemoteHost is what opening a remote needs of a repository (repo's
 * `Repository` is one): its configured remotes, their secrets, and the
 * `.lode` directory that keeps each remote's cached indexes and tracking refs.
 */
export interface RemoteHost {
  readonly lodeDir: string;
  readonly config: {
    defaultRemote(): string | undefined;
    remote(name: string): ConfiguredRemote | undefined;
    remoteSecrets(name: string): S3Options['credentials'] | undefined;
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
  const settings = repo.config.remote(n);
  if (!settings) throw new NotFoundError(`no remote named ${n}`, { hint: '`lode remote list` shows the remotes' });
  let backend: Backend;
  if (settings.url.startsWith('s3://')) {
    backend = await openS3(repo, n, settings);
  } else {
    if (!fs.existsSync(settings.url)) {
      if (!options.create) throw new RemoteError(`remote ${n}: the directory ${settings.url} does not exist`, false, { hint: 'check that it is mounted, or push to it first' });
      fs.mkdirSync(settings.url, { recursive: true });
    }
    backend = new DirBackend(settings.url);
  }
  const cache = path.join(repo.lodeDir, 'remotes', n);
  return { name: n, store: new RemoteStore(backend, cache), tracking: new RefStore(cache) };
}

async function openS3(repo: RemoteHost, name: string, s: ConfiguredRemote): Promise<Backend> {
  // Loaded only here: the S3 SDK costs ~80 ms to import (s3.ts imports it lazily too).
  const mod = await import('../storage/s3.js');
  return mod.openS3Backend({
    url: s.url,
    endpoint: s.endpoint,
    region: s.region,
    profile: s.profile,
    forcePathStyle: s.pathStyle,
    checksumMode: s.checksumMode,
    credentials: repo.config.remoteSecrets(name),
  });
}

/** SyncHost is a RemoteHost with its local store, refs and lock: what fetching into a repository needs. */
export interface SyncHost extends RemoteHost {
  readonly store: LocalStore;
  readonly refs: RefStore;
  withLock<T>(command: string, fn: () => Promise<T>): Promise<T>;
}

/** fetchCommitData downloads one commit with all its data from the default remote (what a pinned checkout lacks). */
export async function fetchCommitData(repo: SyncHost, id: ObjectId, progress?: ProgressSink): Promise<FetchResult> {
  return repo.withLock('fetch', async () => {
    const r = await openRemote(repo, undefined);
    try {
      await r.store.refresh();
      const headId = repo.refs.headCommit();
      const reuseFrom = headId ? readCommit(repo.store, headId).tree : undefined;
      return await fetchCommits({ store: repo.store, remote: r.store, commits: [id], reuseFrom, progress });
    } finally {
      await r.store.backend.close?.();
    }
  });
}
