// Values keep the precision their file has, and statistics do not depend on row
// order or on how a reader happened to batch the values.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { tempTables } from './fixtures.test-support.js';
import { diffTable, type TableDiff, type TableDiffOptions, type TableFormat, type TableInput } from './index.js';

const t = tempTables('exact');

async function diff(format: TableFormat, before: TableInput | null, after: TableInput | null, options: Partial<TableDiffOptions> = {}): Promise<TableDiff> {
  return diffTable('data/t', format, before, after, { tmpDir: t.tmp(), ...options });
}

function lines(n: number, row: (i: number) => unknown): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify(row(i))).join('\n') + '\n';
}

/** parquet writes a one-column-plus-id Parquet file with the given schema element for `v`. */
function parquet(name: string, element: Record<string, unknown>, values: unknown[]): TableInput {
  const file = path.join(t.dir(), name);
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'id', data: values.map((_, i) => i + 1) },
      { name: 'v', data: values },
    ],
    schema: [{ name: 'root', num_children: 2 }, { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' }, { name: 'v', ...element }],
  } as Parameters<typeof parquetWriteFile>[0]);
  return { file, size: fs.statSync(file).size, label: name };
}

describe('Parquet precision', () => {
  it('sees a timestamp change below the millisecond and lists every digit', async () => {
    const micros = { type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'REQUIRED' };
    const a = parquet('ts1.parquet', micros, [1700000000000001n, 1700000000000000n]);
    const b = parquet('ts2.parquet', micros, [1700000000000999n, 1700000000000000n]);
    const d = await diff('parquet', a, b, { key: ['id'], rows: true });
    expect(d.rows).toMatchObject({ modified: 1, unchanged: 1 });
    expect(d.rowChanges?.[0]).toMatchObject({ before: { v: '2023-11-14T22:13:20.000001Z' }, after: { v: '2023-11-14T22:13:20.000999Z' } });
    expect(d.columns.find((c) => c.name === 'v')?.after?.type).toBe('date');
  });

  it('reads one instant alike in milliseconds and nanoseconds', async () => {
    const a = parquet('tu1.parquet', { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'REQUIRED' }, [1700000000123n, -1n]);
    const b = parquet('tu2.parquet', { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' }, repetition_type: 'REQUIRED' }, [1700000000123000000n, -1000000n]);
    const d = await diff('parquet', a, b, { key: ['id'], rows: true });
    expect(d.rows).toMatchObject({ modified: 0, unchanged: 2 });
  });

  it('sees a DECIMAL change beyond the digits of a double, and keeps small decimals numeric', async () => {
    const big = { type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 18, repetition_type: 'REQUIRED' };
    const a = parquet('dc1.parquet', big, [123456789012345678n, 150n]);
    const b = parquet('dc2.parquet', big, [123456789012345679n, 150n]);
    const d = await diff('parquet', a, b, { key: ['id'], rows: true });
    expect(d.rows).toMatchObject({ modified: 1, unchanged: 1 });
    expect(d.rowChanges?.[0]).toMatchObject({ before: { v: '1234567890123456.78' }, after: { v: '1234567890123456.79' } });
    expect(d.columns.find((c) => c.name === 'v')?.after?.type).toBe('number');

    // hyparquet-writer scales a number by itself (a bigint it takes as the unscaled value).
    const small = { type: 'INT32', converted_type: 'DECIMAL', scale: 2, precision: 9, repetition_type: 'OPTIONAL' };
    const e = await diff('parquet', null, parquet('dc3.parquet', small, [1.5, null, 2.5]));
    expect(e.columns.find((c) => c.name === 'v')?.after).toEqual({ type: 'number', nulls: 1, numeric: { count: 2, min: 1.5, max: 2.5, mean: 2 } });
  });
});

describe('statistics', () => {
  it('keeps the categories of a nullable numeric JSON Lines column across batches', async () => {
    // The batch with the null takes another path than the all-number batch before it: a value must count once.
    const a = t.write('c1.jsonl', lines(5000, (i) => ({ id: i, label: i === 4500 ? null : i % 11 })));
    const b = t.write('c2.jsonl', lines(5000, (i) => ({ id: i, label: i === 4500 ? null : i < 100 ? 0 : i % 11 })));
    const d = await diff('jsonl', a, b, { key: ['id'] });
    const label = d.columns.find((c) => c.name === 'label');
    expect(label?.categories?.map((c) => c.value)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(label?.categories?.find((c) => c.value === '0')).toMatchObject({ before: 455, after: 545 });
  });

  it('finds no change in a numeric column whose rows were reordered', async () => {
    const values = ['0.1', '0.2', '0.3', '1e16', '-1e16', '0.7'];
    const a = t.write('o1.csv', `x\n${values.join('\n')}\n`);
    const b = t.write('o2.csv', `x\n${[...values].reverse().join('\n')}\n`);
    const d = await diff('csv', a, b);
    expect(d.rows).toMatchObject({ unchanged: 6 });
    expect(d.columns).toEqual([]);
    // Compensated summation: plain summation gives 0 here.
    const c = await diff('csv', null, t.write('o3.csv', 'x\n1e16\n1\n-1e16\n'));
    expect(c.columns[0].after?.numeric?.mean).toBeCloseTo(1 / 3, 12);
  });
});

describe('JSON Lines values', () => {
  it('compares nested objects whatever the order of their keys', async () => {
    const a = t.write('n1.jsonl', '{"id":1,"v":{"x":1,"y":[{"p":1,"q":2}]}}\n');
    const b = t.write('n2.jsonl', '{"v":{"y":[{"q":2,"p":1}],"x":1},"id":1}\n');
    expect((await diff('jsonl', a, b, { key: ['id'] })).rows).toMatchObject({ modified: 0, unchanged: 1 });
    // Array order still counts.
    const c = t.write('n3.jsonl', '{"id":1,"v":{"x":1,"y":[2,1]}}\n');
    const e = t.write('n4.jsonl', '{"id":1,"v":{"x":1,"y":[1,2]}}\n');
    expect((await diff('jsonl', c, e, { key: ['id'] })).rows).toMatchObject({ modified: 1 });
  });

  it('diffs against an empty file with a key: every row removed', async () => {
    const a = t.write('e1.jsonl', '{"id":1}\n');
    const b = t.write('e2.jsonl', '');
    expect((await diff('jsonl', a, b, { key: ['id'] })).rows).toEqual({ before: 1, after: 0, added: 0, removed: 1, modified: 0, unchanged: 0 });
    expect((await diff('jsonl', b, a, { key: ['id'] })).rows).toMatchObject({ added: 1 });
  });

  it('keeps integers beyond 2^53 exact, in keys and in values, but not in strings', async () => {
    const a = t.write('b1.jsonl', '{"id":9007199254740992,"x":1,"s":"12345678901234567890"}\n{"id":9007199254740993,"x":[9007199254740993, 1.5e300]}\n');
    const b = t.write('b2.jsonl', '{"id":9007199254740992,"x":1,"s":"12345678901234567890"}\n{"id":9007199254740993,"x":[9007199254740992, 1.5e300]}\n');
    const d = await diff('jsonl', a, b, { key: ['id'], rows: true });
    expect(d.rows).toMatchObject({ modified: 1, unchanged: 1 });
    expect(d.rowChanges?.[0]).toMatchObject({ key: { id: '9007199254740993' }, before: { x: ['9007199254740993', 1.5e300] }, after: { x: ['9007199254740992', 1.5e300] } });
    const s = t.write('b3.jsonl', '{"s":"12345678901234567890","n":-12345678901234567890}\n');
    const e = await diff('jsonl', null, s, { rows: true });
    expect(e.rowChanges?.[0].after).toEqual({ s: '12345678901234567890', n: '-12345678901234567890' });
    expect(e.columns.find((c) => c.name === 'n')?.after?.type).toBe('integer');
  });
});
