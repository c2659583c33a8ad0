/**
 * tabular: parsing and diffing of table files; imports core only (and node built-ins).
 *
 * A table diff reads CSV, TSV, JSON Lines and Parquet files as streams and
 * reports, for a data scientist about to retrain, what changed in the data:
 * rows added, removed and modified (matched by key columns, or by content),
 * columns added, removed, renamed or retyped, and per changed column its
 * nulls, numeric summary and category shares on each side.
 */
export { diffTable } from './diff.js';
export { tableFormatOf } from './formats.js';
export { TableError, type TableLocation } from './errors.js';
export type * from './types.js';
