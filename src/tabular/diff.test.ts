import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { tempTables } from './fixtures.test-support.js';
import { diffTable, tableFormatOf, type TableDiff, type TableDiffOptions, type TableFormat, type TableInput } from './index.js';


const t = tempTables('diff');

function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.join(',')).join('\n') + '\n';
}

async function diff(format: TableFormat, before: TableInput | null, after: TableInput | null, options: Partial<TableDiffOptions> = {}): Promise<TableDiff> {
  return diffTable('data/t', format, before, after, { tmpDir: t.tmp(), ...options });
}

function column(d: TableDiff, name: string) {
  const c = d.columns.find((x) => x.name === name);
  if (!c) throw new Error(`column ${name} not in diff: ${d.columns.map((x) => x.name).join(', ')}`);
  return c;
}

describe('tableFormatOf', () => {
  it('recognises table extensions in any case', () => {
    expect(tableFormatOf('a/b/train.CSV')).toBe('csv');
    expect(tableFormatOf('x.tsv')).toBe('tsv');
    expect(tableFormatOf('x.tab')).toBe('tsv');
    expect(tableFormatOf('x.jsonl')).toBe('jsonl');
    expect(tableFormatOf('x.NDJSON')).toBe('jsonl');
    expect(tableFormatOf('x.parquet')).toBe('parquet');
    expect(tableFormatOf('x.csv.gz')).toBeNull();
    expect(tableFormatOf('.csv')).toBeNull();
    expect(tableFormatOf('README')).toBeNull();
  });
});

describe('keyed diff', () => {
  it('counts added, removed, modified and unchanged rows and the changed cells', async () => {
    const a = t.write('k1.csv', csv([['id', 'label', 'x'], [1, 'cat', 1.5], [2, 'dog', 2], [3, 'cat', 3], [4, 'cat', 4]]));
    const b = t.write('k2.csv', csv([['id', 'label', 'x'], [1, 'cat', 1.5], [2, 'cat', 2], [3, 'cat', 3.5], [5, 'dog', 7]]));
    const d = await diff('csv', a, b, { key: ['id'], rows: true });
    expect(d.rows).toEqual({ before: 4, after: 4, added: 1, removed: 1, modified: 2, unchanged: 1 });
    expect(column(d, 'label').changedCells).toBe(1);
    expect(column(d, 'x').changedCells).toBe(1);
    expect(d.rowChanges).toEqual([
      { kind: 'modified', key: { id: '2' }, rowBefore: 2, rowAfter: 2, before: { id: '2', label: 'dog', x: '2' }, after: { id: '2', label: 'cat', x: '2' }, changedColumns: ['label'] },
      { kind: 'modified', key: { id: '3' }, rowBefore: 3, rowAfter: 3, before: { id: '3', label: 'cat', x: '3' }, after: { id: '3', label: 'cat', x: '3.5' }, changedColumns: ['x'] },
      { kind: 'added', key: { id: '5' }, rowAfter: 4, after: { id: '5', label: 'dog', x: '7' } },
      { kind: 'removed', key: { id: '4' }, rowBefore: 4, before: { id: '4', label: 'cat', x: '4' } },
    ]);
    expect(d.rowChangesTruncated).toBe(false);
    expect(d.key).toEqual(['id']);
  });

  it('matches by several key columns, independent of row order', async () => {
    const a = t.write('m1.tsv', 'city\tyear\tpop\nOslo\t2020\t1\nOslo\t2021\t2\nRome\t2020\t3\n');
    const b = t.write('m2.tsv', 'city\tyear\tpop\nRome\t2020\t3\nOslo\t2021\t5\nOslo\t2020\t1\n');
    const d = await diff('tsv', a, b, { key: ['city', 'year'], rows: true });
    expect(d.rows).toMatchObject({ added: 0, removed: 0, modified: 1, unchanged: 2 });
    expect(d.rowChanges?.[0]).toMatchObject({ kind: 'modified', key: { city: 'Oslo', year: '2021' }, rowBefore: 2, rowAfter: 2, changedColumns: ['pop'] });
  });

  it('lists at most `limit` row changes and says when it cut the list', async () => {
    const rows = (n: number, label: string) => [['id', 'label'], ...Array.from({ length: n }, (_, i) => [i, label])];
    const a = t.write('l1.csv', csv(rows(50, 'a')));
    const b = t.write('l2.csv', csv(rows(50, 'b')));
    const d = await diff('csv', a, b, { key: ['id'], rows: true, limit: 3 });
    expect(d.rows.modified).toBe(50);
    expect(d.rowChanges?.map((r) => r.rowAfter)).toEqual([1, 2, 3]);
    expect(d.rowChangesTruncated).toBe(true);
    const quiet = await diff('csv', a, b, { key: ['id'] });
    expect(quiet.rowChanges).toBeUndefined();
  });

  it('reports category shares before and after (cat 41% -> 33%)', async () => {
    const mk = (cats: number, total: number) => [['id', 'label'], ...Array.from({ length: total }, (_, i) => [i, i < cats ? 'cat' : 'dog'])];
    const a = t.write('c1.csv', csv(mk(41, 100)));
    const b = t.write('c2.csv', csv(mk(33, 100)));
    const d = await diff('csv', a, b, { key: ['id'] });
    const label = column(d, 'label');
    expect(label.changedCells).toBe(8);
    expect(label.categories).toEqual([
      { value: 'cat', before: 41, after: 33, shareBefore: 0.41, shareAfter: 0.33 },
      { value: 'dog', before: 59, after: 67, shareBefore: 0.59, shareAfter: 0.67 },
    ]);
    // The id column has 100 distinct values: no categories, and it did not change.
    expect(d.columns.map((c) => c.name)).toEqual(['label']);
  });

  it('leaves unchanged columns out and reports numeric summaries of changed ones', async () => {
    const a = t.write('n1.csv', csv([['id', 'keep', 'v'], [1, 'x', 10], [2, 'y', 20], [3, 'z', '']]));
    const b = t.write('n2.csv', csv([['id', 'keep', 'v'], [1, 'x', 10], [2, 'y', 40], [3, 'z', 30]]));
    const d = await diff('csv', a, b, { key: ['id'], categoryLimit: 1 });
    expect(d.columns.map((c) => c.name)).toEqual(['v']);
    expect(column(d, 'v')).toEqual({
      name: 'v',
      before: { type: 'integer', nulls: 1, numeric: { count: 2, min: 10, max: 20, mean: 15 } },
      after: { type: 'integer', nulls: 0, numeric: { count: 3, min: 10, max: 40, mean: 80 / 3 } },
      changedCells: 2,
    });
  });
});

describe('keyless diff', () => {
  it('matches rows as a multiset: duplicates count, nothing is modified', async () => {
    const a = t.write('u1.csv', csv([['a', 'b'], [1, 2], [1, 2], [1, 2], [3, 4]]));
    const b = t.write('u2.csv', csv([['a', 'b'], [3, 4], [1, 2], [5, 6], [5, 6]]));
    const d = await diff('csv', a, b, { rows: true });
    expect(d.rows).toEqual({ before: 4, after: 4, added: 2, removed: 2, modified: 0, unchanged: 2 });
    expect(d.key).toBeNull();
    expect(d.rowChanges?.filter((r) => r.kind === 'added').map((r) => r.rowAfter)).toEqual([3, 4]);
    expect(d.rowChanges?.every((r) => r.key === null)).toBe(true);
  });

  it('ignores column order and quoting style when comparing rows', async () => {
    const a = t.write('o1.csv', 'a,b\n1,x\n2,y\n');
    const b = t.write('o2.csv', '"b","a"\n"x",1\ny,"2"\n');
    const d = await diff('csv', a, b);
    expect(d.rows).toMatchObject({ added: 0, removed: 0, unchanged: 2 });
    expect(d.schema).toEqual({ added: [], removed: [], renamed: [], typeChanged: [] });
  });
});

describe('schema changes', () => {
  it('detects a renamed column by its values and still matches rows', async () => {
    const a = t.write('r1.csv', csv([['id', 'label', 'w'], [1, 'cat', 5], [2, 'dog', 6], [3, 'cat', 7]]));
    const b = t.write('r2.csv', csv([['id', 'class', 'w'], [1, 'cat', 5], [2, 'dog', 6], [3, 'cat', 8]]));
    const d = await diff('csv', a, b, { key: ['id'] });
    expect(d.schema.renamed).toEqual([{ from: 'label', to: 'class' }]);
    expect(d.schema.added).toEqual([]);
    expect(d.schema.removed).toEqual([]);
    // Only w changed in row 3: the rename alone modifies no row.
    expect(d.rows).toMatchObject({ modified: 1, unchanged: 2 });
    expect(column(d, 'class')).toMatchObject({ renamedFrom: 'label', changedCells: 0 });
    expect(column(d, 'w').changedCells).toBe(1);
  });

  it('does not take a removed and an added flag column for a rename when their values differ row by row', async () => {
    // Equal multisets (two 0s, two 1s) but swapped per row: a rename would show every row as modified.
    const a = t.write('fr1.csv', 'id,is_train,x\n1,1,a\n2,0,b\n3,1,c\n4,0,d\n');
    const b = t.write('fr2.csv', 'id,x,is_test\n1,a,0\n2,b,1\n3,c,0\n4,d,1\n');
    const d = await diff('csv', a, b, { key: ['id'] });
    expect(d.schema).toEqual({ added: [{ name: 'is_test', type: 'integer' }], removed: [{ name: 'is_train', type: 'integer' }], renamed: [], typeChanged: [] });
    expect(d.rows).toMatchObject({ modified: 0, unchanged: 4 });
    // Without a key, equal multisets of few distinct values are no evidence at all.
    const c = t.write('fr3.csv', 'x,is_train\na,1\nb,0\n');
    const e = t.write('fr4.csv', 'x,is_test\na,0\nb,1\n');
    const k = await diff('csv', c, e);
    expect(k.schema.renamed).toEqual([]);
    expect(k.rows).toMatchObject({ unchanged: 2, added: 0, removed: 0 });
  });

  it('does not pair all-empty columns, nor a column with two candidates', async () => {
    const a = t.write('fe1.csv', 'id,old_empty\n1,\n2,\n');
    const b = t.write('fe2.csv', 'id,new_empty\n1,\n2,\n');
    expect((await diff('csv', a, b, { key: ['id'] })).schema.renamed).toEqual([]);
    const rows = Array.from({ length: 30 }, (_, i) => i);
    const c = t.write('fa1.csv', csv([['id', 'score'], ...rows.map((i) => [i, i * 1.5])]));
    const e = t.write('fa2.csv', csv([['id', 'p', 'q'], ...rows.map((i) => [i, i * 1.5, i * 1.5])]));
    const d = await diff('csv', c, e, { key: ['id'] });
    expect(d.schema.renamed).toEqual([]);
    expect(d.schema.removed.map((r) => r.name)).toEqual(['score']);
  });

  it('detects a renamed continuous column without a key', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => i);
    const a = t.write('fk1.csv', csv([['conf', 'w'], ...rows.map((i) => [(i / 31).toFixed(4), i])]));
    const b = t.write('fk2.csv', csv([['confidence', 'w'], ...rows.map((i) => [(i / 31).toFixed(4), i])]));
    const d = await diff('csv', a, b);
    expect(d.schema.renamed).toEqual([{ from: 'conf', to: 'confidence' }]);
    expect(d.rows).toMatchObject({ unchanged: 30, added: 0, removed: 0 });
  });

  it('detects renamed Parquet number columns (typed arrays) as it does strings', async () => {
    for (const type of ['INT32', 'INT64', 'DOUBLE'] as const) {
      const values = type === 'INT64' ? [10n, 20n, 30n] : type === 'DOUBLE' ? [1.5, 2.5, 3.5] : [10, 20, 30];
      const write = (name: string, column: string) => {
        const file = path.join(t.dir(), name);
        parquetWriteFile({ filename: file, columnData: [{ name: 'id', data: [1, 2, 3], type: 'INT32', nullable: false }, { name: column, data: values, type, nullable: false }] });
        return { file, size: fs.statSync(file).size, label: name };
      };
      const d = await diff('parquet', write(`pr1-${type}.parquet`, 'score'), write(`pr2-${type}.parquet`, 'score_v2'), { key: ['id'] });
      expect(d.schema.renamed, type).toEqual([{ from: 'score', to: 'score_v2' }]);
      expect(d.rows, type).toMatchObject({ modified: 0, unchanged: 3 });
    }
  });

  it('reports added and removed columns with their types, and compares rows on the common ones', async () => {
    const a = t.write('s1.csv', csv([['id', 'old'], [1, 'a'], [2, 'b']]));
    const b = t.write('s2.csv', csv([['id', 'new'], [1, '2024-01-02'], [2, '2024-03-04']]));
    const d = await diff('csv', a, b, { key: ['id'] });
    expect(d.schema.added).toEqual([{ name: 'new', type: 'date' }]);
    expect(d.schema.removed).toEqual([{ name: 'old', type: 'string' }]);
    expect(d.rows).toMatchObject({ modified: 0, unchanged: 2 });
    expect(column(d, 'new').before).toBeNull();
    expect(column(d, 'old').after).toBeNull();
  });

  it('infers column types and reports a type change', async () => {
    const a = t.write('y1.csv', csv([['id', 'n', 'b', 'e', 'm'], [1, 1, 'true', '', 1], [2, 2, 'FALSE', '', 'x']]));
    const b = t.write('y2.csv', csv([['id', 'n', 'b', 'e', 'm'], [1, 1.5, 'true', '', 1], [2, 2, 'false', '', 'x']]));
    const d = await diff('csv', a, b, { key: ['id'] });
    expect(d.schema.typeChanged).toEqual([{ name: 'n', before: 'integer', after: 'number' }]);
    expect(column(d, 'n').after?.type).toBe('number');
    expect(column(d, 'b').before?.type).toBe('boolean');
    expect(d.columns.find((c) => c.name === 'e')).toBeUndefined();
    const added = await diff('csv', null, a);
    expect(Object.fromEntries(added.schema.added.map((c) => [c.name, c.type]))).toEqual({ id: 'integer', n: 'integer', b: 'boolean', e: 'null', m: 'mixed' });
  });
});

describe('added and deleted files', () => {
  it('counts every row as added or removed, with stats for one side only', async () => {
    const a = t.write('ad.csv', csv([['id', 'label'], [1, 'cat'], [2, 'cat'], [3, 'dog']]));
    const added = await diff('csv', null, a, { key: ['id'], rows: true, limit: 2 });
    expect(added.rows).toEqual({ before: 0, after: 3, added: 3, removed: 0, modified: 0, unchanged: 0 });
    expect(column(added, 'label')).toMatchObject({ before: null, after: { type: 'string', nulls: 0 } });
    expect(column(added, 'label').categories?.[0]).toEqual({ value: 'cat', before: 0, after: 2, shareBefore: 0, shareAfter: 2 / 3 });
    expect(added.rowChanges?.map((r) => r.rowAfter)).toEqual([1, 2]);
    expect(added.rowChangesTruncated).toBe(true);
    const deleted = await diff('csv', a, null, { key: ['id'] });
    expect(deleted.rows).toEqual({ before: 3, after: 0, added: 0, removed: 3, modified: 0, unchanged: 0 });
  });
});

describe('CSV syntax', () => {
  it('reads quoted fields with commas, quotes, newlines, CRLF and a BOM', async () => {
    const a = t.write('q1.csv', '\uFEFFid,text\r\n1,"a, b"\r\n2,"say ""hi"""\r\n3,"two\r\nlines"\r\n4,\r\n');
    const b = t.write('q2.csv', 'id,text\n1,"a, b"\n2,"say ""hi"""\n3,"two\r\nlines!"\n4,""\n');
    const d = await diff('csv', a, b, { key: ['id'], rows: true });
    expect(d.rows).toMatchObject({ before: 4, after: 4, modified: 1, unchanged: 3 });
    expect(d.rowChanges?.[0]).toMatchObject({ key: { id: '3' }, before: { text: 'two\r\nlines' }, after: { text: 'two\r\nlines!' } });
    expect(column(d, 'text').before?.nulls).toBe(1);
  });

  it('handles non-ASCII text and rows spread over many read chunks', async () => {
    const rows = [['id', 'name'], ...Array.from({ length: 30000 }, (_, i) => [i, i % 3 === 0 ? `"Zoë ${i}\nnext"` : `Ünïcode ${i}`])];
    const a = t.write('big1.csv', csv(rows));
    rows[20000][1] = 'changed';
    const b = t.write('big2.csv', csv(rows));
    expect(a.size).toBeGreaterThan(1 << 19);
    const d = await diff('csv', a, b, { key: ['id'], rows: true, limit: 1 });
    expect(d.rows).toMatchObject({ before: 30000, modified: 1, unchanged: 29999 });
    expect(d.rowChanges?.[0]).toMatchObject({ rowBefore: 20000, before: { name: 'Ünïcode 19999' }, after: { name: 'changed' } });
  });
});

describe('JSON Lines', () => {
  it('takes the union of keys as columns and keeps JSON types apart', async () => {
    const a = t.write('j1.jsonl', '{"id":1,"v":1}\n{"id":2,"v":"1"}\n\n{"id":3,"v":true}\n');
    const b = t.write('j2.jsonl', '{"id":1,"v":1.0}\n{"id":2,"v":1}\n{"id":3,"v":true,"extra":{"a":[1]}}\n');
    const d = await diff('jsonl', a, b, { key: ['id'], rows: true });
    expect(d.rows).toMatchObject({ modified: 1, unchanged: 2 });
    expect(d.rowChanges?.[0]).toMatchObject({ key: { id: 2 }, rowBefore: 2, before: { id: 2, v: '1' }, after: { id: 2, v: 1, extra: null } });
    expect(d.schema.added).toEqual([{ name: 'extra', type: 'string' }]);
    expect(column(d, 'v').before?.type).toBe('mixed');
  });
});

describe('Parquet', () => {
  function writeParquet(name: string, n: number, shift: number, codec: 'SNAPPY' | 'UNCOMPRESSED' = 'SNAPPY'): TableInput {
    const file = path.join(t.dir(), name);
    const ids: number[] = [];
    const labels: string[] = [];
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(i + shift);
      labels.push(['cat', 'dog', 'bird'][(i + shift) % 3]);
      xs.push(i === 7 && shift > 0 ? -1 : (i + shift) * 0.5);
    }
    parquetWriteFile({
      filename: file,
      codec,
      rowGroupSize: 1000,
      columnData: [
        { name: 'id', data: ids, type: 'INT32' },
        { name: 'label', data: labels, type: 'STRING' },
        { name: 'x', data: xs, type: 'DOUBLE' },
      ],
    });
    return { file, size: fs.statSync(file).size, label: `${name} at test` };
  }

  it('diffs row group by row group', async () => {
    const a = writeParquet('p1.parquet', 4500, 0);
    const b = writeParquet('p2.parquet', 4500, 20, 'UNCOMPRESSED');
    const d = await diff('parquet', a, b, { key: ['id'], rows: true, limit: 9 });
    expect(d.rows).toEqual({ before: 4500, after: 4500, added: 20, removed: 20, modified: 1, unchanged: 4479 });
    expect(column(d, 'x')).toMatchObject({ changedCells: 1, before: { type: 'number' } });
    expect(d.rowChanges?.[0]).toEqual({ kind: 'removed', key: { id: 0 }, rowBefore: 1, before: { id: 0, label: 'cat', x: 0 } });
    // In file order: removed rows by their row before, the modified one by its row after (8).
    expect(d.rowChanges?.map((r) => r.kind).join()).toBe('removed,removed,removed,removed,removed,removed,removed,removed,modified');
    expect(d.rowChanges?.[8]).toMatchObject({ kind: 'modified', key: { id: 27 }, rowBefore: 28, rowAfter: 8, changedColumns: ['x'] });
  });
});

describe('changed cells of Parquet rows', () => {
  it('counts them from the cell hashes of the scan, across row groups, reordered and renamed columns', async () => {
    const n = 3000;
    const ids = Array.from({ length: n }, (_, i) => i);
    const write = (name: string, rowGroupSize: number, columnData: { name: string; data: unknown[]; type: 'INT32' | 'DOUBLE' | 'STRING'; nullable?: boolean }[]): TableInput => {
      const file = path.join(t.dir(), name);
      parquetWriteFile({ filename: file, rowGroupSize, columnData });
      return { file, size: fs.statSync(file).size, label: `${name} at test` };
    };
    const before = write('cc1.parquet', 700, [
      { name: 'id', data: ids, type: 'INT32', nullable: false },
      { name: 'a', data: ids.map((i) => i * 0.5), type: 'DOUBLE', nullable: false },
      { name: 's', data: ids.map((i) => (i % 5 === 0 ? null : `s${i % 13}`)), type: 'STRING' },
      { name: 'old', data: ids.map((i) => i * 3), type: 'INT32', nullable: false },
    ]);
    // The after side: rows in reverse order, columns in another order, `old` renamed, `a` changed in every third row and `s` in every seventh.
    const rev = [...ids].reverse();
    const after = write('cc2.parquet', 1000, [
      { name: 's', data: rev.map((i) => (i % 7 === 0 ? (i % 5 === 0 ? 'x' : null) : i % 5 === 0 ? null : `s${i % 13}`)), type: 'STRING' },
      { name: 'id', data: rev, type: 'INT32', nullable: false },
      { name: 'neu', data: rev.map((i) => i * 3), type: 'INT32', nullable: false },
      { name: 'a', data: rev.map((i) => i * 0.5 + (i % 3 === 0 ? 1 : 0)), type: 'DOUBLE', nullable: false },
    ]);
    const count = (f: (i: number) => boolean) => ids.filter(f).length;
    for (const memoryBudget of [undefined, 20_000]) {
      const d = await diff('parquet', before, after, { key: ['id'], rows: true, limit: 3, memoryBudget });
      const modified = count((i) => i % 3 === 0 || i % 7 === 0);
      expect(d.rows).toEqual({ before: n, after: n, added: 0, removed: 0, modified, unchanged: n - modified });
      expect(d.schema.renamed).toEqual([{ from: 'old', to: 'neu' }]);
      expect(column(d, 'a').changedCells).toBe(count((i) => i % 3 === 0));
      expect(column(d, 's').changedCells).toBe(count((i) => i % 7 === 0));
      expect(column(d, 'neu').changedCells).toBe(0);
      expect(d.columns.find((c) => c.name === 'id')).toBeUndefined();
      // In file order of the after side: ids 2997 (a), 2996 (s), 2994 (a).
      expect(d.rowChanges?.map((r) => [r.key, r.rowBefore, r.rowAfter, r.changedColumns])).toEqual([
        [{ id: 2997 }, 2998, 3, ['a']],
        [{ id: 2996 }, 2997, 4, ['s']],
        [{ id: 2994 }, 2995, 6, ['a']],
      ]);
    }
    expect(fs.readdirSync(t.tmp())).toEqual([]);
  });

  it('reads the modified rows again when cell hash files would outgrow the inputs', async () => {
    const n = 60_000;
    const ids = Array.from({ length: n }, (_, i) => i);
    const cols = (changed: boolean) => [
      { name: 'id', data: ids, type: 'INT32' as const, nullable: false },
      ...Array.from({ length: 9 }, (_, c) => ({ name: `c${c}`, data: ids.map((i) => (changed && c === 4 && i % 1000 === 0 ? 1 : 0)), type: 'INT32' as const, nullable: false })),
    ];
    const file = (name: string, changed: boolean): TableInput => {
      const f = path.join(t.dir(), name);
      parquetWriteFile({ filename: f, rowGroupSize: 20_000, columnData: cols(changed) });
      return { file: f, size: fs.statSync(f).size, label: `${name} at test` };
    };
    const before = file('big-cells1.parquet', false);
    const after = file('big-cells2.parquet', true);
    // Four bytes a cell would be far more than the files (see cellFilesFit in diff.ts).
    expect(n * 10 * 4).toBeGreaterThan(4 * Math.max(before.size, after.size) + (1 << 20));
    const d = await diff('parquet', before, after, { key: ['id'] });
    expect(d.rows).toMatchObject({ modified: 60, unchanged: n - 60 });
    expect(d.columns.map((c) => [c.name, c.changedCells])).toEqual([['c4', 60]]);
  });
});

describe('strings that name object properties', () => {
  it('counts them as any other value', async () => {
    const rows = (xs: string[]) => xs.map((s, i) => JSON.stringify({ id: i, s })).join('\n') + '\n';
    const a = t.write('proto1.jsonl', rows(['__proto__', 'constructor', '__proto__', 'x']));
    const b = t.write('proto2.jsonl', rows(['__proto__', 'toString', 'x', 'x']));
    const d = await diff('jsonl', a, b, { key: ['id'] });
    expect(column(d, 's').changedCells).toBe(2);
    expect(column(d, 's').categories?.map((c) => [c.value, c.before, c.after])).toEqual([
      ['__proto__', 2, 1],
      ['constructor', 1, 0],
      ['toString', 0, 1],
      ['x', 1, 2],
    ]);
  });
});

describe('spilling to disk', () => {
  it('gives the same answer with a tiny memory budget (many partitions on disk)', async () => {
    const mk = (seed: number) => [['id', 'label', 'x'], ...Array.from({ length: 3000 }, (_, i) => [i * 7 + (i % 50 === seed ? 1 : 0), ['a', 'b', 'c'][(i * seed) % 3], i % 97])];
    const a = t.write('sp1.csv', csv(mk(1)));
    const b = t.write('sp2.csv', csv(mk(2)));
    for (const key of [['id'], undefined]) {
      const inMemory = await diff('csv', a, b, { key, rows: true, limit: 30 });
      let spilled = false;
      const watch = fs.watch(t.tmp(), { recursive: true }, () => (spilled = true));
      const onDisk = await diff('csv', a, b, { key, rows: true, limit: 30, memoryBudget: 4096 });
      watch.close();
      expect(spilled).toBe(true);
      expect(onDisk).toEqual(inMemory);
      expect(inMemory.rows.added + inMemory.rows.modified).toBeGreaterThan(0);
    }
    expect(fs.readdirSync(t.tmp())).toEqual([]);
  });
});

describe('laws', () => {
  const rowArb = fc.tuple(fc.integer({ min: 0, max: 12 }), fc.constantFrom('cat', 'dog', '', 'a,b', 'q"t'), fc.integer({ min: -3, max: 3 }));
  const tableArb = fc.array(rowArb, { maxLength: 25 });
  const render = (rows: [number, string, number][], unique: boolean): string => {
    const seen = new Set<number>();
    const kept = unique ? rows.filter(([id]) => !seen.has(id) && seen.add(id)) : rows;
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return `id,label,n\n${kept.map(([id, l, n]) => `${id},${q(l)},${n}`).join('\n')}\n`;
  };
  let seq = 0;

  it('diff(a, b) mirrors diff(b, a)', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, tableArb, fc.boolean(), async (ra, rb, keyed) => {
        const a = t.write(`law-a-${seq}.csv`, render(ra, keyed));
        const b = t.write(`law-b-${seq++}.csv`, render(rb, keyed));
        const key = keyed ? ['id'] : undefined;
        const ab = await diff('csv', a, b, { key });
        const ba = await diff('csv', b, a, { key });
        expect(ab.rows).toEqual({ before: ba.rows.after, after: ba.rows.before, added: ba.rows.removed, removed: ba.rows.added, modified: ba.rows.modified, unchanged: ba.rows.unchanged });
        expect(ab.rows.before).toBe(ab.rows.removed + ab.rows.modified + ab.rows.unchanged);
        expect(ab.rows.after).toBe(ab.rows.added + ab.rows.modified + ab.rows.unchanged);
        expect(ab.columns.map((c) => [c.name, c.changedCells, c.before, c.after])).toEqual(ba.columns.map((c) => [c.name, c.changedCells, c.after, c.before]));
      }),
      { numRuns: 60 },
    );
  });
});
