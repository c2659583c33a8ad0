// Test helper: fetch a remote branch whole into a fresh repository.

import path from 'node:path';
import type { Backend } from '../../src/storage/backend.js';
import { Repository } from '../../src/repo/repository.js';
import { RemoteStore } from '../../src/sync/remote-store.js';
import { fetchCommits } from '../../src/sync/fetch.js';

/**
 * fetchAll inits a repository in the empty directory `into`, fetches
 * everything branch `ref` of the remote in `backend` reaches, and returns the
 * number of files fetched. It throws what the fetch throws (objects missing
 * on the remote, damaged packs).
 */
export async function fetchAll(backend: Backend, ref: string, into: string): Promise<number> {
  const other = Repository.init(into);
  const remote = new RemoteStore(backend, path.join(other.lodeDir, 'remotes', 'r'));
  await remote.refresh();
  const tip = (await remote.ref('heads', ref))!.id;
  return (await fetchCommits({ store: other.store, remote, commits: [tip] })).files;
}
