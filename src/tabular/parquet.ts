import { open, type FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type ColumnData, type FileMetaData, type ParquetParsers, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { TableError } from './errors.js';
import { decodeFlatChunk, isFlatPath, type CodedColumn } from './parquet-chunk.js';
import type { Batch, ScanOptions, TableReader, WantedRow } from './reader.js';
import type { TableInput } from './types.js';
import { ExactDecimal } from './values.js';

/**
 * Parquet through hyparquet (pure JavaScript) and hyparquet-compressors
 * (snappy, gzip, brotli, zstd, lz4). Files are read one row group at a time,
 * so memory follows the largest row group, not the file. Columns are the
 * top-level fields; a nested field is one column whose values are objects.
 *
 * Values keep the precision the file has (hyparquet's defaults round
 * timestamps to milliseconds and decimals to doubles, so that changes below
 * that vanish): timestamps and dates are ISO 8601 text in UTC with every
 * non-zero fraction digit (`2023-11-14T22:13:20.000001Z`, and at least the
 * milliseconds, so that one instant reads alike in every unit), and a
 * top-level DECIMAL is a double while it has at most 15 significant digits
 * (which a double renders back exactly), else an ExactDecimal (or a bigint
 * when whole). A DECIMAL inside a nested field, or stored as BYTE_ARRAY, is
 * still a double.
 */

const FOOTER_HINT = 'the file is not Parquet or its footer is damaged: check the file, or restore it from another copy';
const PAGE_HINT = 'rewrite the file with a codec and encodings hyparquet reads (snappy, gzip, zstd, brotli, lz4; plain, dictionary, RLE, delta), e.g. from pandas with compression="zstd"';
const DAMAGE_HINT = 'the file is damaged: restore it from another copy, or rewrite it';

/** isoTime renders `v` units since the epoch (`perMs` to a millisecond) as ISO text with `digits` fraction digits beyond the milliseconds, trailing zeros dropped. */
function isoTime(v: bigint, perMs: bigint, digits: number): unknown {
  if (typeof v !== 'bigint') return v;
  let ms = v / perMs;
  let rest = v % perMs;
  if (rest < 0n) {
    ms -= 1n;
    rest += perMs;
  }
  const d = new Date(Number(ms));
  // Beyond the range of Date: the count itself, still exact.
  if (Number.isNaN(d.getTime())) return v;
  const iso = d.toISOString();
  if (rest === 0n) return iso;
  return `${iso.slice(0, -1)}${rest.toString().padStart(digits, '0').replace(/0+$/, '')}Z`;
}

export const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v: bigint) => isoTime(v, 1n, 0),
  timestampFromMicroseconds: (v: bigint) => isoTime(v, 1000n, 3),
  timestampFromNanoseconds: (v: bigint) => isoTime(v, 1_000_000n, 6),
  dateFromDays(days: number) {
    const d = new Date(days * 86_400_000);
    return Number.isNaN(d.getTime()) ? days : d.toISOString();
  },
};

/** Unscaled DECIMAL values below this magnitude have at most 15 digits: a double holds them exactly enough to print them back. */
const EXACT_IN_DOUBLE = 1e15;

/** decimalValue turns an unscaled DECIMAL value (INT32, INT64 or two's-complement bytes) with `scale` into a number, bigint or ExactDecimal. */
function decimalValue(u: unknown, scale: number): unknown {
  if (u === null || u === undefined) return u;
  if (typeof u === 'number' && scale <= 22) return u / 10 ** scale;
  let big: bigint;
  if (typeof u === 'bigint') big = u;
  else if (typeof u === 'number') big = BigInt(u);
  else if (u instanceof Uint8Array) big = signedBytes(u);
  else return u;
  if (big > -EXACT_IN_DOUBLE_BIG && big < EXACT_IN_DOUBLE_BIG && scale <= 22) return Number(big) / 10 ** scale;
  if (scale === 0) return big;
  const negative = big < 0n;
  const digits = (negative ? -big : big).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  if (fraction === '') return negative ? -BigInt(whole) : BigInt(whole);
  return new ExactDecimal(`${negative ? '-' : ''}${whole}.${fraction}`);
}

const EXACT_IN_DOUBLE_BIG = BigInt(EXACT_IN_DOUBLE);

/** signedBytes reads big-endian two's-complement bytes (a FIXED_LEN_BYTE_ARRAY DECIMAL). */
function signedBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return b.length > 0 && b[0] >= 128 ? v - (1n << BigInt(8 * b.length)) : v;
}

/** decimalColumn applies decimalValue to a column, as a Float64Array (the typed-array path of the scan) while every value is a small number. */
function decimalColumn(col: ArrayLike<unknown>, scale: number): ArrayLike<unknown> {
  const n = col.length;
  if (col instanceof Int32Array && scale <= 22) {
    const out = new Float64Array(n);
    const f = 10 ** scale;
    for (let i = 0; i < n; i++) out[i] = col[i] / f;
    return out;
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = decimalValue(col[i], scale);
  return out;
}

/**
 * readableMetadata is `metadata` with the DECIMAL annotation taken off the
 * top-level INT32, INT64 and FIXED_LEN_BYTE_ARRAY columns, so that hyparquet
 * hands over their unscaled values (decimalValue scales them); it also gives
 * the scale of each such column by column index, else -1.
 */
function readableMetadata(metadata: FileMetaData): { metadata: FileMetaData; scales: number[] } {
  const top = parquetSchema(metadata).children.map((c) => c.element);
  const scales = top.map((e) => {
    const decimal = e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL';
    if (!decimal || e.num_children || !(e.type === 'INT32' || e.type === 'INT64' || e.type === 'FIXED_LEN_BYTE_ARRAY')) return -1;
    return e.logical_type?.type === 'DECIMAL' ? e.logical_type.scale : (e.scale ?? 0);
  });
  if (scales.every((x) => x < 0)) return { metadata, scales };
  const plain = new Set(top.filter((_, c) => scales[c] >= 0));
  const schema = metadata.schema.map((e): SchemaElement => (plain.has(e) ? { ...e, converted_type: undefined, logical_type: undefined } : e));
  return { metadata: { ...metadata, schema }, scales };
}

/** fileBuffer lets hyparquet read byte ranges of a local file through one open handle. */
function fileBuffer(fh: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const out = new ArrayBuffer(Math.max(0, stop - start));
      const view = new Uint8Array(out);
      let off = 0;
      while (off < view.length) {
        const { bytesRead } = await fh.read(view, off, view.length - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return out;
    },
  };
}

/** ParquetOptions: `pages: 'hyparquet'` scans every column through parquetRead (the general path), as tests compare. */
export interface ParquetOptions {
  pages?: 'lode' | 'hyparquet';
}

export class ParquetReader implements TableReader {
  readonly format = 'parquet' as const;
  readonly headerFirst = true;
  readonly untyped = false;
  readonly columns: string[];
  /** First row index of each row group, and the total at the end. */
  private readonly groupStarts: number[];
  /** What parquetRead reads by (see readableMetadata), and the DECIMAL scale of each column or -1. */
  private readonly readMetadata: FileMetaData;
  private readonly scales: number[];
  /** By column index: the dictionary-index buffer of the last row group, for the next (see decodeFlatChunk). */
  private readonly codeBuffers: (Int32Array | undefined)[] = [];

  private constructor(
    readonly label: string,
    private readonly fh: FileHandle,
    private readonly file: AsyncBuffer,
    private readonly metadata: FileMetaData,
    private readonly size: number,
    private readonly options: ParquetOptions,
  ) {
    this.columns = parquetSchema(metadata).children.map((c) => c.element.name);
    this.groupStarts = [0];
    for (const g of metadata.row_groups) this.groupStarts.push(this.groupStarts[this.groupStarts.length - 1] + Number(g.num_rows));
    ({ metadata: this.readMetadata, scales: this.scales } = readableMetadata(metadata));
  }

  /** open reads the footer; TableError when the file is empty, not Parquet, or its footer is damaged. */
  static async open(input: TableInput, options: ParquetOptions = {}): Promise<ParquetReader> {
    const fh = await open(input.file, 'r');
    try {
      const size = (await fh.stat()).size;
      if (size === 0) throw new TableError('CORRUPT', input.label, 'the file is empty', {}, FOOTER_HINT);
      const file = fileBuffer(fh, size);
      let metadata: FileMetaData;
      try {
        metadata = await parquetMetadataAsync(file);
        parquetSchema(metadata);
      } catch (e) {
        throw new TableError('CORRUPT', input.label, `cannot read the Parquet footer: ${(e as Error).message}`, { where: 'footer' }, FOOTER_HINT, e);
      }
      const names = new Set<string>();
      for (const c of parquetSchema(metadata).children) {
        if (names.has(c.element.name)) throw new TableError('CORRUPT', input.label, `column ${JSON.stringify(c.element.name)} appears twice in the schema`, { where: 'footer' }, FOOTER_HINT);
        names.add(c.element.name);
      }
      return new ParquetReader(input.label, fh, file, metadata, size, options);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  estimateRows(): number {
    return this.groupStarts[this.groupStarts.length - 1];
  }

  private problem(e: unknown, g: number): TableError {
    if (e instanceof TableError) return e;
    const msg = (e as Error)?.message ?? String(e);
    const hint = /unsupported|no compressor|not supported/i.test(msg) ? PAGE_HINT : DAMAGE_HINT;
    return new TableError('CORRUPT', this.label, `cannot decode the data: ${msg}`, { row: this.groupStarts[g] + 1, where: `row group ${g + 1} of ${this.groupStarts.length - 1}` }, hint, e);
  }

  /**
   * scan reads row group by row group. Flat columns (see isFlatPath) go
   * through decodeFlatChunk, the others through parquetRead; with
   * `options.coded`, a dictionary-encoded flat column comes as a
   * CodedColumn in `batch.coded` (and `columns[c]` is undefined).
   */
  async scan(onBatch: (batch: Batch) => void, options?: ScanOptions): Promise<void> {
    const ncols = this.columns.length;
    const index = new Map(this.columns.map((c, i) => [c, i]));
    const tree = parquetSchema(this.readMetadata);
    const fields = tree.children;
    const flat = fields.map((f) => this.options.pages !== 'hyparquet' && isFlatPath([tree, f]));
    const general = this.columns.filter((_, c) => !flat[c]);
    const parsers = { ...DEFAULT_PARSERS, ...PARSERS };
    // Reused from batch to batch, as Batch allows.
    let positions = new Float64Array(0);
    for (let g = 0; g + 1 < this.groupStarts.length; g++) {
      const start = this.groupStarts[g];
      const end = this.groupStarts[g + 1];
      if (end === start) continue;
      const n = end - start;
      const columns: (ArrayLike<unknown> | undefined)[] = new Array<ArrayLike<unknown> | undefined>(ncols).fill(undefined);
      const coded: (CodedColumn | undefined)[] = new Array<CodedColumn | undefined>(ncols).fill(undefined);
      try {
        if (general.length > 0) {
          const pieces: ColumnData[][] = Array.from({ length: ncols }, () => []);
          await parquetRead({
            file: this.file,
            metadata: this.readMetadata,
            columns: general,
            rowStart: start,
            rowEnd: end,
            compressors,
            parsers: PARSERS,
            onChunk: (chunk) => {
              const c = index.get(chunk.columnName);
              if (c !== undefined) pieces[c].push(chunk);
            },
          });
          for (let c = 0; c < ncols; c++) {
            if (flat[c]) continue;
            const list = pieces[c];
            if (list.length === 1 && list[0].rowStart === start && list[0].rowEnd === end) {
              columns[c] = list[0].columnData;
              continue;
            }
            if (list.length === 0) throw new Error(`column ${this.columns[c]} has no data`);
            const out = new Array<unknown>(n).fill(undefined);
            for (const piece of list) {
              for (let r = Math.max(piece.rowStart, start); r < Math.min(piece.rowEnd, end); r++) out[r - start] = piece.columnData[r - piece.rowStart];
            }
            columns[c] = out;
          }
        }
        if (flat.some((x) => x)) await this.decodeFlat(g, n, fields, tree, flat, parsers, columns, coded, options?.coded === true);
      } catch (e) {
        throw this.problem(e, g);
      }
      for (let c = 0; c < ncols; c++) {
        if (this.scales[c] < 0) continue;
        const k = coded[c];
        if (k !== undefined) coded[c] = { dict: decimalColumn(k.dict, this.scales[c]), codes: k.codes };
        else columns[c] = decimalColumn(columns[c]!, this.scales[c]);
      }
      if (positions.length < n) positions = new Float64Array(n);
      for (let i = 0; i < n; i++) positions[i] = start + i;
      onBatch({ n, firstRow: start + 1, columns, positions, ...(options?.coded ? { coded } : {}) });
    }
  }

  /**
   * decodeFlat decodes the flat columns of row group `g` (`n` rows) from one
   * read of the group's bytes into `columns`, or into `coded` when `wantCoded`
   * and the chunk is dictionary-encoded throughout.
   */
  private async decodeFlat(
    g: number,
    n: number,
    fields: ReturnType<typeof parquetSchema>['children'],
    tree: ReturnType<typeof parquetSchema>,
    flat: boolean[],
    parsers: ColumnDecoder['parsers'],
    columns: (ArrayLike<unknown> | undefined)[],
    coded: (CodedColumn | undefined)[],
    wantCoded: boolean,
  ): Promise<void> {
    const group = this.readMetadata.row_groups[g];
    const ranges: { c: number; from: number; to: number; meta: NonNullable<(typeof group.columns)[number]['meta_data']> }[] = [];
    for (let c = 0; c < this.columns.length; c++) {
      if (!flat[c]) continue;
      const chunk = group.columns.find((x) => x.meta_data?.path_in_schema.length === 1 && x.meta_data.path_in_schema[0] === this.columns[c]);
      const meta = chunk?.meta_data;
      if (!meta || chunk.file_path) throw new Error(`column ${this.columns[c]} has no data`);
      const from = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const to = from + Number(meta.total_compressed_size);
      if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && to >= from && to <= this.size)) throw new Error(`column ${this.columns[c]}: its chunk lies outside the file (bytes ${from} to ${to} of ${this.size})`);
      ranges.push({ c, from, to, meta });
    }
    const lo = Math.min(...ranges.map((r) => r.from));
    const hi = Math.max(...ranges.map((r) => r.to));
    const bytes = new Uint8Array(await this.file.slice(lo, hi));
    if (bytes.length !== hi - lo) throw new Error(`the file ends inside row group ${g + 1}`);
    for (const { c, from, to, meta } of ranges) {
      const field = fields[c];
      const decoder: ColumnDecoder = {
        pathInSchema: meta.path_in_schema,
        type: meta.type,
        element: field.element,
        schemaPath: [tree, field],
        codec: meta.codec,
        parsers,
        compressors,
      };
      const out = decodeFlatChunk(bytes.subarray(from - lo, to - lo), n, decoder, this.codeBuffers[c]);
      if (!('codes' in out)) columns[c] = out;
      else {
        // Reused by the next row group, as Batch allows.
        if (out.codes.buffer !== this.codeBuffers[c]?.buffer) this.codeBuffers[c] = out.codes;
        if (wantCoded) coded[c] = out;
        else columns[c] = materialize(out, n);
      }
    }
  }

  /**
   * fetch decodes, per row group, the rows from the first wanted to the last
   * one column by column and picks out the wanted rows: no row object is made
   * for the rows in between.
   */
  async fetch(wanted: WantedRow[], onRow: (i: number, values: unknown[]) => void): Promise<void> {
    const ncols = this.columns.length;
    const index = new Map(this.columns.map((c, i) => [c, i]));
    let i = 0;
    let g = 0;
    while (i < wanted.length) {
      const first = wanted[i].position;
      while (this.groupStarts[g + 1] <= first) g++;
      const groupEnd = this.groupStarts[g + 1];
      let j = i;
      while (j < wanted.length && wanted[j].position < groupEnd) j++;
      const last = wanted[j - 1].position;
      const rows = Array.from({ length: j - i }, () => new Array<unknown>(ncols).fill(undefined));
      const seen = Array.from({ length: ncols }, () => 0);
      try {
        await parquetRead({
          file: this.file,
          metadata: this.readMetadata,
          rowStart: first,
          rowEnd: last + 1,
          compressors,
          parsers: PARSERS,
          onChunk: (chunk) => {
            const c = index.get(chunk.columnName);
            if (c === undefined) return;
            const data = chunk.columnData;
            const scale = this.scales[c];
            // Wanted rows are sorted: find the first one in this chunk, then walk.
            let k = lowerBound(wanted, i, j, chunk.rowStart);
            for (; k < j && wanted[k].position < chunk.rowEnd; k++) {
              const v = data[wanted[k].position - chunk.rowStart];
              rows[k - i][c] = scale >= 0 ? decimalValue(v, scale) : v;
              seen[c]++;
            }
          },
        });
      } catch (e) {
        throw this.problem(e, g);
      }
      for (let c = 0; c < ncols; c++) {
        if (seen[c] < j - i) throw this.problem(new Error(`column ${this.columns[c]} is missing rows on a second read`), g);
      }
      for (let k = i; k < j; k++) onRow(k, rows[k - i]);
      i = j;
    }
  }

  adopt(): void {}

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** materialize turns a CodedColumn of `n` rows into values by row, null for an empty cell. */
function materialize(k: CodedColumn, n: number): unknown[] {
  const out = new Array<unknown>(n);
  const { dict, codes } = k;
  for (let i = 0; i < n; i++) out[i] = codes[i] < 0 ? null : dict[codes[i]];
  return out;
}

/** lowerBound is the first index in [from, to) of `wanted` (sorted by position) whose position is at least `position`. */
function lowerBound(wanted: WantedRow[], from: number, to: number, position: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (wanted[mid].position < position) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
