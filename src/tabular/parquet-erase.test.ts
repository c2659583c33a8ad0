import { gzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { parseWhere, type RowRule } from './erase.js';
import { eraseParquetRows } from './parquet-erase.js';

const keys = (col: string, ...vs: string[]): RowRule => ({ keys: new Map([[col, new Set(vs)]]) });

const N = 60;
const ids = Array.from({ length: N }, (_, i) => i % 7);
function sample(codec: 'SNAPPY' | 'UNCOMPRESSED' | 'GZIP' = 'SNAPPY'): ArrayBuffer {
  return parquetWriteBuffer({
    codec,
    compressors: codec === 'GZIP' ? { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) } : undefined,
    rowGroupSize: 25,
    kvMetadata: [{ key: 'origin', value: 'test' }],
    columnData: [
      { name: 'id', data: Int32Array.from(ids), type: 'INT32' },
      { name: 'big', data: ids.map((v, i) => BigInt(v) * 10_000_000_000n + BigInt(i)), type: 'INT64' },
      { name: 'score', data: ids.map((v, i) => (i % 5 === 0 ? null : v / 3 + i)), type: 'DOUBLE' },
      { name: 'name', data: ids.map((v, i) => (i % 4 === 0 ? null : `name-${v}-${i}-é`)), type: 'STRING' },
      { name: 'flag', data: ids.map((_, i) => (i % 6 === 0 ? null : i % 2 === 0)), type: 'BOOLEAN' },
      { name: 'at', data: ids.map((_, i) => new Date(Date.UTC(2024, 0, 1 + i, 3, 4, 5, i))), type: 'TIMESTAMP' },
    ],
  });
}

async function rowsOf(buf: ArrayBuffer): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file: buf, compressors });
}

describe('eraseParquetRows', () => {
  for (const codec of ['SNAPPY', 'UNCOMPRESSED', 'GZIP'] as const) {
    it(`removes exactly the matching rows and keeps every other value, the schema, codec (${codec}) and metadata`, async () => {
      const src = sample(codec);
      const before = await rowsOf(src);
      const r = await eraseParquetRows(new Uint8Array(src), keys('id', '3'));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      // Oracle: the original rows without those whose id is 3.
      const expected = before.filter((row) => row.id !== 3);
      expect(r.removed).toBe(N - expected.length);
      expect(r.rows).toBe(N);
      const out = r.bytes.buffer.slice(r.bytes.byteOffset, r.bytes.byteOffset + r.bytes.byteLength) as ArrayBuffer;
      expect(await rowsOf(out)).toEqual(expected);
      const a = parquetMetadata(src);
      const b = parquetMetadata(out);
      expect(b.schema).toEqual(a.schema);
      expect(b.key_value_metadata).toEqual(a.key_value_metadata);
      for (const g of b.row_groups) for (const c of g.columns) expect(c.meta_data?.codec).toBe(codec);
      // Row groups keep their boundaries, less the removed rows.
      const per = (g: number) => before.slice(g * 25, g * 25 + 25).filter((row) => row.id !== 3).length;
      expect(b.row_groups.map((g) => Number(g.num_rows))).toEqual([per(0), per(1), per(2)]);
    });
  }

  it('matches timestamps as lode shows them, and --where', async () => {
    const src = sample();
    const r = await eraseParquetRows(new Uint8Array(src), { keys: new Map([['at', new Set(['2024-01-02T03:04:05.001Z'])]]), where: parseWhere('score > 30') });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const before = await rowsOf(src);
    const expected = before.filter((row) => !((row.at as Date).toISOString() === '2024-01-02T03:04:05.001Z' || (typeof row.score === 'number' && row.score > 30)));
    expect(r.removed).toBe(N - expected.length);
    expect(await rowsOf(r.bytes.buffer.slice(r.bytes.byteOffset, r.bytes.byteOffset + r.bytes.byteLength) as ArrayBuffer)).toEqual(expected);
  });

  it('keeps REQUIRED columns, DATE and TIMESTAMP_MICROS, and an emptied file keeps its schema', async () => {
    const src = parquetWriteBuffer({
      schema: [
        { name: 'root', num_children: 3 },
        { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
        { name: 'day', type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'DATE' },
        { name: 'at', type: 'INT64', repetition_type: 'OPTIONAL', converted_type: 'TIMESTAMP_MICROS' },
      ],
      columnData: [
        { name: 'id', data: [1n, 2n, 3n, 2n] },
        { name: 'day', data: [19000, 19001, 19002, 19003] },
        { name: 'at', data: [1700000000000001n, null, 1700000000000003n, 1700000000000004n] },
      ],
    });
    const before = await rowsOf(src);
    const r = await eraseParquetRows(new Uint8Array(src), { keys: new Map([['day', new Set(['2022-01-08T00:00:00.000Z'])], ['at', new Set(['2023-11-14T22:13:20.000004Z'])]]) });
    expect(r).toMatchObject({ ok: true, removed: 2 });
    if (!r.ok) return;
    const out = r.bytes.buffer.slice(r.bytes.byteOffset, r.bytes.byteOffset + r.bytes.byteLength) as ArrayBuffer;
    // Day 19000 is 2022-01-08 (row 0); 1700000000000004 µs is 2023-11-14T22:13:20.000004Z (row 3).
    expect(await rowsOf(out)).toEqual([before[1], before[2]]);
    expect(parquetMetadata(out).schema).toEqual(parquetMetadata(src).schema);
    const all = await eraseParquetRows(new Uint8Array(src), keys('id', '1', '2', '3'));
    expect(all).toMatchObject({ ok: true, removed: 4 });
    if (!all.ok) return;
    const none = all.bytes.buffer.slice(all.bytes.byteOffset, all.bytes.byteOffset + all.bytes.byteLength) as ArrayBuffer;
    expect(await rowsOf(none)).toEqual([]);
    expect(parquetMetadata(none).schema).toEqual(parquetMetadata(src).schema);
  });

  it('counts without writing, and reports a missing key column', async () => {
    const src = new Uint8Array(sample());
    const c = await eraseParquetRows(src, keys('id', '3', '4'), true);
    expect(c).toMatchObject({ ok: true, removed: ids.filter((v) => v === 3 || v === 4).length });
    if (c.ok) expect(c.bytes.length).toBe(0);
    expect(await eraseParquetRows(src, keys('customer', '3'))).toEqual({ ok: false, problem: 'missing-column', columns: ['customer'] });
  });

  it('refuses what it cannot write back faithfully, naming why', async () => {
    const nested = parquetWriteBuffer({ columnData: [{ name: 'id', data: [1, 2], type: 'INT32' }, { name: 'j', data: [{ a: 1 }, { a: 2 }], type: 'JSON' }] });
    const r = await eraseParquetRows(new Uint8Array(nested), keys('id', '1'), true);
    expect(r).toMatchObject({ ok: false, problem: 'unsupported' });
    if (!r.ok && r.problem === 'unsupported') expect(r.message).toContain('"j"');
    const dec = parquetWriteBuffer({
      schema: [{ name: 'root', num_children: 2 }, { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' }, { name: 'd', type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'DECIMAL', scale: 2, precision: 8 }],
      columnData: [{ name: 'id', data: [1, 2] }, { name: 'd', data: [1.5, 2.25] }],
    });
    expect(await eraseParquetRows(new Uint8Array(dec), keys('id', '1'))).toMatchObject({ ok: false, problem: 'unsupported' });
    expect(await eraseParquetRows(Buffer.from('PAR1 not really PAR1'), keys('id', '1'))).toMatchObject({ ok: false, problem: 'unparsable' });
  });
});
