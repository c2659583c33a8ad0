// RemoteStore keeps what it has loaded across refreshes (packs are
// immutable) and finds objects through its own table: these tests hold it
// to the same answers a fresh store gives, across uploads, new packs pushed
// by someone else, packs removed, and packs marked by `gc --remote`.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadXxhash } from '../src/core/checksum.js';
import { PackWriter } from '../src/objects/pack.js';
import { MemoryBackend } from '../src/storage/memory.js';
import { RemoteStore } from '../src/sync/remote-store.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const cacheDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-remote-lookup-'));
  dirs.push(d);
  return d;
};
const obj = (i: number) => Buffer.from(`object ${i}\n`);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** packOf writes objects [from, to) as one pack through `store` (index last). */
async function packOf(store: RemoteStore, from: number, to: number): Promise<string> {
  const w = new PackWriter();
  for (let i = from; i < to; i++) w.add(sha(obj(i)), obj(i));
  return store.uploadPack(w);
}

/** answers lists, for objects [0, n), where a store says each one is (pack ID or '-') and whether it is safe. */
function answers(store: RemoteStore, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${store.location(sha(obj(i)))?.packId ?? '-'} ${store.isSafe(sha(obj(i)))}`);
}

describe('RemoteStore lookups', () => {
  it('answer as a fresh store does after uploads, others\' packs, removals and gc marks', async () => {
    await loadXxhash();
    const backend = new MemoryBackend();
    const mine = new RemoteStore(backend, cacheDir());
    await mine.refresh();
    const p1 = await packOf(mine, 0, 3000);
    // Lookups before and after an upload of this store's own.
    expect(mine.location(sha(obj(10)))?.packId).toBe(p1);
    const p2 = await packOf(mine, 2500, 4000); // overlaps p1: the first copy wins
    expect(mine.location(sha(obj(2600)))?.packId).toBe(p1);
    expect(mine.location(sha(obj(3500)))?.packId).toBe(p2);
    // Someone else pushes a pack; a refresh finds it without losing the rest.
    const other = new RemoteStore(backend, cacheDir());
    await other.refresh();
    const p3 = await packOf(other, 4000, 4500);
    await mine.refresh();
    const fresh = async () => {
      const s = new RemoteStore(backend, cacheDir());
      await s.refresh();
      return s;
    };
    expect(answers(mine, 4600)).toEqual(answers(await fresh(), 4600));
    expect(mine.location(sha(obj(4200)))?.packId).toBe(p3);
    expect(mine.location(sha(obj(4550)))).toBeUndefined();
    // Each object read through the table is the right one.
    const got = new Map<string, Buffer>();
    await mine.fetchObjects([sha(obj(1)), sha(obj(2999)), sha(obj(4499))], (id, data) => void got.set(id, data));
    expect(got.get(sha(obj(2999)))).toEqual(obj(2999));

    // p1 marked for deletion: objects also in p2 stay safe, the rest do not.
    await mine.writeMark(p1, Date.now());
    await mine.refresh();
    expect(mine.isSafe(sha(obj(2600)))).toBe(true);
    expect(mine.safeLocation(sha(obj(2600)))?.packId).toBe(p2);
    expect(mine.isSafe(sha(obj(100)))).toBe(false);
    expect(mine.location(sha(obj(100)))?.packId).toBe(p1);
    expect(answers(mine, 4600)).toEqual(answers(await fresh(), 4600));

    // p1 removed: its objects are gone, the copies in p2 are found there.
    await backend.remove(`packs/${p1}.idx`);
    await backend.remove(`packs/${p1}.pack`);
    await backend.remove(`gc/pending/${p1}`);
    await mine.refresh();
    expect(mine.location(sha(obj(100)))).toBeUndefined();
    expect(mine.location(sha(obj(2600)))?.packId).toBe(p2);
    expect(answers(mine, 4600)).toEqual(answers(await fresh(), 4600));
    // Not an ID at all: nothing, never a throw.
    expect(mine.location('x'.repeat(64))).toBeUndefined();
    expect(mine.location('AB'.repeat(32))).toBeUndefined();
  });
});
