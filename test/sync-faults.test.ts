// Push and fetch against a backend that fails on purpose: an interrupted push
// resumes without re-sending completed packs, and what reached the remote is
// always a consistent (dependency-closed) set of objects. Then the commands
// themselves (push, clone, fetch, pull, gc --remote) over a remote failing 15%
// of its calls: they complete thanks to the retry layer, every byte read is
// still verified (flipped bytes are read again, never stored), and faults
// beyond the retry budget fail cleanly, after which a re-run completes.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../src/storage/memory.js';
import type { Backend, SaveOptions } from '../src/storage/backend.js';
import { RemoteError } from '../src/core/errors.js';
import { Repository } from '../src/repo/repository.js';
import { add, addRemote, clone, commit, fetch, fsck, pull, push, remoteGc } from '../src/commands/index.js';
import { FaultyBackend, type FaultRule } from '../src/storage/faulty.js';
import { setBackendTestHook } from '../src/storage/registry.js';
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
    // Packs travel two at a time, so the one after the failed pack may have
    // been sent too; but indexes land in order: only the two packs before the
    // failure became visible.
    expect(failing.packSaves).toBeGreaterThanOrEqual(3);
    const indexes: string[] = [];
    for await (const b of mem.list('packs/')) if (b.key.endsWith('.idx')) indexes.push(b.key);
    expect(indexes).toHaveLength(2);

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

/**
 * 15% of calls faulted: every retryable fault, and flipped bytes where a
 * content check guards the read (packs; a ref has no checksum, so a flip
 * that turns one hex digit into another could not be seen). Two pack reads
 * are flipped and two ref updates lose their answer for certain, whatever the
 * seed draws.
 */
const FIFTEEN_PERCENT: FaultRule[] = [
  { methods: ['load'], keys: /\.pack$/, kind: 'flip', calls: [2, 5] },
  // A conditional ref write that lands but whose answer is lost: its retry must not be called a conflict.
  { methods: ['save'], keys: /^refs\//, kind: 'lost-answer', calls: [1, 3] },
  { methods: ['load'], keys: /\.pack$/, kind: ['reset', 'error500', 'slowdown', 'short', 'flip'], probability: 0.15 },
  { methods: ['load'], keys: /^(?!packs\/.*\.pack$)/, kind: ['reset', 'error500', 'slowdown', 'throttle429', 'short'], probability: 0.15 },
  { methods: ['save', 'stat', 'list', 'remove'], kind: ['reset', 'lost-answer', 'error500', 'slowdown', 'throttle429', 'short'], probability: 0.15 },
];
/** Retry timing for tests: the same logic, waits of a few milliseconds. */
const FAST = { baseDelayMs: 1, maxDelayMs: 20, throttleDelayMs: 5 };

describe('sync commands under injected faults', () => {
  let faulty: FaultyBackend[] = [];
  const injectFaults = (rules: FaultRule[], seed: number, retry: { maxTimeMs?: number } = {}) => {
    faulty = [];
    setBackendTestHook({ wrap: (inner) => {
      const f = new FaultyBackend(inner, rules, { seed: seed + faulty.length });
      faulty.push(f);
      return f;
    }, retry: { ...FAST, ...retry } });
  };
  const injected = () => faulty.flatMap((f) => f.injected);
  afterEach(() => setBackendTestHook());

  /** files maps each file under data/ to its bytes' SHA-256. */
  const files = (root: string): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out[path.relative(root, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      }
    };
    walk(path.join(root, 'data'));
    return out;
  };

  async function sourceWithRemote() {
    const repo = await repoWithData();
    // Two files large enough to be chunked: chunk lists and assembly go through the faults too.
    fs.writeFileSync(path.join(repo.root, 'data', 'big1.bin'), pseudoRandomBytes(3_000_000, 101));
    fs.writeFileSync(path.join(repo.root, 'data', 'big2.bin'), pseudoRandomBytes(2_500_000, 102));
    await add(repo, { paths: [path.join(repo.root, 'data')] });
    await commit(repo, { message: 'big files' });
    const remoteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-faults-remote-'));
    dirs.push(remoteDir);
    await addRemote(repo, { name: 'origin', url: remoteDir });
    return { repo, remoteDir };
  }

  it('push, clone, fetch, pull and gc --remote complete with 15% of calls faulted; nothing damaged is stored', async () => {
    const { repo, remoteDir } = await sourceWithRemote();
    injectFaults(FIFTEEN_PERCENT, 1);
    const pushed = await push(repo, { remote: 'origin' });
    expect(pushed.pushed[0].upToDate).toBe(false);

    const cloneParent = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-faults-clone-'));
    dirs.push(cloneParent);
    const cloned = await clone({ url: remoteDir, dir: path.join(cloneParent, 'c') });
    expect(files(cloned.root)).toEqual(files(repo.root));
    const other = Repository.open(cloned.root);

    // New versions on the source, each pushed, then fetched and pulled, still under faults.
    for (let round = 0; round < 6; round++) {
      fs.writeFileSync(path.join(repo.root, 'data', `d${round % 5}`, `f${round}`), pseudoRandomBytes(30_000, 900 + round));
      fs.writeFileSync(path.join(repo.root, 'data', `new${round}.bin`), pseudoRandomBytes(400_000, 700 + round));
      const big = path.join(repo.root, 'data', 'big1.bin');
      fs.writeFileSync(big, Buffer.concat([pseudoRandomBytes(1000, 500 + round), fs.readFileSync(big)]));
      await add(repo, { paths: [path.join(repo.root, 'data')] });
      const next = await commit(repo, { message: `round ${round}` });
      await push(repo, { remote: 'origin' });
      if (round % 2 === 0) {
        const fetched = await fetch(other, {});
        expect(fetched.refs.find((r) => r.name === 'main')?.id).toBe(next.id);
      }
      const pulled = await pull(other, {});
      expect(pulled.outcome).toBe('fastForward');
      expect(files(other.root)).toEqual(files(repo.root));
    }

    const gc = await remoteGc(repo, { remote: 'origin' });
    expect(gc.remote).toBe('origin');

    // The faults really happened, of every kind, flipped bytes included...
    const kinds = new Set(injected().map((f) => f.kind));
    for (const k of ['reset', 'error500', 'slowdown', 'short', 'flip', 'lost-answer']) expect(kinds, k).toContain(k);
    expect(injected().length).toBeGreaterThan(30);
    // ...and nothing damaged was kept: every object and file in both stores matches its ID.
    setBackendTestHook();
    for (const r of [repo, other]) {
      const check = await fsck(r);
      expect(check.problems).toEqual([]);
      expect(check.ok).toBe(true);
    }
    // A fresh clone without faults gets the same data: the remote holds nothing damaged either.
    const again = await clone({ url: remoteDir, dir: path.join(cloneParent, 'clean') });
    expect(files(again.root)).toEqual(files(repo.root));
  }, 240_000);

  it('faults beyond the retry budget fail cleanly with one line; a re-run completes', async () => {
    const { repo, remoteDir } = await sourceWithRemote();
    // Every pack upload fails: the push gives up within its (small) budget.
    injectFaults([{ methods: ['save'], keys: /^packs\//, kind: 'error500', probability: 1 }], 3, { maxTimeMs: 300 });
    const e = await push(repo, { remote: 'origin' }).then(() => undefined, (x: unknown) => x as RemoteError);
    expect(e).toBeInstanceOf(RemoteError);
    expect(e!.message).toMatch(/^gave up writing packs\/[0-9a-f]{64}\.pack in dir .* after \d+ attempts in [\d.]+ s: HTTP 500/);
    expect(e!.message).not.toContain('\n');
    expect(fs.existsSync(path.join(remoteDir, 'refs', 'heads', 'main'))).toBe(false);

    // The re-run (faults gone) completes and the remote is whole.
    setBackendTestHook();
    await push(repo, { remote: 'origin' });

    // A clone whose every pack read fails gives up and leaves nothing behind; its re-run completes.
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-faults-clone2-'));
    dirs.push(parent);
    injectFaults([{ methods: ['load'], keys: /\.pack$/, kind: ['reset', 'slowdown'], probability: 1 }], 4, { maxTimeMs: 300 });
    await expect(clone({ url: remoteDir, dir: path.join(parent, 'c') })).rejects.toThrow(/^gave up reading packs\/.*\.pack/);
    expect(fs.existsSync(path.join(parent, 'c'))).toBe(false);
    setBackendTestHook();
    const c = await clone({ url: remoteDir, dir: path.join(parent, 'c') });
    expect(files(c.root)).toEqual(files(repo.root));
    expect((await fsck(Repository.open(c.root))).ok).toBe(true);
  }, 240_000);

  it('a pack whose bytes are damaged on the remote itself is reported as corrupt after a few reads, never stored', async () => {
    const { repo, remoteDir } = await sourceWithRemote();
    await push(repo, { remote: 'origin' });
    injectFaults([{ methods: ['load'], keys: /\.pack$/, kind: 'flip', probability: 1 }], 5);
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-faults-clone3-'));
    dirs.push(parent);
    await expect(clone({ url: remoteDir, dir: path.join(parent, 'c') })).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(fs.existsSync(path.join(parent, 'c'))).toBe(false);
    const reads = injected().length;
    expect(reads).toBe(3); // the first damaged span, read three times, then believed
  }, 120_000);
});
