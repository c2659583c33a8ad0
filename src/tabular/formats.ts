import { CsvReader } from './csv.js';
import { JsonlReader } from './jsonl.js';
import { ParquetReader } from './parquet.js';
import type { TableReader } from './reader.js';
import type { TableFormat, TableInput } from './types.js';

const EXTENSIONS: Record<string, TableFormat> = {
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  parquet: 'parquet',
};

/** tableFormatOf names the table format of `path` by its extension (case-insensitive), or null when it is not a table. */
export function tableFormatOf(path: string): TableFormat | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return null;
  return EXTENSIONS[base.slice(dot + 1).toLowerCase()] ?? null;
}

/** openReader opens one side of a diff in `format`; the caller closes it. */
export async function openReader(format: TableFormat, input: TableInput): Promise<TableReader> {
  switch (format) {
    case 'csv':
    case 'tsv':
      return CsvReader.open(input, format);
    case 'jsonl':
      return JsonlReader.open(input);
    case 'parquet':
      return ParquetReader.open(input);
  }
}
