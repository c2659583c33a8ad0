import { open, type FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type ColumnData, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { TableError } from './errors.js';
import type { Batch, TableReader, WantedRow } from './reader.js';
import type { TableInput } from './types.js';

/**
 * Parquet through hyparquet (pure JavaScript) and hyparquet-compressors
 * (snappy, gzip, brotli, zstd, lz4). Files are read one row group at a time,
 * so memory follows the largest row group, not the file. Columns are the
 * top-level fields; a nested field is one column whose values are objects.
 */

const FOOTER_HINT = 'the file is not Parquet or its footer is damaged: check the file, or restore it from another copy';
const PAGE_HINT = 'rewrite the file with a codec and encodings hyparquet reads (snappy, gzip, zstd, brotli, lz4; plain, dictionary, RLE, delta), e.g. from pandas with compression="zstd"';
const DAMAGE_HINT = 'the file is damaged: restore it from another copy, or rewrite it';

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

export class ParquetReader implements TableReader {
  readonly format = 'parquet' as const;
  readonly headerFirst = true;
  readonly untyped = false;
  readonly columns: string[];
  /** First row index of each row group, and the total at the end. */
  private readonly groupStarts: number[];

  private constructor(
    readonly label: string,
    private readonly fh: FileHandle,
    private readonly file: AsyncBuffer,
    private readonly metadata: FileMetaData,
  ) {
    this.columns = parquetSchema(metadata).children.map((c) => c.element.name);
    this.groupStarts = [0];
    for (const g of metadata.row_groups) this.groupStarts.push(this.groupStarts[this.groupStarts.length - 1] + Number(g.num_rows));
  }

  /** open reads the footer; TableError when the file is empty, not Parquet, or its footer is damaged. */
  static async open(input: TableInput): Promise<ParquetReader> {
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
      return new ParquetReader(input.label, fh, file, metadata);
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

  async scan(onBatch: (batch: Batch) => void): Promise<void> {
    const ncols = this.columns.length;
    const index = new Map(this.columns.map((c, i) => [c, i]));
    for (let g = 0; g + 1 < this.groupStarts.length; g++) {
      const start = this.groupStarts[g];
      const end = this.groupStarts[g + 1];
      if (end === start) continue;
      const pieces: ColumnData[][] = Array.from({ length: ncols }, () => []);
      try {
        await parquetRead({
          file: this.file,
          metadata: this.metadata,
          rowStart: start,
          rowEnd: end,
          compressors,
          onChunk: (chunk) => {
            const c = index.get(chunk.columnName);
            if (c !== undefined) pieces[c].push(chunk);
          },
        });
      } catch (e) {
        throw this.problem(e, g);
      }
      const n = end - start;
      const columns = pieces.map((list, c) => {
        if (list.length === 1 && list[0].rowStart === start && list[0].rowEnd === end) return list[0].columnData;
        const out = new Array<unknown>(n).fill(undefined);
        for (const piece of list) {
          for (let r = Math.max(piece.rowStart, start); r < Math.min(piece.rowEnd, end); r++) out[r - start] = piece.columnData[r - piece.rowStart];
        }
        if (list.length === 0) throw this.problem(new Error(`column ${this.columns[c]} has no data`), g);
        return out;
      });
      const positions = new Float64Array(n);
      for (let i = 0; i < n; i++) positions[i] = start + i;
      onBatch({ n, firstRow: start + 1, columns, positions });
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
          metadata: this.metadata,
          rowStart: first,
          rowEnd: last + 1,
          compressors,
          onChunk: (chunk) => {
            const c = index.get(chunk.columnName);
            if (c === undefined) return;
            const data = chunk.columnData;
            // Wanted rows are sorted: find the first one in this chunk, then walk.
            let k = lowerBound(wanted, i, j, chunk.rowStart);
            for (; k < j && wanted[k].position < chunk.rowEnd; k++) {
              rows[k - i][c] = data[wanted[k].position - chunk.rowStart];
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
