import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTRY_WORDS, comparePartition, type PartitionVisitor } from './partitions.js';

/**
 * comparePartition against the two-table version it replaced (kept here as
 * the reference): the same changes and duplicates for any entries, keyed or
 * not, with keys and values drawn from small sets so that they collide.
 */

function tableSize(n: number): number {
  let size = 16;
  while (size < n * 2) size *= 2;
  return size;
}

function referenceCompare(before: Uint32Array, after: Uint32Array, keyed: boolean, v: PartitionVisitor): void {
  const W = ENTRY_WORDS;
  const nb = before.length / W;
  const na = after.length / W;
  const size = tableSize(nb);
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  if (keyed) {
    for (let i = 0; i < nb; i++) {
      const lo = before[i * W];
      const hi = before[i * W + 1];
      let s = lo & mask;
      let dup = -1;
      for (let j = table[s]; j !== -1; j = table[s]) {
        if (before[j * W] === lo && before[j * W + 1] === hi) {
          dup = j;
          break;
        }
        s = (s + 1) & mask;
      }
      if (dup >= 0) v.duplicate('before', dup, i);
      else table[s] = i;
    }
    const asize = tableSize(na);
    const amask = asize - 1;
    const atable = new Int32Array(asize).fill(-1);
    const matched = new Uint8Array(nb);
    let same = 0;
    for (let i = 0; i < na; i++) {
      const lo = after[i * W];
      const hi = after[i * W + 1];
      let s = lo & amask;
      let dup = -1;
      for (let j = atable[s]; j !== -1; j = atable[s]) {
        if (after[j * W] === lo && after[j * W + 1] === hi) {
          dup = j;
          break;
        }
        s = (s + 1) & amask;
      }
      if (dup >= 0) {
        v.duplicate('after', dup, i);
        continue;
      }
      atable[s] = i;
      let b = -1;
      for (let t = lo & mask, j = table[t]; j !== -1; t = (t + 1) & mask, j = table[t]) {
        if (before[j * W] === lo && before[j * W + 1] === hi) {
          b = j;
          break;
        }
      }
      if (b < 0) {
        v.added(i);
        continue;
      }
      matched[b] = 1;
      if (before[b * W + 2] === after[i * W + 2] && before[b * W + 3] === after[i * W + 3]) same++;
      else v.modified(b, i);
    }
    if (same > 0) v.unchanged(same);
    for (let i = 0; i < nb; i++) if (matched[i] === 0 && referenceIsFirst(table, before, i, mask)) v.removed(i);
    return;
  }
  // Keyless: a slot per distinct row, with how many copies each side has.
  const count = new Int32Array(size);
  const taken = new Int32Array(size);
  const slotOf = new Int32Array(nb);
  for (let i = 0; i < nb; i++) {
    const lo = before[i * W];
    const hi = before[i * W + 1];
    let s = lo & mask;
    for (let j = table[s]; j !== -1; j = table[s]) {
      if (before[j * W] === lo && before[j * W + 1] === hi) break;
      s = (s + 1) & mask;
    }
    if (table[s] === -1) table[s] = i;
    count[s]++;
    slotOf[i] = s;
  }
  let same = 0;
  for (let i = 0; i < na; i++) {
    const lo = after[i * W];
    const hi = after[i * W + 1];
    let found = -1;
    for (let s = lo & mask, j = table[s]; j !== -1; s = (s + 1) & mask, j = table[s]) {
      if (before[j * W] === lo && before[j * W + 1] === hi) {
        found = s;
        break;
      }
    }
    if (found >= 0 && taken[found] < count[found]) {
      taken[found]++;
      same++;
    } else v.added(i);
  }
  if (same > 0) v.unchanged(same);
  // The first `taken` copies of each row count as unchanged, the rest as removed.
  for (let i = 0; i < nb; i++) {
    const s = slotOf[i];
    if (taken[s] > 0) taken[s]--;
    else v.removed(i);
  }
}
function referenceIsFirst(table: Int32Array, e: Uint32Array, i: number, mask: number): boolean {
  const lo = e[i * ENTRY_WORDS];
  const hi = e[i * ENTRY_WORDS + 1];
  for (let s = lo & mask, j = table[s]; j !== -1; s = (s + 1) & mask, j = table[s]) {
    if (e[j * ENTRY_WORDS] === lo && e[j * ENTRY_WORDS + 1] === hi) return j === i;
  }
  return false;
}

function entries(rows: [number, number][]): Uint32Array {
  const e = new Uint32Array(rows.length * ENTRY_WORDS);
  rows.forEach(([k, v], i) => {
    // Keys that share their low bits probe the same slots.
    e.set([k * 64, k % 3, v, 0, i + 1, i, 0], i * ENTRY_WORDS);
  });
  return e;
}

function record(compare: (b: Uint32Array, a: Uint32Array, keyed: boolean, v: PartitionVisitor) => void, b: Uint32Array, a: Uint32Array, keyed: boolean): string[] {
  const out: string[] = [];
  let unchanged = 0;
  compare(b, a, keyed, {
    added: (i) => out.push(`added ${i}`),
    removed: (i) => out.push(`removed ${i}`),
    modified: (x, y) => out.push(`modified ${x} ${y}`),
    unchanged: (n) => (unchanged += n),
    duplicate: (side, x, y) => out.push(`duplicate ${side} ${x} ${y}`),
  });
  return [...out.sort(), `unchanged ${unchanged}`];
}

describe('comparePartition', () => {
  it('finds what the two-table version found', () => {
    const rows = fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 2 })), { maxLength: 40 });
    fc.assert(
      fc.property(rows, rows, fc.boolean(), (rb, ra, keyed) => {
        const b = entries(rb);
        const a = entries(ra);
        expect(record(comparePartition, b, a, keyed)).toEqual(record(referenceCompare, b, a, keyed));
      }),
      { numRuns: 1000 },
    );
  });
});
