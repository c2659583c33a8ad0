import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ksDistance, profileTable, psi } from './profile.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-profile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function csv(name: string, text: string) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return { file, size: Buffer.byteLength(text), label: name };
}

describe('profileTable', () => {
  it('counts rows, nulls, types, ranges, categories and repeated keys in one scan', async () => {
    const input = csv('a.csv', 'id,score,label\n1,0.5,cat\n2,,dog\n2,1.5,cat\n3,2,"c,at"\n');
    const p = await profileTable('csv', input, { unique: ['id'], sample: ['score'], tmpDir: dir });
    expect(p.rows).toBe(4);
    expect(p.duplicateKeys).toBe(1);
    const [id, score, label] = p.columns;
    expect(id).toMatchObject({ name: 'id', type: 'integer', nulls: 0, min: 1, max: 3 });
    expect(score).toMatchObject({ name: 'score', type: 'number', nulls: 1, numeric: 3, min: 0.5, max: 2, sample: [0.5, 1.5, 2] });
    expect(label.categories).toEqual([
      ['c,at', 1],
      ['cat', 2],
      ['dog', 1],
    ]);
  });

  it('skips the duplicate count when a key column is missing', async () => {
    const p = await profileTable('csv', csv('b.csv', 'a\n1\n1\n'), { unique: ['nope'], tmpDir: dir });
    expect(p.duplicateKeys).toBeUndefined();
  });
});

describe('distribution distances', () => {
  const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i)).sort((a, b) => a - b);
  it('are 0 for equal samples and grow with a shift', () => {
    const a = range(1000, (i) => i);
    expect(ksDistance(a, a)).toBe(0);
    expect(psi(a, a)).toBeCloseTo(0, 10);
    const b = range(1000, (i) => i + 500);
    expect(ksDistance(a, b)).toBeCloseTo(0.5, 2);
    expect(psi(a, b)).toBeGreaterThan(1);
    expect(ksDistance(a, range(1000, (i) => i + 5000))).toBe(1);
    expect(ksDistance([], a)).toBe(0);
  });
});
