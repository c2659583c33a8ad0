/**
 * Row erasure for Parquet: the file is read whole with hyparquet (physical
 * values: integers, bigints, doubles, booleans, raw bytes; no conversion),
 * the matching rows are dropped, and the rest is written back with
 * hyparquet-writer under the same schema (names, order, physical and logical
 * types, nullability), the same compression codec per column, the same
 * row-group boundaries (each group minus its removed rows; emptied groups
 * vanish) and the same key-value metadata. Not kept: page layout, encodings
 * (hyparquet-writer picks dictionary/plain itself), statistics and page
 * indexes (recomputed), `created_by` (now hyparquet), bloom filters.
 *
 * Only flat files whose every column is a type written back exactly are
 * rewritten; anything else (nested or repeated fields, INT96, DECIMAL,
 * FIXED_LEN_BYTE_ARRAY, unsigned or other annotations, LZ4/LZO codecs) is
 * refused as `unsupported`, and so is a rewrite that does not read back equal
 * to the kept rows: the file is never replaced by something different.
 */
import * as zlib from 'node:zlib';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type ColumnData, type FileMetaData, type SchemaElement } from 'hyparquet';
import { compressors as decompressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { EraseOutcome, RowRule } from './erase.js';
import { ruleColumns } from './erase.js';
import { PARSERS } from './parquet.js';

type Compress = (input: Uint8Array) => Uint8Array;

/** The codecs written back as they were (SNAPPY is hyparquet-writer's own). */
const COMPRESSORS: Record<string, Compress> = {
  GZIP: (b) => zlib.gzipSync(b),
  BROTLI: (b) => zlib.brotliCompressSync(b),
};
// zstd is in node:zlib from Node 22.15 / 23.8.
const zstd = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array) => Buffer }).zstdCompressSync;
if (zstd) COMPRESSORS.ZSTD = (b) => zstd(b);
const WRITABLE_CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', ...Object.keys(COMPRESSORS)]);

const CONVERTED_OK = new Set(['UTF8', 'DATE', 'TIMESTAMP_MILLIS', 'TIMESTAMP_MICROS', 'INT_8', 'INT_16', 'INT_32', 'INT_64']);
const LOGICAL_OK = new Set(['STRING', 'DATE', 'TIMESTAMP', 'INTEGER']);
const PHYSICAL_OK = new Set(['BOOLEAN', 'INT32', 'INT64', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY']);

class Unsupported extends Error {}

/** Raw readers: every value as stored (bytes stay bytes, timestamps and dates stay counts). */
const RAW = {
  timestampFromMilliseconds: (v: bigint) => v,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => v,
  dateFromDays: (d: number) => d,
  stringFromBytes: (b: Uint8Array) => b,
};

/** check says why `metadata` cannot be written back faithfully, or nothing. */
function check(metadata: FileMetaData): void {
  const [root, ...cols] = metadata.schema;
  if (root.num_children !== cols.length) throw new Unsupported('nested fields cannot be rewritten faithfully');
  for (const e of cols) {
    const what = `column ${JSON.stringify(e.name)}`;
    if (e.num_children) throw new Unsupported(`${what} is nested`);
    if (e.repetition_type === 'REPEATED') throw new Unsupported(`${what} is repeated`);
    if (!PHYSICAL_OK.has(e.type!)) throw new Unsupported(`${what} has physical type ${e.type}`);
    if (e.converted_type && !CONVERTED_OK.has(e.converted_type)) throw new Unsupported(`${what} is ${e.converted_type}`);
    const lt = e.logical_type;
    if (lt && (!LOGICAL_OK.has(lt.type) || (lt.type === 'INTEGER' && !lt.isSigned))) throw new Unsupported(`${what} is ${lt.type}${lt.type === 'INTEGER' ? ' (unsigned)' : ''}`);
  }
  for (let c = 0; c < cols.length; c++) {
    const codecs = new Set(metadata.row_groups.map((g) => g.columns[c]?.meta_data?.codec));
    if (codecs.size > 1) throw new Unsupported(`column ${JSON.stringify(cols[c].name)} mixes codecs ${[...codecs].join(', ')}`);
    const [codec] = codecs;
    if (codec && !WRITABLE_CODECS.has(codec)) throw new Unsupported(`codec ${codec} cannot be written (written: ${[...WRITABLE_CODECS].join(', ')})`);
  }
}

interface Table {
  metadata: FileMetaData;
  names: string[];
  columns: unknown[][];
  rows: number;
}

/**
 * readRaw decodes a whole Parquet file held in `data`, without copying it:
 * hyparquet reads it through a view that copies only the byte ranges it asks
 * for, and the row groups are read one at a time, so at most one group's
 * column chunks are copied at once.
 */
async function readRaw(data: Uint8Array): Promise<Table> {
  const file: AsyncBuffer = {
    byteLength: data.byteLength,
    slice: (start: number, end = data.byteLength) => data.buffer.slice(data.byteOffset + start, data.byteOffset + Math.min(end, data.byteLength)) as ArrayBuffer,
  };
  const metadata = await parquetMetadataAsync(file);
  const names = metadata.schema.slice(1).map((e) => e.name);
  const rows = Number(metadata.num_rows);
  const columns = names.map(() => new Array<unknown>(rows));
  const at = new Map(names.map((n, i) => [n, i]));
  let rowStart = 0;
  for (const g of metadata.row_groups) {
    const n = Number(g.num_rows);
    if (n === 0) continue;
    await parquetRead({
      file,
      metadata,
      rowStart,
      rowEnd: rowStart + n,
      compressors: decompressors,
      utf8: false,
      parsers: RAW,
      onChunk: (chunk: ColumnData) => {
        const c = at.get(chunk.columnName);
        if (c === undefined) return;
        const col = columns[c];
        for (let i = 0; i < chunk.columnData.length; i++) col[chunk.rowStart + i] = chunk.columnData[i];
      },
    });
    rowStart += n;
  }
  return { metadata, names, columns, rows };
}

const decoder = new TextDecoder();

/** cellText renders a physical value as a `--key` value is written (strings as they are, timestamps and dates as lode shows them). */
function cellText(e: SchemaElement, v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Uint8Array) return decoder.decode(v);
  const lt = e.logical_type;
  if (typeof v === 'bigint' && (e.converted_type === 'TIMESTAMP_MILLIS' || (lt?.type === 'TIMESTAMP' && lt.unit === 'MILLIS'))) return String(PARSERS.timestampFromMilliseconds!(v));
  if (typeof v === 'bigint' && (e.converted_type === 'TIMESTAMP_MICROS' || (lt?.type === 'TIMESTAMP' && lt.unit === 'MICROS'))) return String(PARSERS.timestampFromMicroseconds!(v));
  if (typeof v === 'bigint' && lt?.type === 'TIMESTAMP' && lt.unit === 'NANOS') return String(PARSERS.timestampFromNanoseconds!(v));
  if (typeof v === 'number' && (e.converted_type === 'DATE' || lt?.type === 'DATE')) return String(PARSERS.dateFromDays!(v));
  return String(v);
}

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  return Object.is(a, b) || (a == null && b == null);
}

/**
 * eraseParquetRows removes the rows of a Parquet file (whole, in `data`)
 * that `rule` matches; see the file comment for what is kept. `removedRanges`
 * is always empty (the file is written anew). With `countOnly`, nothing is
 * written (`bytes` is empty) but the file is still checked for being
 * rewritable.
 */
export async function eraseParquetRows(data: Uint8Array, rule: RowRule, countOnly = false): Promise<EraseOutcome> {
  let t: Table;
  try {
    t = await readRaw(data);
  } catch (e) {
    return { ok: false, problem: 'unparsable', message: (e as Error).message };
  }
  const elements = t.metadata.schema.slice(1);
  const index = new Map<string, number>();
  t.names.forEach((n, i) => {
    if (!index.has(n)) index.set(n, i);
  });
  const keyCols = [...rule.keys.keys()];
  const whereMissing = (rule.where?.columns ?? []).filter((c) => !index.has(c));
  if ((keyCols.length > 0 && keyCols.every((c) => !index.has(c))) || whereMissing.length > 0) {
    return { ok: false, problem: 'missing-column', columns: ruleColumns(rule).filter((c) => !index.has(c)) };
  }
  try {
    check(t.metadata);
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, problem: 'unsupported', message: e.message };
    throw e;
  }
  const cell = (r: number) => (col: string) => {
    const c = index.get(col);
    return c === undefined ? undefined : cellText(elements[c], t.columns[c][r]);
  };
  const drop: boolean[] = new Array<boolean>(t.rows);
  let removed = 0;
  for (let r = 0; r < t.rows; r++) {
    const get = cell(r);
    let hit = false;
    for (const [col, values] of rule.keys) {
      const v = get(col);
      if (v !== undefined && values.has(v)) {
        hit = true;
        break;
      }
    }
    if (!hit && rule.where) hit = rule.where.test(get);
    drop[r] = hit;
    if (hit) removed++;
  }
  const empty = Buffer.alloc(0);
  if (countOnly || removed === 0) return { ok: true, bytes: countOnly ? empty : Buffer.from(data), removed, rows: t.rows, removedRanges: [] };
  const kept = t.columns.map((col) => col.filter((_, r) => !drop[r]));
  // Row groups: each keeps its place, less its removed rows.
  const groupSizes: number[] = [];
  let start = 0;
  for (const g of t.metadata.row_groups) {
    const n = Number(g.num_rows);
    let k = 0;
    for (let r = start; r < start + n; r++) if (!drop[r]) k++;
    if (k > 0) groupSizes.push(k);
    start += n;
  }
  const codecOf = (c: number) => t.metadata.row_groups[0]?.columns[c]?.meta_data?.codec ?? 'UNCOMPRESSED';
  let out: ArrayBuffer;
  try {
    out = parquetWriteBuffer({
      schema: t.metadata.schema as NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>,
      columnData: t.names.map((name, c) => ({ name, data: kept[c], codec: codecOf(c) })),
      compressors: COMPRESSORS,
      rowGroupSize: groupSizes.length > 0 ? groupSizes : [1],
      ...(t.metadata.key_value_metadata?.length ? { kvMetadata: t.metadata.key_value_metadata } : {}),
    });
  } catch (e) {
    return { ok: false, problem: 'unsupported', message: `hyparquet-writer cannot write it back: ${(e as Error).message}` };
  }
  // The rewrite must read back as exactly the kept rows, under the same schema.
  const back = await readRaw(new Uint8Array(out));
  const fields = (e: SchemaElement) => JSON.stringify([e.name, e.type, e.type_length, e.repetition_type, e.num_children, e.converted_type, e.scale, e.precision, e.logical_type], (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  const problem =
    back.metadata.schema.length !== t.metadata.schema.length || back.metadata.schema.some((e, i) => fields(e) !== fields(t.metadata.schema[i]))
      ? 'the schema would change'
      : back.rows !== t.rows - removed
        ? 'the row count would change'
        : back.columns.findIndex((col, c) => col.some((v, r) => !same(v, kept[c][r]))) >= 0
          ? 'some values would change'
          : undefined;
  if (problem) return { ok: false, problem: 'unsupported', message: `rewriting it without the rows is not faithful: ${problem}` };
  return { ok: true, bytes: Buffer.from(out), removed, rows: t.rows, removedRanges: [] };
}

/** isParquet says whether `data` looks like a whole Parquet file (magic at both ends). */
export function isParquet(data: Uint8Array): boolean {
  const m = (o: number) => data[o] === 0x50 && data[o + 1] === 0x41 && data[o + 2] === 0x52 && data[o + 3] === 0x31;
  return data.length >= 12 && m(0) && m(data.length - 4);
}
