import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENTRY_WORDS, ROW_ENTRY_WORDS, RowIndexWriter, comparePartition, entryPosition, loadPartition, removePartitions, type PartitionVisitor } from './partitions.js';

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

/** narrow re-encodes 7-word entries as 5-word ones (a layout with rowPositions), whose position is row - 1. */
function narrow(e: Uint32Array): Uint32Array {
  const n = e.length / ENTRY_WORDS;
  const out = new Uint32Array(n * ROW_ENTRY_WORDS);
  for (let i = 0; i < n; i++) out.set(e.subarray(i * ENTRY_WORDS, i * ENTRY_WORDS + ROW_ENTRY_WORDS), i * ROW_ENTRY_WORDS);
  return out;
}

function record(b: Uint32Array, a: Uint32Array, keyed: boolean, W: number = ENTRY_WORDS): string[] {
  const out: string[] = [];
  let unchanged = 0;
  const v: PartitionVisitor = {
    added: (i) => out.push(`added ${i}`),
    removed: (i) => out.push(`removed ${i}`),
    modified: (x, y) => out.push(`modified ${x} ${y}`),
    unchanged: (n) => (unchanged += n),
    duplicate: (side, x, y) => out.push(`duplicate ${side} ${x} ${y}`),
  };
  comparePartition(b, a, keyed, v, W);
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

  it('finds the same in entries of 5 words (positions left out) as in entries of 7', () => {
    const rows = fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 2 })), { maxLength: 40 });
    fc.assert(
      fc.property(rows, rows, fc.boolean(), (rb, ra, keyed) => {
        expect(record(narrow(entries(rb, keyed)), narrow(entries(ra, keyed)), keyed, ROW_ENTRY_WORDS)).toEqual(naiveCompare(rowsOf(rb, keyed), rowsOf(ra, keyed), keyed));
      }),
      { numRuns: 300 },
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

describe('RowIndexWriter', () => {
  /** write adds `n` rows (row r at position r - 1) one by one or per batch, with partitions that spill after 5 entries. */
  function write(rowPositions: boolean, batched: boolean, n: number) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-index-'));
    const w = new RowIndexWriter({ parts: 4, capacity: 5, dir, tag: 'side', rowPositions });
    const kLo = new Uint32Array(n);
    const kHi = new Uint32Array(n);
    const rLo = new Uint32Array(n);
    const rHi = new Uint32Array(n);
    const positions = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      kLo[i] = (i * 2654435761) >>> 0;
      kHi[i] = (i * 40503 * 65537) >>> 0;
      rLo[i] = i * 3;
      rHi[i] = i * 5;
      positions[i] = i;
    }
    if (batched) w.addRows(kLo, kHi, rLo, rHi, 1, positions, n);
    else for (let i = 0; i < n; i++) w.add(kLo[i], kHi[i], rLo[i], rHi[i], i + 1, positions[i]);
    return { w, dir, snap: w.snapshot() };
  }

  it('keeps the same entries with positions left out, spilled or not, added per row or per batch', () => {
    const n = 200;
    const wide = write(false, false, n);
    for (const batched of [false, true]) {
      const rows = write(true, batched, n);
      expect(rows.snap.entries).toBe(n);
      expect(rows.snap.spilled.some((x) => x > 0)).toBe(true);
      let seen = 0;
      for (let p = 0; p < 4; p++) {
        const e7 = loadPartition(wide.snap, p);
        const e5 = loadPartition(rows.snap, p);
        expect(e5.length / ROW_ENTRY_WORDS).toBe(e7.length / ENTRY_WORDS);
        for (let i = 0; i < e5.length / ROW_ENTRY_WORDS; i++) {
          expect([...e5.subarray(i * ROW_ENTRY_WORDS, (i + 1) * ROW_ENTRY_WORDS)]).toEqual([...e7.subarray(i * ENTRY_WORDS, i * ENTRY_WORDS + ROW_ENTRY_WORDS)]);
          expect(entryPosition(e5, i, ROW_ENTRY_WORDS)).toBe(entryPosition(e7, i));
          expect(entryPosition(e5, i, ROW_ENTRY_WORDS)).toBe(e5[i * ROW_ENTRY_WORDS + 4] - 1);
          seen++;
        }
      }
      expect(seen).toBe(n);
      removePartitions(rows.snap);
      fs.rmSync(rows.dir, { recursive: true, force: true });
    }
    removePartitions(wide.snap);
    fs.rmSync(wide.dir, { recursive: true, force: true });
  });

  it('refuses a position that is not the row index when entries leave positions out', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-index-'));
    const w = new RowIndexWriter({ parts: 1, capacity: 16, dir, tag: 'side', rowPositions: true });
    expect(() => w.add(1, 2, 3, 4, 1, 7)).toThrow(/position 7/);
    const one = new Uint32Array(1);
    expect(() => w.addRows(one, one, one, one, 3, new Float64Array([9]), 1)).toThrow(/position 9/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
