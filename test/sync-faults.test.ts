// Push and fetch against a backend that fails on purpose: an interrupted push
// resumes without re-sending completed packs, and what reached the remote is
// always a consistent (dependency-closed) set of objects.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../src/storage/memory.js';
import type { Backend, SaveOptions } from '../src/storage/backend.js';
import { RemoteError } from '../src/core/errors.js';
import { Repository } from '../src/repo/repository.js';
import { add, commit } from '../src/commands/index.js';
import { RemoteStore } from '../src/sync/remote-store.js';
import { pushRef } from '../src/sync/push.js';
import { fetchCommits } from '../src/sync/fetch.js';
import { pseudoRandomBytes } from './helpers/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** FailingBackend passes calls through to `inner` but fails the Nth pack upload. */
class FailingBackend implements Backend {
  readonly location = 'failing memory';
  readonly maxConnections = 4;
  readonly conditionalWrites = true;
  packSaves = 0;
  failAt = Infinity;
  constructor(readonly inner: MemoryBackend) {}
  async save(key: string, data: Uint8Array, o?: SaveOptions) {
    if (key.endsWith('.pack') && ++this.packSaves === this.failAt) throw new RemoteError('connection reset (injected)', true);
    return this.inner.save(key, data, o);
  }
  load = (k: string, r?: { offset: number; length: number }) => this.inner.load(k, r);
  stat = (k: string) => this.inner.stat(k);
  list = (p: string) => this.inner.list(p);
  remove = (k: string) => this.inner.remove(k);
}

async function repoWithData(): Promise<Repository> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-sync-faults-'));
  dirs.push(dir);
  const repo = Repository.init(dir);
  for (let i = 0; i < 40; i++) {
    fs.mkdirSync(path.join(dir, 'data', `d${i % 5}`), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', `d${i % 5}`, `f${i}`), pseudoRandomBytes(20_000, i + 1));
  }
  await add(repo, { paths: [path.join(dir, 'data')] });
  await commit(repo, { message: 'v1' });
  return repo;
}

describe('interrupted push', () => {
  it('fails without moving the ref, then resumes sending only what is missing; a fresh fetch gets everything', async () => {
    const repo = await repoWithData();
    const mem = new MemoryBackend();
    const failing = new FailingBackend(mem);
    failing.failAt = 3;
    const cache = path.join(repo.lodeDir, 'remotes', 't');
    const first = new RemoteStore(failing, cache);
    await expect(pushRef({ store: repo.store, refs: repo.refs, remote: first, kind: 'heads', name: 'main', packTarget: 100_000 })).rejects.toThrow(/injected/);
    expect(await mem.stat('refs/heads/main')).toBeUndefined();
    const packsAfterFailure = failing.packSaves - 1;
    expect(packsAfterFailure).toBe(2);

    // A new push (new process: fresh RemoteStore) sends only what is not there yet.
    failing.failAt = Infinity;
    const second = new RemoteStore(failing, cache);
    const r = await pushRef({ store: repo.store, refs: repo.refs, remote: second, kind: 'heads', name: 'main', packTarget: 100_000 });
    const total = 40 + 1 + 6; // files, commit, trees (root, data, 5 dirs) => at least this many objects
    expect(r.objects).toBeLessThan(total);
    expect(r.objects).toBeGreaterThan(0);
    expect((await mem.stat('refs/heads/main'))).toBeDefined();

    // Another workspace fetches it all, every object verified.
    const other = Repository.init(fs.mkdtempSync(path.join(os.tmpdir(), 'lode-sync-faults-b-')));
    dirs.push(other.root);
    const remote = new RemoteStore(mem, path.join(other.lodeDir, 'remotes', 't'));
    await remote.refresh();
    const tip = (await remote.ref('heads', 'main'))!.id;
    const f = await fetchCommits({ store: other.store, remote, commits: [tip] });
    expect(f.files).toBe(40);
    expect(other.store.hasObject(tip)).toBe(true);
  });
});
