import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTRY_WORDS, comparePartition, type PartitionVisitor } from './partitions.js';

/**
 * comparePartition against a naive oracle that states its contract with
 * plain arrays and maps (no hash tables, no probing): for any entries, keyed
 * or not, the same changes, duplicates and unchanged count. Keys and values
 * come from small sets so that they collide and repeat.
 */

/** Row is one index entry as the oracle sees it: its key and its value, as text. */
interface Row {
  key: string;
  value: string;
}

/**
 * naiveCompare is the contract of comparePartition, written out directly.
 * Keyed: the first row with a key on each side stands for it; a later row
 * with that key is a duplicate of the first; a key on both sides is
 * unchanged when the values agree, else modified; a key on one side only is
 * added or removed. Keyless: rows are a multiset; of n copies of a row before
 * and m after, min(n, m) are unchanged, the first ones in file order, and
 * the rest added or removed.
 */
function naiveCompare(before: Row[], after: Row[], keyed: boolean): string[] {
  const out: string[] = [];
  let unchanged = 0;
  if (keyed) {
    const firstBefore = new Map<string, number>();
    before.forEach((r, i) => {
      const first = firstBefore.get(r.key);
      if (first === undefined) firstBefore.set(r.key, i);
      else out.push(`duplicate before ${first} ${i}`);
    });
    const firstAfter = new Map<string, number>();
    after.forEach((r, i) => {
      const first = firstAfter.get(r.key);
      if (first !== undefined) return void out.push(`duplicate after ${first} ${i}`);
      firstAfter.set(r.key, i);
      const b = firstBefore.get(r.key);
      if (b === undefined) out.push(`added ${i}`);
      else if (before[b].value === r.value) unchanged++;
      else out.push(`modified ${b} ${i}`);
    });
    for (const [key, b] of firstBefore) if (!firstAfter.has(key)) out.push(`removed ${b}`);
  } else {
    const copies = (rows: Row[]) => {
      const m = new Map<string, number[]>();
      rows.forEach((r, i) => m.set(r.key, [...(m.get(r.key) ?? []), i]));
      return m;
    };
    const cb = copies(before);
    const ca = copies(after);
    for (const key of new Set([...cb.keys(), ...ca.keys()])) {
      const xb = cb.get(key) ?? [];
      const xa = ca.get(key) ?? [];
      const common = Math.min(xb.length, xa.length);
      unchanged += common;
      for (const i of xb.slice(common)) out.push(`removed ${i}`);
      for (const i of xa.slice(common)) out.push(`added ${i}`);
    }
  }
  return [...out.sort(), `unchanged ${unchanged}`];
}

/**
 * entries encodes rows as comparePartition takes them. Keys that share their
 * low bits probe the same slots. Keyless, the key hash is the value hash (as
 * the scan makes it).
 */
function entries(rows: [number, number][], keyed: boolean): Uint32Array {
  const e = new Uint32Array(rows.length * ENTRY_WORDS);
  rows.forEach(([k, v], i) => {
    const [kLo, kHi] = keyed ? [k * 64, k % 3] : [v * 64, v % 3];
    const [vLo, vHi] = keyed ? [v, 0] : [kLo, kHi];
    e.set([kLo, kHi, vLo, vHi, i + 1, i, 0], i * ENTRY_WORDS);
  });
  return e;
}

function rowsOf(rows: [number, number][], keyed: boolean): Row[] {
  return rows.map(([k, v]) => (keyed ? { key: String(k), value: String(v) } : { key: String(v), value: String(v) }));
}

function record(b: Uint32Array, a: Uint32Array, keyed: boolean): string[] {
  const out: string[] = [];
  let unchanged = 0;
  const v: PartitionVisitor = {
    added: (i) => out.push(`added ${i}`),
    removed: (i) => out.push(`removed ${i}`),
    modified: (x, y) => out.push(`modified ${x} ${y}`),
    unchanged: (n) => (unchanged += n),
    duplicate: (side, x, y) => out.push(`duplicate ${side} ${x} ${y}`),
  };
  comparePartition(b, a, keyed, v);
  return [...out.sort(), `unchanged ${unchanged}`];
}

describe('comparePartition', () => {
  it('finds what the naive oracle finds, keyed and keyless', () => {
    const rows = fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 2 })), { maxLength: 40 });
    fc.assert(
      fc.property(rows, rows, fc.boolean(), (rb, ra, keyed) => {
        expect(record(entries(rb, keyed), entries(ra, keyed), keyed)).toEqual(naiveCompare(rowsOf(rb, keyed), rowsOf(ra, keyed), keyed));
      }),
      { numRuns: 1000 },
    );
  });

  it('counts copies of a row as a multiset without a key', () => {
    // Value 1 three times before and once after; value 2 once after.
    const got = record(entries([[0, 1], [0, 1], [0, 1]], false), entries([[0, 2], [0, 1]], false), false);
    expect(got).toEqual(['added 0', 'removed 1', 'removed 2', 'unchanged 1']);
  });

  it('reports a key seen twice on one side, and matches its first row only', () => {
    const got = record(entries([[5, 0], [5, 1]], true), entries([[5, 1], [7, 0], [7, 0]], true), true);
    expect(got).toEqual(['added 1', 'duplicate after 1 2', 'duplicate before 0 1', 'modified 0 0', 'unchanged 0']);
  });
});
