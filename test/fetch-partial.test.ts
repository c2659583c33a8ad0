// A partial fetch (`fetchCommits` with `data`) brings the metadata of every
// commit it reaches and the file data of the named commits only; it records
// complete (`.lode/complete`, whole closure with data) only a named commit
// whose parents already were, and records the metadata closure of everything
// it walked (`.lode/complete-metadata`), where a later metadata walk stops.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../src/storage/memory.js';
import type { ObjectId } from '../src/core/id.js';
import { Repository } from '../src/repo/repository.js';
import { add, commit } from '../src/commands/index.js';
import { RemoteStore } from '../src/sync/remote-store.js';
import { pushRef } from '../src/sync/push.js';
import { fetchCommits } from '../src/sync/fetch.js';
import { readComplete, readMetadataComplete } from '../src/sync/complete.js';
import { readCommit, reachableFrom } from '../src/graph/commits.js';
import { pseudoRandomBytes } from './helpers/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempRepo(label: string): Repository {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lode-fetch-partial-${label}-`));
  dirs.push(dir);
  return Repository.init(dir);
}

/** history: three commits on main, each rewriting one file and adding one, pushed to a memory remote. */
async function history(): Promise<{ mem: MemoryBackend; commits: ObjectId[]; src: Repository }> {
  const src = tempRepo('src');
  const mem = new MemoryBackend();
  const commits: ObjectId[] = [];
  for (let n = 1; n <= 3; n++) {
    fs.mkdirSync(path.join(src.root, 'data'), { recursive: true });
    fs.writeFileSync(path.join(src.root, 'data', 'changing.bin'), pseudoRandomBytes(1_500_000, n));
    fs.writeFileSync(path.join(src.root, 'data', `v${n}.txt`), `version ${n}\n`);
    await add(src, { paths: [path.join(src.root, 'data')] });
    commits.push((await commit(src, { message: `v${n}` })).id);
  }
  await pushRef({ store: src.store, refs: src.refs, remote: new RemoteStore(mem, path.join(src.lodeDir, 'remotes', 't')), kind: 'heads', name: 'main' });
  return { mem, commits, src };
}

/** filesOf: the file IDs of one commit's own tree (not its history). */
function filesOf(repo: Repository, id: ObjectId): Set<ObjectId> {
  return reachableFrom(repo.store, [], [readCommit(repo.store, id).tree]).files;
}

describe('partial fetch', () => {
  it('brings every commit, tree and chunk list, and the files of the named commit only', async () => {
    const { mem, commits, src } = await history();
    const [c1, c2, c3] = commits;
    const repo = tempRepo('dst');
    const remote = new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 'r'));
    await remote.refresh();
    const r = await fetchCommits({ store: repo.store, remote, commits: [c3], data: [c3] });
    // Metadata of the whole history: every commit, tree and chunk list, nothing missing.
    const reach = reachableFrom(repo.store, [c3]);
    expect(reach.problems.size).toBe(0);
    expect([...reach.commits].sort()).toEqual([...commits].sort());
    // Data: exactly the tip's files.
    const tip = filesOf(src, c3);
    const cached = new Set(repo.store.listIds('cache'));
    expect(cached).toEqual(tip);
    expect(r.files).toBe(tip.size);
    for (const id of filesOf(src, c1)) if (!tip.has(id)) expect(repo.store.hasFile(id)).toBe(false);
    // The tip is not complete (its parents' data is absent); its metadata closure is.
    expect(readComplete(repo.store).size).toBe(0);
    expect(readMetadataComplete(repo.store)).toEqual(new Set([c3]));

    // The root commit's data: it has no parents, so it is now complete.
    await fetchCommits({ store: repo.store, remote, commits: [], data: [c1] });
    expect(readComplete(repo.store)).toEqual(new Set([c1]));
    for (const id of filesOf(src, c1)) expect(repo.store.hasFile(id)).toBe(true);
    // Then its child: complete too, and the tip's parent chain closes.
    await fetchCommits({ store: repo.store, remote, commits: [], data: [c2] });
    expect(readComplete(repo.store)).toEqual(new Set([c1, c2]));
    await fetchCommits({ store: repo.store, remote, commits: [], data: [c3] });
    expect(readComplete(repo.store)).toEqual(new Set([c1, c2, c3]));
  });

  it('a whole fetch after a partial one brings the rest and records the tip complete', async () => {
    const { mem, commits, src } = await history();
    const c3 = commits[2];
    const repo = tempRepo('dst2');
    const remote = new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 'r'));
    await remote.refresh();
    await fetchCommits({ store: repo.store, remote, commits: [c3], data: [c3] });
    // A metadata-complete commit does not stop a whole fetch: it walks for the data.
    const r = await fetchCommits({ store: repo.store, remote, commits: [c3] });
    expect(r.files).toBeGreaterThan(0);
    expect(new Set(repo.store.listIds('cache'))).toEqual(reachableFrom(src.store, [c3]).files);
    expect(readComplete(repo.store)).toEqual(new Set([c3]));
  });
});
