import type { TableReader } from './reader.js';
import type { TableFormat, TableInput } from './types.js';

/**
 * The table formats a diff can read, each with what its reader can do. The
 * diff asks these capabilities, never a format's name, so that a new format
 * is one entry here and a reader. Readers load when a file is opened: asking
 * whether a path is a table (`lode commit` with a contract, `lode diff` of
 * files that are not tables) does not pay for the Parquet decoder.
 */

/** FormatCapabilities says what a format's reader can do cheaply, so the diff can plan its passes. */
export interface FormatCapabilities {
  /**
   * The reader hashes each row's canonical text while it scans (see
   * Batch.rowHashes): when both sides have the same columns in the same
   * order, rows compare whole, with no hash per cell (CSV, TSV).
   */
  lineHashes: boolean;
  /**
   * Fetching a row again by its position is cheap: a seek to its byte
   * offset and one row parsed (CSV, TSV, JSON Lines). When false (Parquet:
   * a row index, whose page must be decoded again) the scans keep every
   * cell's hash instead, so that changed cells are counted without reading
   * rows again.
   */
  cheapToReReadByOffset: boolean;
  /**
   * Each row's position (Batch.positions) is its row index, row - 1
   * (Parquet): the row index leaves positions out of its entries.
   */
  rowIndexPositions: boolean;
}

/** TableFormatEntry is one registered format. */
export interface TableFormatEntry {
  format: TableFormat;
  /** File name extensions (lower case, no dot) that mean this format. */
  extensions: string[];
  capabilities: FormatCapabilities;
  /** open opens one side of a diff; the caller closes it. */
  open(input: TableInput): Promise<TableReader>;
}

const FORMATS: Record<TableFormat, TableFormatEntry> = {
  csv: {
    format: 'csv',
    extensions: ['csv'],
    capabilities: { lineHashes: true, cheapToReReadByOffset: true, rowIndexPositions: false },
    open: async (input) => (await import('./csv.js')).CsvReader.open(input, 'csv'),
  },
  tsv: {
    format: 'tsv',
    extensions: ['tsv', 'tab'],
    capabilities: { lineHashes: true, cheapToReReadByOffset: true, rowIndexPositions: false },
    open: async (input) => (await import('./csv.js')).CsvReader.open(input, 'tsv'),
  },
  jsonl: {
    format: 'jsonl',
    extensions: ['jsonl', 'ndjson'],
    capabilities: { lineHashes: false, cheapToReReadByOffset: true, rowIndexPositions: false },
    open: async (input) => (await import('./jsonl.js')).JsonlReader.open(input),
  },
  parquet: {
    format: 'parquet',
    extensions: ['parquet'],
    capabilities: { lineHashes: false, cheapToReReadByOffset: false, rowIndexPositions: true },
    open: async (input) => (await import('./parquet.js')).ParquetReader.open(input),
  },
};

const BY_EXTENSION = new Map<string, TableFormat>(Object.values(FORMATS).flatMap((f) => f.extensions.map((e): [string, TableFormat] => [e, f.format])));

/** capabilitiesOf returns what the reader of `format` can do. */
export function capabilitiesOf(format: TableFormat): FormatCapabilities {
  return FORMATS[format].capabilities;
}

/** tableFormatOf names the table format of `path` by its extension (case-insensitive), or null when it is not a table. */
export function tableFormatOf(path: string): TableFormat | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return null;
  return BY_EXTENSION.get(base.slice(dot + 1).toLowerCase()) ?? null;
}

/** openReader opens one side of a diff in `format`; the caller closes it. */
export function openReader(format: TableFormat, input: TableInput): Promise<TableReader> {
  return FORMATS[format].open(input);
}
