import { describe, expect, it } from 'vitest';
import type { ColumnSummary } from './column-stats.js';
import { keyCandidate } from './key-choice.js';

const col = (name: string, nonNull: number, categories: [string, number][] | null = null): ColumnSummary =>
  ({ name, nonNull, kinds: 0, numCount: 0, min: 0, max: 0, sum: 0, categories, contentLo: 0, contentHi: 0, keyedLo: 0, keyedHi: 0 });
const side = (rows: number, cols: ColumnSummary[]) => ({ rows, summaries: cols });
const pairs = (names: string[]) => names.map((n, i) => ({ before: n, after: n, b: i, a: i }));

describe('keyCandidate', () => {
  it('prefers a column named id, then an identifier-like name, over the first column', () => {
    const names = ['file', 'sample_id', 'id'];
    const s = side(100, names.map((n) => col(n, 100)));
    expect(keyCandidate(pairs(names), s, s, 20)).toBe('id');
    const two = ['file', 'sampleId'];
    const t = side(100, two.map((n) => col(n, 100)));
    expect(keyCandidate(pairs(two), t, t, 20)).toBe('sampleId');
  });

  it('rules out columns with nulls, categories, renamed pairs, and a plain column that is not the first', () => {
    const names = ['label', 'id', 'score'];
    const b = side(100, [col('label', 100, [['cat', 60], ['dog', 40]]), col('id', 99), col('score', 100)]);
    const a = side(100, names.map((n) => col(n, 100)));
    expect(keyCandidate(pairs(names), b, a, 20)).toBeNull();
    expect(keyCandidate([{ before: 'old_id', after: 'id', b: 0, a: 0 }], side(5, [col('old_id', 5)]), side(5, [col('id', 5)]), 20)).toBeNull();
    const first = side(100, [col('path', 100), col('score', 100)]);
    expect(keyCandidate(pairs(['path', 'score']), first, first, 20)).toBe('path');
  });

  it('accepts a small table whose every value is a category', () => {
    const s = side(3, [col('id', 3, [['1', 1], ['2', 1], ['3', 1]])]);
    expect(keyCandidate(pairs(['id']), s, s, 20)).toBe('id');
  });
});
