/**
 * The Backend contract suite: every backend (memory, directory, S3 on moto,
 * S3 on s3rver) runs these same tests, so a remote behaves the same whatever
 * stores it. See the contract in src/storage/backend.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Backend } from '../src/storage/backend.js';
import { InvalidNameError, NotFoundError, RefConflictError, UsageError } from '../src/core/errors.js';

async function collect(it: AsyncIterable<{ key: string; size: number }>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const b of it) {
    if (out.has(b.key)) throw new Error(`list yielded ${b.key} twice`);
    out.set(b.key, b.size);
  }
  return out;
}

/**
 * expectNoConditions: a store without conditional writes must refuse them
 * loudly (UsageError) rather than ignore them and let a race lose data.
 */
async function expectNoConditions(b: Backend): Promise<void> {
  await expect(b.save('cond/x', Buffer.from('x'), { ifNoneMatch: true })).rejects.toBeInstanceOf(UsageError);
  await expect(b.save('cond/x', Buffer.from('x'), { ifMatch: 'e' })).rejects.toBeInstanceOf(UsageError);
  await expect(b.remove('cond/x', { ifMatch: 'e' })).rejects.toBeInstanceOf(UsageError);
}

/** backendContract registers the contract tests for one backend. */
export function backendContract(label: string, make: () => Promise<Backend>, cleanup?: () => Promise<void>): void {
  describe(`Backend contract: ${label}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await make();
    });
    afterAll(async () => {
      await b?.close?.();
      await cleanup?.();
    });

    it('round-trips exact bytes: empty, small, binary, 5 MiB', async () => {
      const blobs: [string, Buffer][] = [
        ['rt/empty', Buffer.alloc(0)],
        ['rt/small', Buffer.from('hello\n')],
        ['rt/binary', Buffer.from([0, 255, 13, 10, 0, 1, 2, 0x1f, 0x8b])],
        ['rt/big', randomBytes(5 << 20)],
      ];
      for (const [k, v] of blobs) await b.save(k, v);
      for (const [k, v] of blobs) {
        const back = await b.load(k);
        expect(back.length).toBe(v.length);
        expect(back.equals(v)).toBe(true);
        expect((await b.stat(k))?.size).toBe(v.length);
      }
    });

    it('loads ranges: start, middle, end, and an empty range', async () => {
      const data = randomBytes(100_000);
      await b.save('range/x', data);
      for (const [offset, length] of [[0, 10], [4321, 50_000], [99_990, 10], [500, 0]]) {
        const got = await b.load('range/x', { offset, length });
        expect(got.equals(data.subarray(offset, offset + length))).toBe(true);
      }
    });

    it('loads ranges into a lent buffer (or its own): exactly the range, whatever the buffer held before', async () => {
      const data = randomBytes(3 << 20);
      await b.save('range/lent', data);
      const into = Buffer.alloc(2 << 20, 0xab);
      for (const [offset, length] of [[0, 2 << 20], [12345, 1 << 20], [(3 << 20) - 7, 7]]) {
        const got = await b.load('range/lent', { offset, length }, into);
        expect(got.length).toBe(length);
        expect(got.equals(data.subarray(offset, offset + length))).toBe(true);
      }
    });

    it('a missing key: load throws NotFoundError, stat is undefined, remove is fine', async () => {
      await expect(b.load('missing/nothing')).rejects.toBeInstanceOf(NotFoundError);
      expect(await b.stat('missing/nothing')).toBeUndefined();
      await b.remove('missing/nothing');
    });

    it('overwrites without conditions, and removes', async () => {
      await b.save('ow/k', Buffer.from('one'));
      await b.save('ow/k', Buffer.from('two'));
      expect((await b.load('ow/k')).toString()).toBe('two');
      await b.remove('ow/k');
      await expect(b.load('ow/k')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('lists every key under a prefix exactly once (more than one page), and nothing else', async () => {
      const keys = Array.from({ length: 1100 }, (_, i) => `many/k${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => b.save(k, Buffer.from(k))));
      await b.save('manyother/x', Buffer.from('x'));
      await b.save('nested/a/b/c', Buffer.from('deep'));
      const listed = await collect(b.list('many/'));
      expect(listed.size).toBe(1100);
      for (const k of keys) expect(listed.get(k)).toBe(k.length);
      expect([...(await collect(b.list('nested/')))]).toEqual([['nested/a/b/c', 4]]);
      expect((await collect(b.list('many'))).size).toBe(1101); // prefix, not a directory
    });

    it('ifNoneMatch creates only', async () => {
      if (!b.conditionalWrites) return expectNoConditions(b);
      const { etag } = await b.save('cond/new', Buffer.from('first'), { ifNoneMatch: true });
      expect(typeof etag).toBe('string');
      await expect(b.save('cond/new', Buffer.from('second'), { ifNoneMatch: true })).rejects.toBeInstanceOf(RefConflictError);
      expect((await b.load('cond/new')).toString()).toBe('first');
    });

    it('ifMatch replaces only the version it names', async () => {
      if (!b.conditionalWrites) return expectNoConditions(b);
      const { etag: e1 } = await b.save('cond/ref', Buffer.from('v1'));
      const { etag: e2 } = await b.save('cond/ref', Buffer.from('v2'), { ifMatch: e1 });
      await expect(b.save('cond/ref', Buffer.from('v3'), { ifMatch: e1 })).rejects.toBeInstanceOf(RefConflictError);
      expect((await b.load('cond/ref')).toString()).toBe('v2');
      await b.save('cond/ref', Buffer.from('v3'), { ifMatch: e2 });
      expect((await b.load('cond/ref')).toString()).toBe('v3');
      await expect(b.save('cond/absent', Buffer.from('x'), { ifMatch: e2 })).rejects.toBeInstanceOf(RefConflictError);
    });

    it('remove with ifMatch removes only the version it names; absent counts as changed', async () => {
      if (!b.conditionalWrites) return expectNoConditions(b);
      const { etag: e1 } = await b.save('cond/del', Buffer.from('v1'));
      const { etag: e2 } = await b.save('cond/del', Buffer.from('v2'));
      await expect(b.remove('cond/del', { ifMatch: e1 })).rejects.toBeInstanceOf(RefConflictError);
      expect((await b.load('cond/del')).toString()).toBe('v2');
      await b.remove('cond/del', { ifMatch: (await b.stat('cond/del'))!.etag });
      expect(await b.stat('cond/del')).toBeUndefined();
      await expect(b.remove('cond/del', { ifMatch: e2 })).rejects.toBeInstanceOf(RefConflictError);
    });

    it('stat of a small blob gives the etag that save returned (what a ref update compares)', async () => {
      if (!b.conditionalWrites) return expectNoConditions(b);
      const { etag } = await b.save('cond/stat', Buffer.from('ref value\n'));
      expect((await b.stat('cond/stat'))?.etag).toBe(etag);
      const { etag: e2 } = await b.save('cond/stat', Buffer.from('new value\n'), { ifMatch: (await b.stat('cond/stat'))!.etag });
      expect((await b.stat('cond/stat'))?.etag).toBe(e2);
    });

    it('concurrent conditional updates of one key: exactly one wins', async () => {
      if (!b.conditionalWrites) return expectNoConditions(b);
      const { etag } = await b.save('race/ref', Buffer.from('base'));
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => b.save('race/ref', Buffer.from(`writer ${i}`), { ifMatch: etag })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RefConflictError);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect((await b.load('race/ref')).toString()).toBe(`writer ${winner}`);
    });

    it('refuses unsafe keys', async () => {
      for (const k of ['../x', '/etc/passwd', 'a//b', 'a/./b', 'a/../../b', '', 'a\\b']) {
        await expect(b.save(k, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidNameError);
        await expect(b.load(k)).rejects.toBeInstanceOf(InvalidNameError);
      }
    });
  });
}
