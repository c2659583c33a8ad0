import { LodeError, registerErrorClasses, type ErrorCode } from '../core/errors.js';

/** Where in a table file a problem was found: a 1-based data row, or a 1-based line (JSON Lines). */
export interface TableLocation {
  row?: number;
  line?: number;
  /** Byte offset in the file, when known and useful. */
  offset?: number;
  /** Free text such as `row group 3`. */
  where?: string;
}

/**
 * TableError: a table file cannot be read as its format says (code `CORRUPT`),
 * or the diff was asked for something the file does not have, such as a key
 * column it lacks (code `USAGE`). The message names the file's label and the
 * row or line; `hint` says what to do.
 */
export class TableError extends LodeError {
  readonly label: string;
  readonly row?: number;
  readonly line?: number;
  /** The message without the label and location, and the location. */
  readonly what: string;
  readonly at: TableLocation;

  constructor(code: TableErrorCode, label: string, what: string, at: TableLocation, hint: string, cause?: unknown) {
    super(code, `${label}: ${locationText(at)}${what}`, { hint, cause });
    this.label = label;
    this.row = at.row;
    this.line = at.line;
    this.what = what;
    this.at = at;
  }
}

// A TableError thrown on a worker thread arrives as a TableError (see errorFromJSON).
registerErrorClasses(TableError);

/** KEY_HINT is the hint of a TableError about key columns (missing, or not unique). */
export const KEY_HINT = 'choose key columns that both versions have and that identify each row (several: --key a --key b)';

export type TableErrorCode = Extract<ErrorCode, 'CORRUPT' | 'USAGE'>;

function locationText(at: TableLocation): string {
  const parts: string[] = [];
  if (at.row !== undefined) parts.push(`row ${at.row}`);
  if (at.line !== undefined) parts.push(`line ${at.line}`);
  if (at.where !== undefined) parts.push(at.where);
  if (at.offset !== undefined) parts.push(`byte ${at.offset}`);
  return parts.length ? `${parts.join(', ')}: ` : '';
}
