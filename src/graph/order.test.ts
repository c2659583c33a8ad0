import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommit } from '../core/encoding.js';
import { NotFoundError } from '../core/errors.js';
import { sha256 } from '../core/id.js';
import { childrenFirst, objectNames, parentsFirst } from './order.js';
import { buildTrees } from './trees.js';

/** A random DAG: node i names only nodes above i (so no cycle), some named from several parents. */
const dag = fc.integer({ min: 1, max: 40 }).chain((n) =>
  fc.array(fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 4 }), { minLength: n, maxLength: n }).map((kids) => {
    const names = new Map<string, string[]>();
    kids.forEach((ks, i) => names.set(`n${i}`, ks.filter((k) => k > i).map((k) => `n${k}`)));
    return names;
  }),
);

describe('childrenFirst', () => {
  it('lists every object once, each after all it names', () => {
    fc.assert(
      fc.property(dag, fc.boolean(), (names, reversed) => {
        const ids = [...names.keys()];
        if (reversed) ids.reverse();
        const order = childrenFirst(ids, names);
        expect([...order].sort()).toEqual([...names.keys()].sort());
        const at = new Map(order.map((id, i) => [id, i]));
        for (const [id, ns] of names) for (const n of ns) expect(at.get(n)!).toBeLessThan(at.get(id)!);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves out names it was not given (objects stored already)', () => {
    expect(childrenFirst(['a'], new Map([['a', ['b', 'c']], ['c', []]]))).toEqual(['c', 'a']);
  });
});

describe('parentsFirst', () => {
  it('puts each tree and commit before the trees, chunk lists and commits it names', () => {
    // A folder's tree named from three depths, a chunked file (its chunk list), and two commits.
    const file = (p: string, kind: 'blob' | 'chunked' = 'blob') => ({ path: p, kind, id: sha256(Buffer.from(p.split('/').pop()!)), size: 1, exec: false });
    const built = buildTrees(['a/b/big', 'a/b/c/x/f', 'a/x/f', 'x/f'].map((p) => file(p, p.endsWith('big') ? 'chunked' : 'blob')));
    const objects = new Map(built.objects);
    const first = encodeCommit({ tree: built.root, parents: [], author: 'a <a@b>', time: 1, datasets: ['a', 'x'], message: 'm' });
    const firstId = sha256(first);
    const second = encodeCommit({ tree: built.root, parents: [firstId], author: 'a <a@b>', time: 2, datasets: ['a', 'x'], message: 'm' });
    objects.set(firstId, first).set(sha256(second), second);
    const chunkList = sha256(Buffer.from('big'));
    objects.set(chunkList, Buffer.from('not decoded: names nothing'));
    const order = parentsFirst(objects.keys(), (id) => objects.get(id)!);
    expect([...order].sort()).toEqual([...objects.keys()].sort());
    const at = new Map(order.map((id, i) => [id, i]));
    for (const [id, bytes] of objects) for (const n of objectNames(bytes, id)) expect(at.get(id)!).toBeLessThan(at.get(n)!);
    expect(at.get(chunkList)!).toBeGreaterThan(at.get(built.root)!);
  });

  it('an object that cannot be read names nothing; another error propagates', () => {
    expect(parentsFirst(['x', 'y'], (id) => {
      throw new NotFoundError(`${id} is gone`);
    })).toHaveLength(2);
    expect(() => parentsFirst(['x'], () => {
      throw new Error('disk on fire');
    })).toThrow('disk on fire');
  });
});
