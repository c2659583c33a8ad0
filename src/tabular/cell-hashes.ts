import * as fs from 'node:fs';
import * as path from 'node:path';
import { hashHi, hashLo } from './hash.js';
import type { TableReader, WantedRow } from './reader.js';
import type { TableFormat, TableInput } from './types.js';
import { hashValue, isEmpty } from './values.js';

/**
 * Cell hashes: how changed cells of modified rows are counted. Either a scan
 * writes every cell's hash to a file (CellFileWriter) and the comparison
 * picks the modified rows' hashes out of it (readCellHashes), or the
 * modified rows are read again and hashed (hashCells).
 */

/** The hash of an empty cell in hashCells and in cell hash files. */
export const NULL_LANE = 0x9e3779b9;

/**
 * CellFile is where a scan wrote its cell hashes, as 32-bit words batch by
 * batch, each batch column-major: for batch g of rows [starts[g],
 * starts[g + 1]) (0-based row indexes; the last element is the row count),
 * the hash of row r and column c is at word `starts[g] * columns + slots[c]
 * * (starts[g + 1] - starts[g]) + (r - starts[g])`. Key columns have no
 * slot (-1): rows matched by key hold equal key values.
 */
export interface CellFile {
  file: string;
  /** Columns in the file. */
  columns: number;
  /** By column index: its place among the file's columns, or -1. */
  slots: number[];
  starts: number[];
}

/**
 * CellFileWriter writes a scan's cell hashes (see CellFile) batch by batch:
 * `begin` hands out a zeroed batch, the scan stores hashes in `words` (column
 * c of row i at `slots[c] * stride + i`), and `end` appends it.
 */
export class CellFileWriter {
  /** The current batch's hashes, column-major; reused from batch to batch. */
  words = new Uint32Array(0);
  /** The current batch's row count. */
  stride = 0;
  /** By column index: its place among the file's columns, or -1 (a key column). */
  readonly slots: number[] = [];
  private readonly columns: number;
  private readonly all: number;
  private readonly starts: number[] = [];
  private readonly file: string;
  private fd: number;
  private rows = 0;

  /** The file goes to `dir`/`tag`.cells; `columns` are the reader's, complete before the scan. */
  constructor(dir: string, tag: string, columns: string[], key: string[] | null) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${tag}.cells`);
    this.fd = fs.openSync(this.file, 'w');
    this.all = columns.length;
    let n = 0;
    for (const name of columns) this.slots.push(key?.includes(name) ? -1 : n++);
    this.columns = n;
  }

  /**
   * begin makes room for a batch of `n` rows whose first is row `firstRow`
   * (1-based), every cell empty (NULL_LANE) until the scan sets it. The
   * batches must come in row order, with the columns known at the start.
   */
  begin(firstRow: number, n: number, columnCount: number): void {
    if (columnCount !== this.all) throw new Error('scan: cell hashes need the columns before the scan');
    if (firstRow - 1 !== this.rows) throw new Error('scan: cell hashes need the batches in row order');
    const words = n * this.columns;
    if (this.words.length < words) this.words = new Uint32Array(words);
    this.words.fill(NULL_LANE, 0, words);
    this.stride = n;
  }

  /** end appends the batch begun last to the file. */
  end(): void {
    const bytes = this.stride * this.columns * 4;
    const at = this.rows * this.columns * 4;
    let off = 0;
    while (off < bytes) off += fs.writeSync(this.fd, this.words, off, bytes - off, at + off);
    this.starts.push(this.rows);
    this.rows += this.stride;
  }

  /** close releases the file's handle (the file stays). */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** result describes the file written so far. */
  result(): CellFile {
    return { file: this.file, columns: this.columns, slots: this.slots, starts: [...this.starts, this.rows] };
  }
}

/** Words of a cell hash file read at once. */
const CELL_CHUNK = 64 * 1024;

/**
 * readCellHashes picks the hashes of columns `hashed` of rows `rows[order[k]]`
 * (1-based row numbers, `order` sorting them) out of a scan's cell hash file:
 * one word per cell, `hashed.length` per row, in `order` (0 for a key column,
 * which the file leaves out). It reads each batch's column blocks in order,
 * through a window of CELL_CHUNK words.
 */
export function readCellHashes(cells: CellFile, rows: number[], order: number[], hashed: number[]): Uint32Array {
  const np = hashed.length;
  const m = order.length;
  const out = new Uint32Array(m * np);
  const { starts, columns } = cells;
  const window = new Uint32Array(CELL_CHUNK);
  const bytes = new Uint8Array(window.buffer);
  // Words [lo, hi) of the file are in `window`.
  let lo = 0;
  let hi = 0;
  const fd = fs.openSync(cells.file, 'r');
  try {
    const word = (w: number): number => {
      if (w < lo || w >= hi) {
        let got = 0;
        while (got < bytes.length) {
          const n = fs.readSync(fd, bytes, got, bytes.length - got, w * 4 + got);
          if (n === 0) break;
          got += n;
        }
        lo = w;
        hi = w + Math.floor(got / 4);
        if (w >= hi) throw new Error(`the cell hash file ${cells.file} is shorter than written`);
      }
      return window[w - lo];
    };
    let g = 0;
    for (let k = 0; k < m; ) {
      // The wanted rows [k, end) of batch g.
      const first = rows[order[k]] - 1;
      while (g + 1 < starts.length && starts[g + 1] <= first) g++;
      if (g + 1 >= starts.length) throw new Error(`the cell hash file ${cells.file} lacks row ${first + 1}`);
      const start = starts[g];
      const size = starts[g + 1] - start;
      let end = k;
      while (end < m && rows[order[end]] - 1 < starts[g + 1]) end++;
      for (let j = 0; j < np; j++) {
        // A key column has no hashes: its cells agree (out is 0 on both sides).
        const slot = cells.slots[hashed[j]];
        if (slot < 0) continue;
        const base = start * columns + slot * size - start;
        for (let x = k; x < end; x++) out[x * np + j] = word(base + rows[order[x]] - 1);
      }
      k = end;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** CellJob asks for the cell hashes of some rows of one side, to count changed cells (it can cross a worker boundary). */
export interface CellJob {
  format: TableFormat;
  input: TableInput;
  /** What the side's scan found: its columns and row count (see TableReader.adopt). */
  columns: string[];
  rows: number;
  /** Rows to read, sorted by position. */
  wanted: WantedRow[];
  /** Column indexes to hash, in the order of the result. */
  hashed: number[];
}

/**
 * hashCells reads the `wanted` rows of `reader` and returns two hash lanes per
 * row and hashed column: `[lo, hi]` of column `hashed[j]` of `wanted[k]` at
 * `2 * (k * hashed.length + j)`. Every empty value hashes alike.
 */
export async function hashCells(reader: TableReader, wanted: WantedRow[], hashed: number[]): Promise<Uint32Array> {
  const np = hashed.length;
  const out = new Uint32Array(wanted.length * np * 2);
  await reader.fetch(wanted, (k, values) => {
    for (let j = 0; j < np; j++) {
      const v = values[hashed[j]];
      const at = 2 * (k * np + j);
      if (isEmpty(v)) {
        out[at] = NULL_LANE;
        out[at + 1] = NULL_LANE;
      } else {
        hashValue(v);
        out[at] = hashLo;
        out[at + 1] = hashHi;
      }
    }
  });
  return out;
}
