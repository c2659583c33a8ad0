// A fetch is complete or it leaves nothing a ref points to: an interrupted
// fetch followed by a re-run leaves a store whose every commit reaches all it
// names (fsck clean, log works, push elsewhere works); a store left with a gap
// (commit present, parent missing) is repaired by the next fetch; and a push
// landing between the pack listing and the ref read is not mistaken for a
// remote that lacks data.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../src/storage/memory.js';
import type { Backend, BlobInfo, SaveOptions } from '../src/storage/backend.js';
import { NotFoundError } from '../src/core/errors.js';
import type { ObjectId } from '../src/core/id.js';
import { Repository } from '../src/repo/repository.js';
import { add, commit, fsck, log } from '../src/commands/index.js';
import { RemoteStore } from '../src/sync/remote-store.js';
import { pushRef } from '../src/sync/push.js';
import { fetchCommits } from '../src/sync/fetch.js';
import { readComplete } from '../src/sync/complete.js';
import { readCommit } from '../src/graph/commits.js';
import { storeTrees, walkFiles } from '../src/graph/trees.js';
import { pseudoRandomBytes } from './helpers/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempRepo(label: string): Repository {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lode-fetch-resume-${label}-`));
  dirs.push(dir);
  return Repository.init(dir);
}

/**
 * FlakyBackend passes calls to `inner`, except that it cuts short the reads of
 * `faultKey` that `faultWhen` picks, `faultTimes` times: three, so the fault
 * outlasts lode's re-reads of a damaged span and the fetch is interrupted.
 */
class FlakyBackend implements Backend {
  readonly location = 'flaky memory';
  readonly maxConnections = 4;
  readonly conditionalWrites = true;
  faultKey?: string;
  faultWhen: (range: { offset: number; length: number } | undefined) => boolean = () => true;
  faulted = 0;
  faultTimes = 3;
  constructor(readonly inner: MemoryBackend) {}
  async load(key: string, range?: { offset: number; length: number }) {
    const data = await this.inner.load(key, range);
    if (key === this.faultKey && this.faulted < this.faultTimes && this.faultWhen(range)) {
      this.faulted++;
      return data.subarray(0, data.length >> 1); // a body that stopped half way
    }
    return data;
  }
  save = (k: string, d: Uint8Array, o?: SaveOptions) => this.inner.save(k, d, o);
  stat = (k: string) => this.inner.stat(k);
  list = (p: string) => this.inner.list(p);
  remove = (k: string) => this.inner.remove(k);
}

/** RaceBackend runs `onPackList` (once) after listing packs/ and before returning that listing: a push lands in between. */
class RaceBackend implements Backend {
  readonly location = 'racy memory';
  readonly maxConnections = 4;
  readonly conditionalWrites = true;
  onPackList?: () => Promise<void>;
  constructor(readonly inner: MemoryBackend) {}
  async *list(prefix: string): AsyncIterable<BlobInfo> {
    const items: BlobInfo[] = [];
    for await (const b of this.inner.list(prefix)) items.push(b);
    const hook = prefix === 'packs/' ? this.onPackList : undefined;
    if (hook) {
      this.onPackList = undefined;
      await hook();
    }
    yield* items;
  }
  load = (k: string, r?: { offset: number; length: number }) => this.inner.load(k, r);
  save = (k: string, d: Uint8Array, o?: SaveOptions) => this.inner.save(k, d, o);
  stat = (k: string) => this.inner.stat(k);
  remove = (k: string) => this.inner.remove(k);
}

interface Source {
  repo: Repository;
  mem: MemoryBackend;
  /** Commits oldest first; each was pushed on its own, so each sits in its own pack. */
  commits: ObjectId[];
  /** The pack holding each commit. */
  packOf: ObjectId[];
}

let seed = 1;
async function commitVersion(repo: Repository, n: number): Promise<ObjectId> {
  // One file every version rewrites: its old contents live only in old commits.
  fs.mkdirSync(path.join(repo.root, 'data'), { recursive: true });
  fs.writeFileSync(path.join(repo.root, 'data', 'changing.bin'), pseudoRandomBytes(40_000, seed++));
  for (let i = 0; i < 12; i++) {
    const file = path.join(repo.root, 'data', `d${n}`, `s${i % 3}`, `f${i}.bin`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, pseudoRandomBytes(i === 0 ? 3_000_000 : 5_000 + i, seed++));
  }
  await add(repo, { paths: [path.join(repo.root, 'data')] });
  return (await commit(repo, { message: `v${n}` })).id;
}

async function pushMain(repo: Repository, mem: Backend): Promise<void> {
  await pushRef({ store: repo.store, refs: repo.refs, remote: new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 't')), kind: 'heads', name: 'main' });
}

/** source builds three commits, each pushed by its own push. */
async function source(): Promise<Source> {
  const repo = tempRepo('src');
  const mem = new MemoryBackend();
  const commits: ObjectId[] = [];
  const packOf: ObjectId[] = [];
  for (let n = 1; n <= 3; n++) {
    commits.push(await commitVersion(repo, n));
    await pushMain(repo, mem);
    const r = new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 'probe'));
    await r.refresh();
    packOf.push(r.location(commits[n - 1])!.packId);
  }
  return { repo, mem, commits, packOf };
}

async function fetchTip(repo: Repository, backend: Backend): Promise<ObjectId> {
  const remote = new RemoteStore(backend, path.join(repo.lodeDir, 'remotes', 'origin'));
  const tip = (await remote.ref('heads', 'main'))!.id;
  await remote.refresh();
  await fetchCommits({ store: repo.store, remote, commits: [tip] });
  return tip;
}

/** expectSound asserts what an interrupted fetch broke: fsck, log, and a push to another remote that a fresh fetch can read back. */
async function expectSound(repo: Repository, tip: ObjectId, commits: ObjectId[]): Promise<void> {
  repo.refs.set('heads', 'main', tip);
  const f = await fsck(repo);
  expect(f.problems).toEqual([]);
  const l = await log(repo, {});
  expect(l.commits.map((c) => c.id)).toEqual([...commits].reverse());
  const other = new MemoryBackend('other');
  await pushMain(repo, other);
  const third = tempRepo('third');
  expect(await fetchTip(third, other)).toBe(tip);
  third.refs.set('heads', 'main', tip);
  expect((await fsck(third)).problems).toEqual([]);
}

describe('an interrupted fetch, then a re-run', () => {
  // The fault hits the middle commit's pack: at its first read (the commit,
  // while walking commits: nothing is kept), or at the read of its file data
  // (packed first, so at the pack's start: every commit and tree is kept
  // by then, while file data of the middle commit is not).
  const faults = {
    'its first read': () => true,
    'the read of its file data': (r?: { offset: number }) => (r?.offset ?? 0) < 64,
  };
  for (const [label, when] of Object.entries(faults)) {
    it(`leaves a complete store (fault at ${label})`, async () => {
      const s = await source();
      const repo = tempRepo('b');
      const flaky = new FlakyBackend(s.mem);
      flaky.faultKey = `packs/${s.packOf[1]}.pack`;
      flaky.faultWhen = when;
      await expect(fetchTip(repo, flaky)).rejects.toThrow(/returned/);
      expect(flaky.faulted).toBe(3);
      expect(readComplete(repo.store).size).toBe(0);
      // After a fault in the data, the tip commit is kept: what a naive re-run trusts.
      if (label.includes('data')) expect(repo.store.hasObject(s.commits[2])).toBe(true);

      const tip = await fetchTip(repo, flaky);
      expect(tip).toBe(s.commits[2]);
      expect([...readComplete(repo.store)]).toEqual([tip]);
      await expectSound(repo, tip, s.commits);
    });
  }

  it('repairs a store an older lode left with a gap: commit present, parent missing, no record', async () => {
    const s = await source();
    const repo = tempRepo('gap');
    const tip = await fetchTip(repo, s.mem);
    fs.rmSync(repo.store.objectPath(s.commits[1]));
    fs.rmSync(path.join(repo.lodeDir, 'complete'));
    repo.refs.set('heads', 'main', tip);
    const before = await fsck(repo);
    expect(before.problems.some((p) => p.kind === 'missing' && p.id === s.commits[1])).toBe(true);
    await fetchTip(repo, s.mem);
    await expectSound(repo, tip, s.commits);
  });

  it('fsck that finds damage forgets the record, so the next fetch refills an old commit\'s files', async () => {
    const s = await source();
    const repo = tempRepo('damaged');
    const tip = await fetchTip(repo, s.mem);
    repo.refs.set('heads', 'main', tip);
    // A file only the first commit has, deep below the complete tip.
    const oldFile = walkFiles(storeTrees(repo.store), readCommit(repo.store, s.commits[0]).tree).find((f) => f.path === 'data/changing.bin')!;
    // Removed through the store: a small fetched file lives in a local pack, not at filePath.
    repo.store.removeFiles(new Set([oldFile.id]));
    // Recorded complete, the tip stops the walk: nothing comes back.
    await fetchTip(repo, s.mem);
    expect(repo.store.hasFile(oldFile.id)).toBe(false);
    const f = await fsck(repo);
    expect(f.ok).toBe(false);
    expect(readComplete(repo.store).size).toBe(0);
    await fetchTip(repo, s.mem);
    expect(repo.store.hasFile(oldFile.id)).toBe(true);
    await expectSound(repo, tip, s.commits);
  });

  it('a path-limited fetch records nothing complete; a full fetch after it brings every file', async () => {
    const s = await source();
    const repo = tempRepo('paths');
    const remote = new RemoteStore(s.mem, path.join(repo.lodeDir, 'remotes', 'origin'));
    await remote.refresh();
    const tip = s.commits[2];
    await fetchCommits({ store: repo.store, remote, commits: [tip], paths: ['data/d3'] });
    expect(readComplete(repo.store).size).toBe(0);
    await fetchTip(repo, s.mem);
    await expectSound(repo, tip, s.commits);
  });
});

describe('a push landing between the pack listing and the ref read', () => {
  it('is found by listing the packs once more, not reported as missing data', async () => {
    const s = await source();
    const race = new RaceBackend(s.mem);
    const repo = tempRepo('race');
    const remote = new RemoteStore(race, path.join(repo.lodeDir, 'remotes', 'origin'));
    let pushed: ObjectId | undefined;
    race.onPackList = async () => {
      pushed = await commitVersion(s.repo, 4);
      await pushMain(s.repo, s.mem);
    };
    // The order that raced: packs listed, then refs read.
    await remote.refresh();
    const refs = await remote.refs();
    expect(refs.map((r) => r.id)).toEqual([pushed]);
    expect(remote.location(pushed!)).toBeUndefined();
    await fetchCommits({ store: repo.store, remote, commits: [pushed!] });
    await expectSound(repo, pushed!, [...s.commits, pushed!]);
  });

  it('still reports an object no pack holds, after one more listing', async () => {
    const s = await source();
    const repo = tempRepo('absent');
    const remote = new RemoteStore(s.mem, path.join(repo.lodeDir, 'remotes', 'origin'));
    await remote.refresh();
    const requests = remote.stats.requests;
    await expect(remote.fetchObjects(['0'.repeat(64)], () => {})).rejects.toThrow(NotFoundError);
    expect(remote.stats.requests).toBeGreaterThan(requests);
  });
});
