import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { childrenFirst, parentsFirst } from './order.js';

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
  it('puts each object before what it names; an unreadable one names nothing', () => {
    // Bytes that are neither a commit nor a tree name nothing; a throwing reader is not a LodeError and propagates.
    expect(parentsFirst(['x', 'y'], () => Buffer.from('chunk list or record'))).toHaveLength(2);
    expect(() => parentsFirst(['x'], () => {
      throw new Error('disk on fire');
    })).toThrow('disk on fire');
  });
});
