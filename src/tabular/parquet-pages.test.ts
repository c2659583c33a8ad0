// The Parquet scan's own page decoder for flat columns (parquet-chunk.ts)
// against the general path (hyparquet's parquetRead for every column): the
// same values, and the same scan results (statistics, row index, cell
// hashes), over generated files. And damaged pages: a clear table error,
// never a crash or a hang.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parquetMetadata, parquetSchema } from 'hyparquet';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { ParquetWriter } from 'hyparquet-writer';
import { fileWriter } from 'hyparquet-writer/src/node.js';
import { describe, expect, it } from 'vitest';
import { tempTables } from './fixtures.test-support.js';
import { TableError, diffTable, type TableInput } from './index.js';
import { ParquetReader, type ParquetOptions } from './parquet.js';
import { decodeFlatChunk, type CodedColumn } from './parquet-chunk.js';
import { scanSide, type ScanConfig } from './scan.js';
import { ExactDecimal } from './values.js';

const t = tempTables('pages');

/** rng is a small deterministic generator (LCG). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}

interface ColumnSpec {
  element: Record<string, unknown>;
  /** A value for row i, from the generator. */
  value: (r: () => number, i: number) => unknown;
  /** Encodings other than PLAIN and RLE_DICTIONARY that the type allows. */
  other?: string[];
}

const DELTA_INT = ['DELTA_BINARY_PACKED'];
const DELTA_BYTES = ['DELTA_LENGTH_BYTE_ARRAY', 'DELTA_BYTE_ARRAY'];
const SPLIT = ['BYTE_STREAM_SPLIT'];

/** The kinds of column the generator draws from: every physical type, common annotations, a nested list (the general path). */
const KINDS: Record<string, ColumnSpec> = {
  i32: { element: { type: 'INT32' }, value: (r) => ((r() * 50) | 0) - 25, other: DELTA_INT },
  i32wide: { element: { type: 'INT32' }, value: (r) => ((r() * 2 ** 32) | 0), other: DELTA_INT },
  i64: { element: { type: 'INT64' }, value: (r) => BigInt((r() * 1000) | 0) - 500n, other: DELTA_INT },
  i64big: { element: { type: 'INT64' }, value: (r) => (r() < 0.5 ? 2n ** 60n + BigInt((r() * 10) | 0) : BigInt((r() * 100) | 0)), other: DELTA_INT },
  f64: { element: { type: 'DOUBLE' }, value: (r) => [0.5, -0, NaN, Infinity, 1e300, 3][(r() * 6) | 0] ?? 0, other: SPLIT },
  f64wide: { element: { type: 'DOUBLE' }, value: (r) => r() * 1e6 - 5e5, other: SPLIT },
  f32: { element: { type: 'FLOAT' }, value: (r) => ((r() * 100) | 0) / 4, other: SPLIT },
  bool: { element: { type: 'BOOLEAN' }, value: (r) => r() < 0.3, other: ['RLE'] },
  str: { element: { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, value: (r) => ['cat', 'dog', '', '2024-01-02', 'ü∑', '12'][(r() * 6) | 0], other: DELTA_BYTES },
  strwide: { element: { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, value: (r, i) => `s${i % 997}-${(r() * 5) | 0}`, other: DELTA_BYTES },
  date: { element: { type: 'INT32', converted_type: 'DATE' }, value: (r) => new Date(Date.UTC(2020, 0, 1 + ((r() * 40) | 0))), other: DELTA_INT },
  tsmicros: { element: { type: 'INT64', converted_type: 'TIMESTAMP_MICROS' }, value: (r) => 1700000000000000n + BigInt((r() * 5) | 0), other: DELTA_INT },
  dec32: { element: { type: 'INT32', converted_type: 'DECIMAL', precision: 9, scale: 2 }, value: (r) => BigInt(((r() * 2000) | 0) - 1000), other: DELTA_INT },
  dec64: { element: { type: 'INT64', converted_type: 'DECIMAL', precision: 18, scale: 3 }, value: (r) => (r() < 0.5 ? 123456789012345678n : BigInt((r() * 100) | 0)), other: DELTA_INT },
};

interface Generated {
  input: TableInput;
  columns: string[];
  /** The encodings the file's column chunks use, and its row groups. */
  encodings: string[];
  groups: number;
}

/** generate writes a file of random columns (required or with nulls, dictionary or plain), row groups and page sizes, from `seed`. */
async function generate(seed: number): Promise<Generated> {
  const r = rng(seed);
  const rows = 50 + ((r() * 900) | 0);
  const names = Object.keys(KINDS);
  const schema: Record<string, unknown>[] = [{ name: 'root', num_children: 0 }];
  const columnData: { name: string; data: unknown[]; encoding?: string }[] = [];
  const ids = Array.from({ length: rows }, (_, i) => i + 1);
  schema.push({ name: 'id', type: 'INT32', repetition_type: 'REQUIRED' });
  columnData.push({ name: 'id', data: ids });
  const count = 3 + ((r() * 6) | 0);
  for (let c = 0; c < count; c++) {
    const kind = names[(r() * names.length) | 0];
    const spec = KINDS[kind];
    const optional = r() < 0.6;
    const nulls = optional ? r() * 0.4 : 0;
    const name = `${kind}_${c}`;
    const data = Array.from({ length: rows }, (_, i) => (r() < nulls ? null : spec.value(r, i)));
    schema.push({ name, ...spec.element, repetition_type: optional ? 'OPTIONAL' : 'REQUIRED' });
    const e = r();
    const other = spec.other ?? [];
    const encoding = e < 0.3 ? 'PLAIN' : e < 0.6 && kind !== 'bool' ? 'RLE_DICTIONARY' : e < 0.85 && other.length > 0 ? other[(seed + c) % other.length] : undefined;
    columnData.push({ name, data, ...(encoding ? { encoding } : {}) });
  }
  if (r() < 0.5) {
    // A nested column: the general path reads it, next to the flat ones.
    schema.push({ name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 }, { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    columnData.push({ name: 'tags', data: Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : Array.from({ length: i % 3 }, (_, k) => `t${(i + k) % 5}`))) });
  }
  schema[0].num_children = columnData.length;
  const file = path.join(t.dir(), `gen-${seed}.parquet`);
  const writer = new ParquetWriter({ writer: fileWriter(file), schema, codec: r() < 0.5 ? 'SNAPPY' : 'UNCOMPRESSED' } as ConstructorParameters<typeof ParquetWriter>[0]);
  const group = 20 + ((r() * rows) | 0);
  writer.write({ columnData, rowGroupSize: [group, Math.max(1, group >> 1), group * 2], pageSize: [64, 512, 1 << 20][(r() * 3) | 0] } as Parameters<ParquetWriter['write']>[0]);
  writer.finish();
  const bytes = fs.readFileSync(file);
  const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const encodings = metadata.row_groups.flatMap((g) => g.columns.flatMap((c) => c.meta_data?.encodings ?? []));
  return { input: { file, size: bytes.length, label: path.basename(file) }, columns: columnData.map((c) => c.name), encodings, groups: metadata.row_groups.length };
}

/** normal is a value as the tests compare it: every empty cell alike, bytes as hex. */
function normal(v: unknown): unknown {
  if (v === undefined || v === null || v === '') return null;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v instanceof ExactDecimal) return `dec:${v.text}`;
  return v;
}

/** rowsOf scans `input` and gives its values row by row (coded columns looked up in their dictionary). */
async function rowsOf(input: TableInput, options: ParquetOptions, coded: boolean): Promise<{ rows: unknown[][]; batches: number[]; codedColumns: number }> {
  const reader = await ParquetReader.open(input, options);
  const rows: unknown[][] = [];
  const batches: number[] = [];
  let codedColumns = 0;
  try {
    await reader.scan(
      (b) => {
        batches.push(b.n);
        for (let i = 0; i < b.n; i++) {
          rows.push(
            reader.columns.map((_, c) => {
              const k: CodedColumn | undefined = b.coded?.[c];
              if (k !== undefined) return normal(k.codes[i] < 0 ? null : k.dict[k.codes[i]]);
              return normal(b.columns[c]?.[i]);
            }),
          );
        }
        codedColumns += b.coded?.filter((k) => k !== undefined).length ?? 0;
      },
      { coded },
    );
  } finally {
    await reader.close();
  }
  return { rows, batches, codedColumns };
}

/** scanOf runs one side's pass as the diff does, through the decoder `pages`. */
async function scanOf(input: TableInput, pages: ParquetOptions['pages'], tag: string, cfg: Partial<ScanConfig>) {
  const reader = await ParquetReader.open(input, { pages });
  const dir = path.join(t.tmp(), `${tag}-${pages}`);
  try {
    const res = await scanSide(reader, {
      format: 'parquet',
      input,
      key: ['id'],
      rowHash: 'columns',
      hashed: null,
      stats: true,
      categoryLimit: 8,
      layout: { parts: 2, capacity: 1 << 16, dir, tag },
      cellHashes: true,
      ...cfg,
    });
    const cells = res.cells ? fs.readFileSync(res.cells.file) : null;
    return { summaries: res.summaries, memory: res.index.memory, rows: res.rows, cells };
  } finally {
    await reader.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('Parquet page decoder', () => {
  it('reads every generated file as hyparquet does, value by value and scan by scan', async () => {
    let coded = 0;
    const encodings = new Set<string>();
    let groups = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const g = await generate(seed);
      for (const e of g.encodings) encodings.add(e);
      groups = Math.max(groups, g.groups);
      const general = await rowsOf(g.input, { pages: 'hyparquet' }, false);
      const fast = await rowsOf(g.input, { pages: 'lode' }, false);
      const fastCoded = await rowsOf(g.input, { pages: 'lode' }, true);
      expect(fast.batches, `seed ${seed}`).toEqual(general.batches);
      expect(fast.rows, `seed ${seed}`).toEqual(general.rows);
      expect(fastCoded.rows, `seed ${seed}`).toEqual(general.rows);
      coded += fastCoded.codedColumns;
      const common = g.columns.map((c): [string, string] => [c, c]);
      for (const [i, cfg] of [{}, { hashed: common }, { key: null }, { stats: false, hashed: common }, { key: ['id', g.columns[1]] }].entries()) {
        const a = await scanOf(g.input, 'hyparquet', `s${seed}-${i}`, cfg);
        const b = await scanOf(g.input, 'lode', `s${seed}-${i}`, cfg);
        expect(b.rows).toBe(a.rows);
        expect(b.summaries, `seed ${seed}, config ${i}`).toEqual(a.summaries);
        expect(b.memory, `seed ${seed}, config ${i}`).toEqual(a.memory);
        expect(b.cells?.equals(a.cells!), `seed ${seed}, config ${i}`).toBe(true);
      }
    }
    // The generator did reach the dictionary path, the other encodings, and several row groups per file.
    expect(coded).toBeGreaterThan(20);
    expect([...encodings].sort()).toEqual(expect.arrayContaining(['BYTE_STREAM_SPLIT', 'DELTA_BINARY_PACKED', 'DELTA_BYTE_ARRAY', 'DELTA_LENGTH_BYTE_ARRAY', 'PLAIN', 'RLE', 'RLE_DICTIONARY']));
    expect(groups).toBeGreaterThan(2);
  }, 300_000);
});

/** uncompressedDictFile writes `id` and a dictionary-encoded `label` of 16 `a` then 16 `b`, uncompressed, and gives the file's bytes and the label chunk's byte range. */
function uncompressedDictFile(name: string): { file: string; bytes: Buffer; from: number; to: number } {
  const file = path.join(t.dir(), name);
  const labels = [...Array<string>(16).fill('a'), ...Array<string>(16).fill('b')];
  const writer = new ParquetWriter({
    writer: fileWriter(file),
    codec: 'UNCOMPRESSED',
    schema: [{ name: 'root', num_children: 2 }, { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' }, { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' }],
  } as ConstructorParameters<typeof ParquetWriter>[0]);
  writer.write({ columnData: [{ name: 'id', data: labels.map((_, i) => i + 1) }, { name: 'label', data: labels, encoding: 'RLE_DICTIONARY' }] } as Parameters<ParquetWriter['write']>[0]);
  writer.finish();
  const bytes = fs.readFileSync(file);
  const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).row_groups[0].columns[1].meta_data!;
  const from = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
  return { file, bytes, from, to: from + Number(meta.total_compressed_size) };
}

/** diffError diffs `bad` against itself and gives the error. */
async function diffError(bad: TableInput): Promise<TableError> {
  const err = await diffTable('t', 'parquet', bad, bad, { tmpDir: t.tmp(), key: ['id'] }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TableError);
  return err as TableError;
}

describe('damaged Parquet pages', () => {
  it('refuses a dictionary index past the dictionary', async () => {
    const { bytes, from, to } = uncompressedDictFile('dict.parquet');
    // The data page's two RLE runs: 16 times entry 0, 16 times entry 1 (bit width 1).
    const runs = Buffer.from([0x01, 0x20, 0x00, 0x20, 0x01]);
    const at = bytes.subarray(from, to).indexOf(runs);
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(bytes);
    bad[from + at + 4] = 0x05;
    const err = await diffError(t.write('dict-bad.parquet', bad));
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toMatch(/dictionary index 5 is out of range \(the dictionary has 2 values\)/);
    expect(err.hint).toBeTruthy();
  });

  it('refuses a page that claims more values than it holds', async () => {
    const { bytes, from, to } = uncompressedDictFile('count.parquet');
    const runs = Buffer.from([0x01, 0x20, 0x00, 0x20, 0x01]);
    const at = bytes.subarray(from, to).indexOf(runs);
    const bad = Buffer.from(bytes);
    // The first run now claims 63 values: more than the page's 32 rows.
    bad[from + at + 1] = 0x7e;
    const err = await diffError(t.write('count-bad.parquet', bad));
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toMatch(/cannot decode the data/);
  });

  it('refuses a truncated chunk, wherever it is cut', async () => {
    const { bytes, from, to } = uncompressedDictFile('cut.parquet');
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const metadata = parquetMetadata(ab);
    const tree = parquetSchema(metadata);
    const field = tree.children[1];
    const decoder = { pathInSchema: ['label'], type: 'BYTE_ARRAY' as const, element: field.element, schemaPath: [tree, field], codec: 'UNCOMPRESSED' as const, parsers: DEFAULT_PARSERS };
    const chunk = new Uint8Array(ab, from, to - from);
    expect(decodeFlatChunk(chunk, 32, decoder)).toMatchObject({ dict: ['a', 'b'] });
    for (let cut = 0; cut < chunk.length; cut++) {
      expect(() => decodeFlatChunk(chunk.subarray(0, cut), 32, decoder), `cut at ${cut}`).toThrow(Error);
    }
  });

  it('refuses a file cut short inside a row group', async () => {
    const file = path.join(t.dir(), 'long.parquet');
    const notes = Array.from({ length: 3000 }, (_, i) => `note number ${i}`);
    const writer = new ParquetWriter({
      writer: fileWriter(file),
      codec: 'UNCOMPRESSED',
      schema: [{ name: 'root', num_children: 2 }, { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' }, { name: 'note', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }],
    } as ConstructorParameters<typeof ParquetWriter>[0]);
    writer.write({ columnData: [{ name: 'id', data: notes.map((_, i) => i + 1) }, { name: 'note', data: notes, encoding: 'PLAIN' }] } as Parameters<ParquetWriter['write']>[0]);
    writer.finish();
    const bytes = fs.readFileSync(file);
    const footer = bytes.readUInt32LE(bytes.length - 8) + 8;
    // The last 20000 bytes of the data go, the footer stays: the footer names bytes the file no longer has.
    const bad = Buffer.concat([bytes.subarray(0, bytes.length - footer - 20000), bytes.subarray(bytes.length - footer)]);
    const err = await diffError(t.write('long-cut.parquet', bad));
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toMatch(/cannot decode the data: column note: its chunk lies outside the file/);
  });

  it('never hangs or crashes on a damaged byte anywhere in a chunk', async () => {
    const { bytes, from, to } = uncompressedDictFile('flip.parquet');
    const r = rng(99);
    for (let k = 0; k < 40; k++) {
      const bad = Buffer.from(bytes);
      const at = from + ((r() * (to - from)) | 0);
      bad[at] ^= 1 + ((r() * 255) | 0);
      const input = t.write(`flip-${k}.parquet`, bad);
      // Either the damage is harmless (a value changed) or it is a table error.
      const err = await diffTable('t', 'parquet', input, input, { tmpDir: t.tmp(), key: ['id'] }).then(
        () => null,
        (e: unknown) => e,
      );
      if (err !== null) expect(err).toBeInstanceOf(TableError);
    }
  });
});
