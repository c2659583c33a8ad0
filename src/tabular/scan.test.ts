import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Batch, TableReader } from './reader.js';
import { scanSide, type ScanConfig } from './scan.js';
import { KIND_INTEGER, KIND_NUMBER } from './values.js';

/**
 * Typed numeric columns (as Parquet hands them over) take a fast path once
 * their categories are dropped. These tests check its statistics against
 * sums written out here, over batches where NaN, infinities and -0 arrive
 * after the fast path has begun.
 */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-scan-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A reader of one typed column, in the batches given. */
function typedReader(batches: Float64Array[] | Int32Array[]): TableReader {
  return {
    format: 'parquet',
    label: 'x',
    columns: ['x'],
    headerFirst: true,
    untyped: false,
    estimateRows: () => batches.reduce((n, b) => n + b.length, 0),
    async scan(onBatch: (b: Batch) => void) {
      let row = 0;
      for (const col of batches) {
        const positions = Float64Array.from({ length: col.length }, (_, i) => row + i);
        onBatch({ n: col.length, firstRow: row + 1, columns: [col], positions });
        row += col.length;
      }
    },
    fetch: async () => {},
    adopt: () => {},
    close: async () => {},
  };
}

function config(tag: string): ScanConfig {
  return {
    format: 'parquet',
    input: { file: '/dev/null', size: 0, label: 'x' },
    key: null,
    rowHash: 'columns',
    hashed: null,
    stats: true,
    categoryLimit: 20,
    layout: { parts: 1, capacity: 1 << 16, dir: tmp, tag },
  };
}

/** Exact sum of finite values (small integers and halves here, so any order gives the same double). */
function oracle(values: number[]) {
  const finite = values.filter((x) => Number.isFinite(x));
  return {
    nonNull: values.length,
    numCount: finite.length,
    min: Math.min(...finite),
    max: Math.max(...finite),
    sum: finite.reduce((a, b) => a + b, 0),
    allIntegers: values.every((x) => Number.isInteger(x)),
  };
}

describe('scan statistics of typed numeric columns', () => {
  it('count, sum, min and max match over batches with NaN, infinities and -0 past the category limit', async () => {
    // Batch 1: 40 distinct values (the categories drop); later batches hold the specials.
    const b1 = Float64Array.from({ length: 40 }, (_, i) => i - 10);
    const b2 = Float64Array.from([1.5, NaN, -0, 7, Infinity, 2.5]);
    const b3 = Float64Array.from([-Infinity, -20.5, 3, NaN, 100]);
    const r = await scanSide(typedReader([b1, b2, b3]), config('t1'));
    const s = r.summaries![0];
    const want = oracle([...b1, ...b2, ...b3]);
    expect(r.rows).toBe(51);
    expect(s.nonNull).toBe(want.nonNull);
    expect(s.numCount).toBe(want.numCount);
    expect(s.min).toBe(want.min);
    expect(s.max).toBe(want.max);
    expect(s.sum).toBe(want.sum);
    expect(s.categories).toBeNull();
    expect(s.kinds & KIND_NUMBER).toBe(KIND_NUMBER);
  });

  it('an integer column stays integer, with the same sums', async () => {
    const b1 = Int32Array.from({ length: 64 }, (_, i) => i * 3 - 50);
    const b2 = Int32Array.from([2147483647, -2147483648, 0, 5]);
    const r = await scanSide(typedReader([b1, b2]), config('t2'));
    const s = r.summaries![0];
    const want = oracle([...b1, ...b2]);
    expect(s.nonNull).toBe(want.nonNull);
    expect(s.numCount).toBe(want.numCount);
    expect([s.min, s.max, s.sum]).toEqual([want.min, want.max, want.sum]);
    expect(s.kinds).toBe(KIND_INTEGER);
  });

  it('gives the same row hashes and summaries however the rows are cut into batches', async () => {
    const all = Float64Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? NaN : i % 11 === 0 ? -0 : (i * 37) % 101) / 4);
    const one = await scanSide(typedReader([all]), config('t3'));
    const cuts = [all.slice(0, 5), all.slice(5, 130), all.slice(130, 131), all.slice(131)];
    const many = await scanSide(typedReader(cuts), config('t4'));
    expect(many.summaries).toEqual(one.summaries);
    expect(many.index.memory.map((m) => [...m])).toEqual(one.index.memory.map((m) => [...m]));
  });
});
