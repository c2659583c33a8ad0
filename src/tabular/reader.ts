import type { CodedColumn } from './parquet-chunk.js';
import type { TableFormat, TableInput } from './types.js';

/**
 * Batch is a run of consecutive data rows, column by column, as a reader
 * hands them to the diff. Arrays are owned by the reader and reused for the
 * next batch: a consumer must finish with them before it returns.
 */
export interface Batch {
  /** Number of rows in the batch; arrays may be longer. */
  n: number;
  /** 1-based data row number of the batch's first row. */
  firstRow: number;
  /**
   * Values by the reader's column index. A missing array, or a missing,
   * `null` or `''` element, is an empty cell. JSON Lines and Parquet
   * values; CSV/TSV readers leave this empty and fill `cells`.
   */
  columns: (ArrayLike<unknown> | undefined)[];
  /**
   * With `scan(…, { coded: true })` (Parquet): by column index, a column
   * given as dictionary indexes instead of values (see CodedColumn); its
   * `columns` entry is then undefined.
   */
  coded?: (CodedColumn | undefined)[];
  /** CSV/TSV cells, as UTF-8 byte ranges: no string per cell. */
  cells?: CellBatch;
  /** Where each row can be fetched again: a byte offset (CSV, TSV, JSON Lines) or a row index (Parquet). */
  positions: Float64Array;
  /**
   * With `scan(…, { rowHashes: true })` (CSV, TSV): two hash lanes per row
   * (`[lo0, hi0, lo1, hi1, …]`) of the row's canonical text in UTF-8: the
   * fields joined by the delimiter (by NUL after a NUL marker when a field
   * holds the delimiter), so that the quoting style does not matter.
   */
  rowHashes?: Uint32Array;
}

/**
 * CellBatch holds the cells of a batch as UTF-8 byte ranges, row-major: cell
 * (row r, column c) is `bytes[starts[i], ends[i])` with `i = r * columns + c`,
 * or, when `starts[i]` is negative, the text `escaped[-1 - starts[i]]` (a
 * quoted cell whose doubled quotes had to be undone). An empty range is an
 * empty cell. The bytes are valid UTF-8.
 */
export interface CellBatch {
  bytes: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  escaped: string[];
}

/** ScanOptions asks a scan for extra per-row data. */
export interface ScanOptions {
  rowHashes?: boolean;
  /** Dictionary-encoded Parquet columns as indexes (Batch.coded) rather than values. */
  coded?: boolean;
}

/** WantedRow names one row to fetch again, by the position a batch gave it. */
export interface WantedRow {
  position: number;
  row: number;
}

/**
 * TableReader reads one table file: streaming scans in file order, and
 * fetching individual rows again by position. Every failure to read the file
 * as its format says is a TableError naming `label` and the row.
 */
export interface TableReader {
  readonly format: TableFormat;
  readonly label: string;
  /**
   * Column names by index. Complete after `open` for CSV, TSV and Parquet;
   * JSON Lines discovers columns while scanning (the union of all keys), so
   * there it is complete only after the first full scan.
   */
  readonly columns: string[];
  /** Whether `columns` is complete before the first scan. */
  readonly headerFirst: boolean;
  /** Whether string values carry no type and need inference (CSV, TSV). */
  readonly untyped: boolean;
  /** An upper estimate of the number of data rows, for sizing partitions. */
  estimateRows(): number;
  /** scan reads every row once, in file order, in batches; it may be called again for another pass. */
  scan(onBatch: (batch: Batch) => void, options?: ScanOptions): Promise<void>;
  /**
   * fetch reads the rows in `wanted`, which the caller sorted by position,
   * and calls `onRow` with the index into `wanted` and the row's values by
   * column index. Rows are delivered in `wanted` order.
   */
  fetch(wanted: WantedRow[], onRow: (i: number, values: unknown[]) => void): Promise<void>;
  /**
   * adopt tells a reader what a scan elsewhere (on a worker thread) found:
   * the complete columns and the row count, so that `fetch` can map values
   * and size its reads without a scan of its own.
   */
  adopt(columns: string[], rows: number): void;
  close(): Promise<void>;
}

/** ReaderFactory opens one side of a diff. */
export type ReaderFactory = (input: TableInput) => Promise<TableReader>;
