// gc --remote: unreachable packs are marked, then deleted a grace period
// later; live objects are copied out of mixed packs first; a push racing a gc
// never ends up referencing deleted data.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../src/storage/memory.js';
import { Repository } from '../src/repo/repository.js';
import { add, commit } from '../src/commands/index.js';
import { RemoteStore } from '../src/sync/remote-store.js';
import { pushRef } from '../src/sync/push.js';
import { gcRemote } from '../src/sync/gc.js';
import { pseudoRandomBytes } from './helpers/cli.js';
import { fetchAll } from './helpers/fetch-all.js';
import { tempDirs } from './helpers/temp-dirs.js';

const tmp = tempDirs();

describe('gc --remote', () => {
  it('marks, sweeps after the grace period, repacks mixed packs, and never breaks a ref', async () => {
    const dir = tmp('lode-rgc-');
    const repo = Repository.init(dir);
    const mem = new MemoryBackend();
    const remote = () => new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 'r'));
    fs.mkdirSync(path.join(dir, 'data'));
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(dir, 'data', `keep${i}`), pseudoRandomBytes(5000, i + 1));
    fs.writeFileSync(path.join(dir, 'data', 'doomed'), pseudoRandomBytes(50_000, 99));
    await add(repo, { paths: [path.join(dir, 'data')] });
    await commit(repo, { message: 'v1' });
    await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'main' });
    // v2 drops "doomed" and rewrites history: the remote branch is forced to a commit without v1.
    fs.rmSync(path.join(dir, 'data', 'doomed'));
    repo.refs.delete('heads', 'main');
    await add(repo, { paths: [path.join(dir, 'data')] });
    await commit(repo, { message: 'v2 without doomed' });
    await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'main', force: true });

    const t0 = 1_000_000;
    const hour = 3600_000;
    const g1 = await gcRemote({ store: repo.store, remote: remote(), now: t0, graceMs: hour });
    expect(g1).toMatchObject({ packs: 2, marked: 1, repacked: 1, deleted: 0 });
    expect(await fetchAll(mem, 'main', tmp('lode-rgc-fetch-'))).toBe(10);

    // Within the grace period nothing is deleted.
    expect(await gcRemote({ store: repo.store, remote: remote(), now: t0 + hour / 2, graceMs: hour })).toMatchObject({ deleted: 0 });
    // After it, the marked pack goes; the branch still fetches whole.
    const g3 = await gcRemote({ store: repo.store, remote: remote(), now: t0 + 2 * hour, graceMs: hour });
    expect(g3).toMatchObject({ deleted: 1 });
    expect(g3.bytesFreed).toBeGreaterThan(50_000);
    expect(await fetchAll(mem, 'main', tmp('lode-rgc-fetch-'))).toBe(10);
    const keys: string[] = [];
    for await (const b of mem.list('')) keys.push(b.key);
    expect(keys.filter((k) => k.startsWith('gc/'))).toEqual([]);
  });

  it('a push after a mark does not rely on marked packs: it sends those objects again', async () => {
    const dir = tmp('lode-rgc-race-');
    const repo = Repository.init(dir);
    const mem = new MemoryBackend();
    const remote = () => new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 'r'));
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'a'), pseudoRandomBytes(20_000, 5));
    await add(repo, { paths: [path.join(dir, 'data')] });
    const c = await commit(repo, { message: 'one' });
    repo.refs.set('heads', 'side', c.id);
    await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'side' });
    await mem.remove('refs/heads/side'); // the branch is deleted on the remote
    expect(await gcRemote({ store: repo.store, remote: remote(), now: 0, graceMs: 3600_000 })).toMatchObject({ marked: 1 });
    // Someone pushes the same content again before the sweep: it lands in a new pack.
    const p = await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'main' });
    expect(p.objects).toBeGreaterThan(0);
    // The sweep deletes the marked pack; main still fetches completely.
    expect(await gcRemote({ store: repo.store, remote: remote(), now: 2 * 3600_000, graceMs: 3600_000 })).toMatchObject({ deleted: 1 });
    expect(await fetchAll(mem, 'main', tmp('lode-rgc-fetch-'))).toBe(1);
  });
});
