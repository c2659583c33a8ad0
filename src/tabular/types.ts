/**
 * The shapes of a data-aware diff of one table file (CSV, TSV, JSON Lines,
 * Parquet). They are part of `lode diff --json` (docs/cli.md): change them
 * only by adding fields.
 */

export type TableFormat = 'csv' | 'tsv' | 'jsonl' | 'parquet';

/** The type a column's values were inferred to have; `mixed` when they disagree. */
export type ColumnType = 'integer' | 'number' | 'boolean' | 'string' | 'date' | 'null' | 'mixed';

/** TableInput is one side of a table diff: a complete local file whose bytes are already verified. */
export interface TableInput {
  /** Absolute path of a local file to read (a cache file or a workspace file). */
  file: string;
  size: number;
  /** How messages name this side, e.g. `data/train.csv at v1`. */
  label: string;
}

export interface TableDiffOptions {
  /** Key columns that identify a row; without them rows match by whole-row content. */
  key?: string[];
  /**
   * Without `key`: try a column that identifies rows on both sides as the key
   * when content matching leaves removed and added rows (default true).
   */
  autoKey?: boolean;
  /** Collect a row-level listing (`--rows`). */
  rows?: boolean;
  /** At most this many row changes are listed (default 20). */
  limit?: number;
  /** Scratch directory for on-disk partitions; the caller creates and removes it. */
  tmpDir: string;
  /** Bytes of rows held in memory before spilling to disk (default 64 MiB). */
  memoryBudget?: number;
  /** A column with at most this many distinct values on each side is a category (default 20). */
  categoryLimit?: number;
  /**
   * Scan the two sides at once on worker threads (default: when both sides
   * exist and together hold at least 32 MiB). Needs the compiled worker
   * (dist/); running from TypeScript sources the scans stay inline.
   */
  parallel?: boolean;
  /**
   * Hears how far the diff has read, after each batch of rows (a few times a
   * second with worker threads): rows read on both sides over every pass
   * (a second pass, or the keyed diff that checks an automatic key, reads
   * the rows again), and bytes read of both inputs, which only grows and
   * ends at their total size. Must not throw.
   */
  progress?: (p: { rows: number; bytes: number }) => void;
}

export interface NumericSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
}

export interface ColumnSide {
  type: ColumnType;
  /** Rows where the column is empty, null or missing. */
  nulls: number;
  /** For integer and number columns. */
  numeric?: NumericSummary;
}

/** CategoryShare is one value of a low-cardinality column with its count and share on each side. */
export interface CategoryShare {
  value: string;
  before: number;
  after: number;
  /** Fractions in [0, 1] of the side's row count. */
  shareBefore: number;
  shareAfter: number;
}

/** ColumnShift summarises one column that changed (in schema, cells or distribution). */
export interface ColumnShift {
  name: string;
  /** null when the column does not exist on that side. */
  before: ColumnSide | null;
  after: ColumnSide | null;
  /** Cells that differ among rows matched by key (0 without a key). */
  changedCells: number;
  /** For a renamed column (`name` is the new name): its name before. */
  renamedFrom?: string;
  /** Present when the column is a category (see `categoryLimit`), sorted by value. */
  categories?: CategoryShare[];
}

export interface SchemaChange {
  added: { name: string; type: ColumnType }[];
  removed: { name: string; type: ColumnType }[];
  /**
   * A removed and an added column that hold the same values (row by row when
   * rows match by key; without a key, only columns with more distinct values
   * than `categoryLimit`), each the other's only such candidate.
   */
  renamed: { from: string; to: string }[];
  typeChanged: { name: string; before: ColumnType; after: ColumnType }[];
}

/** RowChange is one listed row; values are as read from the file (strings for CSV/TSV). */
export interface RowChange {
  kind: 'added' | 'removed' | 'modified';
  /** Key column values, or null when rows are matched by content. */
  key: Record<string, unknown> | null;
  /** 1-based row numbers (data rows, header excluded) on each side, where known. */
  rowBefore?: number;
  rowAfter?: number;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  /** For `modified`: the columns whose values differ. */
  changedColumns?: string[];
}

/** TableDiff is the data-aware diff of one table file between two sides. */
export interface TableDiff {
  path: string;
  format: TableFormat;
  key: string[] | null;
  /** How `key` was chosen: named with `--key` (`option`), or found unique on both sides (`auto`); absent without a key. */
  keySource?: 'option' | 'auto';
  /** Without a key, when the sides' columns differ: the columns rows were matched on (those both sides have). */
  matchedOn?: string[];
  /** Without a key, when rows were both removed and added: what to do to pair edited rows. */
  keyHint?: string;
  rows: {
    before: number;
    after: number;
    added: number;
    removed: number;
    /** Rows matched by key whose other values differ (always 0 without a key). */
    modified: number;
    unchanged: number;
  };
  schema: SchemaChange;
  /** Columns that changed; unchanged columns are left out. */
  columns: ColumnShift[];
  /** With `rows`: up to `limit` row changes in file order. */
  rowChanges?: RowChange[];
  /** True when more row changes exist than were listed. */
  rowChangesTruncated?: boolean;
}

/** TableDiffFailure is a table that could not be diffed; the file-level diff still stands. */
export interface TableDiffFailure {
  path: string;
  format: TableFormat;
  error: { message: string; hint?: string };
}

export type TableDiffEntry = TableDiff | TableDiffFailure;
