// A push costs what changed (issue 12) and still repairs a remote that lost
// objects (issue 9 part 5): the walk stops at trees and commits verified
// whole on the remote earlier, for as long as every pack that verification
// relied on is listed and unmarked. `walked` counts what a push read locally.

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../src/storage/memory.js';
import { Repository } from '../src/repo/repository.js';
import { add, commit } from '../src/commands/index.js';
import { RemoteStore } from '../src/sync/remote-store.js';
import { planPush, pushRef } from '../src/sync/push.js';
import { PackWriter } from '../src/objects/pack.js';
import { pseudoRandomBytes } from './helpers/cli.js';
import { fetchAll } from './helpers/fetch-all.js';
import { tempDirs } from './helpers/temp-dirs.js';

const tmp = tempDirs();

// Six directories, so six trees per commit: the root, data, data/a, data/b, data/c, data/c/d.
const FILES = ['data/a/0', 'data/a/1', 'data/b/0', 'data/b/1', 'data/c/0', 'data/c/d/0', 'data/c/d/1'];

async function setup(prefix: string) {
  const dir = tmp(prefix);
  const repo = Repository.init(dir);
  FILES.forEach((f, i) => write(dir, f, pseudoRandomBytes(2000 + i, 40 + i)));
  await add(repo, { paths: [path.join(dir, 'data')] });
  await commit(repo, { message: 'v1' });
  const mem = new MemoryBackend();
  const cache = path.join(repo.lodeDir, 'remotes', 'r');
  // A fresh RemoteStore per push, as each `lode push` opens one.
  const push = () => pushRef({ store: repo.store, refs: repo.refs, remote: new RemoteStore(mem, cache), kind: 'heads', name: 'main' });
  const change = async (rel: string, seed: number) => {
    write(dir, rel, pseudoRandomBytes(1000, seed));
    await add(repo, { paths: [path.join(dir, 'data')] });
    return (await commit(repo, { message: `change ${rel}` })).id;
  };
  return { dir, repo, mem, cache, push, change };
}

function write(dir: string, rel: string, data: Buffer): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), data);
}

async function packKeys(mem: MemoryBackend): Promise<string[]> {
  const out: string[] = [];
  for await (const b of mem.list('packs/')) if (b.key.endsWith('.pack')) out.push(b.key);
  return out.sort();
}

/** The pack holding the first commit's files (pushed first: its pack is the one with most objects). */
async function firstPushPack(mem: MemoryBackend, cache: string): Promise<string> {
  const r = new RemoteStore(mem, cache);
  await r.refresh();
  return [...r.indexedPacks()].map(([, idx]) => idx).sort((a, b) => b.count - a.count)[0].packId;
}

describe('push walks what changed', () => {
  it('a no-op push reads no commit and no tree; a one-file change reads its commit and the trees above the file', async () => {
    const { push, change } = await setup('lode-verified-walk-');
    const first = await push();
    expect(first.walked).toEqual({ commits: 1, trees: 6 });
    expect(first.objects).toBe(FILES.length + 6 + 1);

    const again = await push();
    expect(again).toMatchObject({ upToDate: true, objects: 0, walked: { commits: 0, trees: 0 } });

    await change('data/c/d/1', 900);
    const one = await push();
    // The root, data, data/c and data/c/d changed; data/a, data/b and the first commit were verified.
    expect(one).toMatchObject({ upToDate: false, repaired: false, walked: { commits: 1, trees: 4 } });
    expect(one.objects).toBe(1 + 4 + 1);
    expect((await push()).walked).toEqual({ commits: 0, trees: 0 });
  });

  it('a history pushed before a record existed is walked once, then not again', async () => {
    const { push, change, cache } = await setup('lode-verified-norecord-');
    await push();
    await change('data/a/0', 901);
    await push();
    fs.rmSync(path.join(cache, 'verified'));
    expect(await push()).toMatchObject({ upToDate: true, objects: 0, walked: { commits: 2, trees: 6 + 3 } });
    expect((await push()).walked).toEqual({ commits: 0, trees: 0 });
  });

  it('a damaged record is ignored: the history is walked again, nothing is sent', async () => {
    const { push, cache } = await setup('lode-verified-damaged-');
    await push();
    const file = path.join(cache, 'verified');
    const text = fs.readFileSync(file, 'latin1');
    // Swap one verified ID for another valid-looking one: the checksum no longer matches.
    const entry = /^([0-9a-f]{64}) \d+$/m.exec(text)!;
    fs.writeFileSync(file, text.replace(entry[1], createHash('sha256').update('forged').digest('hex')));
    expect(await push()).toMatchObject({ upToDate: true, objects: 0, walked: { commits: 1, trees: 6 } });
  });
});

describe('push still repairs a remote that lost objects', () => {
  it('a pack deleted on the remote: the record is forgotten, the next push walks everything and sends what is missing', async () => {
    const { push, change, mem, cache, repo } = await setup('lode-verified-lost-');
    await push();
    await change('data/b/0', 902);
    await push();
    expect(await packKeys(mem)).toHaveLength(2);
    const lost = await firstPushPack(mem, cache);
    await mem.remove(`packs/${lost}.pack`);
    await mem.remove(`packs/${lost}.idx`);

    // status --remote sees it too.
    const r = new RemoteStore(mem, cache);
    await r.refresh();
    expect(planPush(repo.store, r, repo.refs.get('heads', 'main')!).objects).toBeGreaterThan(0);

    const p = await push();
    expect(p).toMatchObject({ upToDate: false, repaired: true, walked: { commits: 2 } });
    // At least v1's files that v2 still has (all but data/b/0).
    expect(p.objects).toBeGreaterThanOrEqual(FILES.length - 1);
    // Whole again: every version of every file comes back (v1's data/b/0 too).
    expect(await fetchAll(mem, 'main', tmp('lode-verified-fetch-'))).toBe(FILES.length + 1);
    expect(await push()).toMatchObject({ upToDate: true, objects: 0, walked: { commits: 0, trees: 0 } });
  });

  it('a gc mark on a pack the record relies on: the next push re-walks and sends those objects again', async () => {
    const { push, mem, cache } = await setup('lode-verified-marked-');
    await push();
    const r = new RemoteStore(mem, cache);
    await r.refresh();
    await r.writeMark(await firstPushPack(mem, cache), Date.now());
    const p = await push();
    expect(p).toMatchObject({ upToDate: false, repaired: true, walked: { commits: 1, trees: 6 } });
    expect(p.objects).toBe(FILES.length + 6 + 1);
    expect((await push()).walked).toEqual({ commits: 0, trees: 0 });
  });

  it('a gc mark or a new pack the record does not rely on keeps it', async () => {
    const { push, mem, cache } = await setup('lode-verified-unrelated-');
    await push();
    const r = new RemoteStore(mem, cache);
    await r.refresh();
    const w = new PackWriter();
    const junk = Buffer.from('an object no ref reaches');
    w.add(createHash('sha256').update(junk).digest('hex'), junk);
    const junkPack = await r.uploadPack(w);
    await r.writeMark(junkPack, Date.now());
    expect(await push()).toMatchObject({ upToDate: true, walked: { commits: 0, trees: 0 } });
  });
});
