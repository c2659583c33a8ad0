// Remote safety (issue 9, part 5): nothing leaks and a lost race is never
// silent. Packs whose index never arrived are collected after the grace
// period; a damaged gc mark restarts the grace period instead of ending it;
// a store that lets two conditional writes both succeed is caught by the
// read-back; a remote that lost objects its ref needs gets them again.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefConflictError, UsageError } from '../src/core/errors.js';
import { loadXxhash } from '../src/core/checksum.js';
import { MemoryBackend } from '../src/storage/memory.js';
import { Repository } from '../src/repo/repository.js';
import { add, commit } from '../src/commands/index.js';
import { decodeMark, encodeMark, RemoteStore } from '../src/sync/remote-store.js';
import { planPush, pushRef } from '../src/sync/push.js';
import { gcRemote } from '../src/sync/gc.js';
import { HookedBackend } from './helpers/hooked-backend.js';
import { pseudoRandomBytes } from './helpers/cli.js';
import { fetchAll } from './helpers/fetch-all.js';
import { tempDirs } from './helpers/temp-dirs.js';

const HOUR = 3600_000;
const tmp = tempDirs();

async function keys(mem: MemoryBackend, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const b of mem.list(prefix)) out.push(b.key);
  return out.sort();
}

/** A repository with one commit of `files` pseudo-random files on main. */
async function repoWith(prefix: string, files: number, seed: number) {
  const dir = tmp(prefix);
  const repo = Repository.init(dir);
  fs.mkdirSync(path.join(dir, 'data'));
  for (let i = 0; i < files; i++) fs.writeFileSync(path.join(dir, 'data', `f${i}`), pseudoRandomBytes(3000 + i, seed + i));
  await add(repo, { paths: [path.join(dir, 'data')] });
  const c = await commit(repo, { message: `seed ${seed}` });
  return { dir, repo, commit: c.id };
}

describe('gc marks', () => {
  it('pins the mark format: "<ms> <xxh64 of the ms digits>\\n"', async () => {
    await loadXxhash();
    const m = encodeMark(1_700_000_000_000).toString('latin1');
    expect(m).toMatch(/^1700000000000 [0-9a-f]{16}\n$/);
    expect(decodeMark(Buffer.from(m))).toBe(1_700_000_000_000);
    // Damaged copies never decode to a time: truncated, a flipped digit, a flipped checksum, the old format.
    expect(decodeMark(Buffer.from(m.slice(0, 5)))).toBeUndefined();
    expect(decodeMark(Buffer.from(`1600000000000${m.slice(13)}`))).toBeUndefined();
    expect(decodeMark(Buffer.from(`${m.slice(0, 20)}${m[20] === '0' ? '1' : '0'}${m.slice(21)}`))).toBeUndefined();
    expect(decodeMark(Buffer.from('1700000000000\n'))).toBeUndefined();
    expect(decodeMark(Buffer.from(''))).toBeUndefined();
  });

  it('a damaged, truncated, old-format or unreadable mark counts as just made: nothing marked seconds ago is deleted', async () => {
    for (const damage of ['truncate', 'flip', 'old', 'unreadable'] as const) {
      const { repo } = await repoWith(`lode-safety-mark-${damage}-`, 2, 7);
      const mem = new MemoryBackend();
      let failReads = false;
      const wrapped = new HookedBackend(mem, {
        load: (key, data) => {
          if (failReads && key.startsWith('gc/pending/')) throw new Error('connection reset');
          return data;
        },
      });
      const remote = () => new RemoteStore(wrapped, path.join(repo.lodeDir, 'remotes', 'r'));
      await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'main' });
      await mem.remove('refs/heads/main'); // everything becomes unreachable
      const t0 = Date.now(); // real times: the fallback for a damaged mark must not be "long ago"
      expect(await gcRemote({ store: repo.store, remote: remote(), now: t0, graceMs: HOUR })).toMatchObject({ marked: 1, deleted: 0 });
      const [markKey] = await keys(mem, 'gc/pending/');
      const good = (await mem.load(markKey)).toString('latin1');
      if (damage === 'truncate') await mem.save(markKey, Buffer.from(good.slice(0, 1)));
      if (damage === 'flip') await mem.save(markKey, Buffer.from(`0${good.slice(1)}`));
      if (damage === 'old') await mem.save(markKey, Buffer.from('0\n'));
      failReads = damage === 'unreadable';
      // Long after the real mark: a valid mark would be swept now. A damaged one restarts the grace period.
      const g = await gcRemote({ store: repo.store, remote: remote(), now: t0 + 5 * HOUR, graceMs: HOUR });
      expect(g, damage).toMatchObject({ deleted: 0, rewrittenMarks: 1 });
      expect((await keys(mem, 'packs/')).length, damage).toBe(2);
      failReads = false;
      expect(decodeMark(await mem.load(markKey)), damage).toBe(t0 + 5 * HOUR);
      expect(await gcRemote({ store: repo.store, remote: remote(), now: t0 + 5.5 * HOUR, graceMs: HOUR })).toMatchObject({ deleted: 0, rewrittenMarks: 0 });
      expect(await gcRemote({ store: repo.store, remote: remote(), now: t0 + 6.5 * HOUR, graceMs: HOUR })).toMatchObject({ deleted: 1 });
      expect(await keys(mem)).toEqual(['config']); // only the remote's config object (written by the first push) stays
    }
  });

  it('refuses a grace period under an hour', async () => {
    const { repo } = await repoWith('lode-safety-grace-', 1, 3);
    const remote = new RemoteStore(new MemoryBackend(), path.join(repo.lodeDir, 'remotes', 'r'));
    await expect(gcRemote({ store: repo.store, remote, graceMs: 10 * 60_000 })).rejects.toThrow(UsageError);
    await expect(gcRemote({ store: repo.store, remote, graceMs: 10 * 60_000 })).rejects.toThrow(/too short/);
  });
});

describe('packs without an index', () => {
  it('are collected a grace period after gc first saw them; the branch stays whole', async () => {
    const { dir, repo } = await repoWith('lode-safety-orphan-', 3, 11);
    const mem = new MemoryBackend();
    const remote = () => new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 'r'));
    await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'main' });
    // A second commit whose push dies after the pack, before its index.
    fs.writeFileSync(path.join(dir, 'data', 'big'), pseudoRandomBytes(100_000, 42));
    await add(repo, { paths: [path.join(dir, 'data')] });
    await commit(repo, { message: 'two' });
    const dying = new HookedBackend(mem, {
      save: (key) => {
        if (key.endsWith('.idx')) throw new Error('killed');
      },
    });
    await expect(pushRef({ store: repo.store, refs: repo.refs, remote: new RemoteStore(dying, path.join(dir, 'other-cache')), kind: 'heads', name: 'main' })).rejects.toThrow(/killed/);
    const packsBefore = await keys(mem, 'packs/');
    const orphan = packsBefore.find((k) => k.endsWith('.pack') && !packsBefore.includes(k.replace(/\.pack$/, '.idx')))!;
    expect(orphan).toBeDefined();

    const t0 = 100 * HOUR;
    expect(await gcRemote({ store: repo.store, remote: remote(), now: t0, graceMs: HOUR })).toMatchObject({ unindexed: 1, marked: 1, deleted: 0 });
    expect(await gcRemote({ store: repo.store, remote: remote(), now: t0 + HOUR / 2, graceMs: HOUR })).toMatchObject({ deleted: 0 });
    expect(await keys(mem, 'packs/')).toContain(orphan);
    const g = await gcRemote({ store: repo.store, remote: remote(), now: t0 + 2 * HOUR, graceMs: HOUR });
    expect(g).toMatchObject({ deleted: 1 });
    expect(g.bytesFreed).toBeGreaterThan(100_000);
    expect(await keys(mem, 'packs/')).not.toContain(orphan);
    expect(await keys(mem, 'gc/')).toEqual([]);
    expect(await fetchAll(mem, 'main', tmp('lode-safety-fetch-'))).toBe(3);
  });

  it('a pack whose index arrives after the mark, and whose ref then lands, is kept (a push in progress)', async () => {
    const { dir, repo } = await repoWith('lode-safety-slow-', 2, 21);
    const mem = new MemoryBackend();
    const remote = () => new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 'r'));
    // The push's pack is up, its index not yet, when gc runs.
    let gate: () => void = () => {};
    const held = new Promise<void>((r) => (gate = r));
    let atIndex: () => void = () => {};
    const reachedIndex = new Promise<void>((r) => (atIndex = r));
    const slow = new HookedBackend(mem, {
      save: async (key) => {
        if (key.endsWith('.idx')) {
          atIndex();
          await held;
        }
      },
    });
    const pushing = pushRef({ store: repo.store, refs: repo.refs, remote: new RemoteStore(slow, path.join(dir, 'push-cache')), kind: 'heads', name: 'main' });
    await reachedIndex;
    const t0 = 100 * HOUR;
    expect(await gcRemote({ store: repo.store, remote: remote(), now: t0, graceMs: HOUR })).toMatchObject({ unindexed: 1, marked: 1 });
    gate();
    await pushing;
    const g = await gcRemote({ store: repo.store, remote: remote(), now: t0 + 2 * HOUR, graceMs: HOUR });
    expect(g).toMatchObject({ deleted: 0, revived: 1 });
    expect(await keys(mem, 'gc/')).toEqual([]);
    expect(await fetchAll(mem, 'main', tmp('lode-safety-fetch-'))).toBe(2);
  });
});

describe('ref updates', () => {
  it('a store that lets two conditional writes both succeed: exactly one push reports it was overwritten', async () => {
    const a = await repoWith('lode-safety-race-a-', 2, 100);
    const b = await repoWith('lode-safety-race-b-', 2, 200);
    const mem = new MemoryBackend();
    // Both check their condition, then both write unconditionally: a store whose
    // conditional writes are not atomic. Each waits for the other at each step.
    const arrive = barrier(2);
    const wrote = barrier(2);
    const sloppy = new HookedBackend(mem, {
      save: async (key, _data, options) => {
        if (!key.startsWith('refs/')) return undefined;
        const cur = await mem.stat(key);
        if (options?.ifNoneMatch && cur) throw new RefConflictError('exists');
        if (options?.ifMatch !== undefined && cur?.etag !== options.ifMatch) throw new RefConflictError('changed');
        await arrive();
        return {};
      },
      saved: async (key) => {
        if (key.startsWith('refs/')) await wrote();
      },
    });
    const push = (r: typeof a) => pushRef({ store: r.repo.store, refs: r.repo.refs, remote: new RemoteStore(sloppy, path.join(r.repo.lodeDir, 'remotes', 'r')), kind: 'heads', name: 'main' });
    const results = await Promise.allSettled([push(a), push(b)]);
    const lost = results.filter((r) => r.status === 'rejected');
    expect(lost).toHaveLength(1);
    const err = (lost[0] as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(RefConflictError);
    expect(err.message).toMatch(/overwritten/);
    const winner = results[0].status === 'fulfilled' ? a : b;
    const loser = winner === a ? b : a;
    const ref = (await mem.load('refs/heads/main')).toString().trim();
    expect(ref).toBe(winner.commit);
    // Nothing lost locally: the loser's branch still holds its commit.
    expect(loser.repo.refs.get('heads', 'main')).toBe(loser.commit);
  });
});

describe('a remote that lost objects its ref needs', () => {
  it('push notices and sends them again, even though the ref already points at the commit', async () => {
    const { dir, repo } = await repoWith('lode-safety-lost-', 3, 300);
    const mem = new MemoryBackend();
    const remote = () => new RemoteStore(mem, path.join(repo.lodeDir, 'remotes', 'r'));
    await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'main', packTarget: 4000 });
    const packs = (await keys(mem, 'packs/')).filter((k) => k.endsWith('.pack'));
    expect(packs.length).toBeGreaterThan(1);
    // Lose the first pack (file data: packs are filled dependencies first).
    const r0 = remote();
    await r0.refresh();
    const lostPack = packs.find((k) => [...r0.packIndex(k.slice(6, -5))!.entries()].some((e) => repo.store.hasFile(e.id)))!;
    await mem.remove(lostPack);
    await mem.remove(lostPack.replace(/\.pack$/, '.idx'));
    await expect(fetchAll(mem, 'main', tmp('lode-safety-fetch-'))).rejects.toThrow(/not on remote/);

    const r1 = remote();
    await r1.refresh();
    expect(planPush(repo.store, r1, repo.refs.get('heads', 'main')!).objects).toBeGreaterThan(0);
    const p = await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'main' });
    expect(p).toMatchObject({ upToDate: false, repaired: true });
    expect(p.objects).toBeGreaterThan(0);
    expect(await fetchAll(mem, 'main', tmp('lode-safety-fetch-'))).toBe(3);
    // Now it is whole: the next push has nothing to do.
    expect(await pushRef({ store: repo.store, refs: repo.refs, remote: remote(), kind: 'heads', name: 'main' })).toMatchObject({ upToDate: true, objects: 0 });
    expect(dir).toBeTruthy();
  });
});

/** barrier(n) returns a function whose n-th concurrent call releases all n. */
function barrier(n: number): () => Promise<void> {
  let waiting = 0;
  let release: () => void = () => {};
  const all = new Promise<void>((r) => (release = r));
  return () => {
    if (++waiting === n) release();
    return all;
  };
}
