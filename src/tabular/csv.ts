import { open, type FileHandle } from 'node:fs/promises';
import { TableError } from './errors.js';
import type { Batch, ScanOptions, TableReader, WantedRow } from './reader.js';
import { hashBytes, hashHi, hashLo } from './hash.js';
import { MAX_RECORD_BYTES, TextProblem, textChunks } from './textfile.js';
import type { TableInput } from './types.js';

/**
 * CSV (RFC 4180) and TSV reading. CSV fields may be quoted with `"` (a quote
 * inside is doubled) and then hold delimiters, CR and LF; rows end with LF or
 * CRLF. TSV has no quoting (IANA text/tab-separated-values): a `"` is data.
 * The first row is the header. Blank lines are skipped unless the table has a
 * single column, where a blank line is an empty cell.
 *
 * Strict by design: a row with the wrong number of fields, a stray quote or a
 * quote left open is an error naming the row, never a guess.
 */

const QUOTE = 34;
const LF = 10;
const CR = 13;
/** Rows per batch handed to the diff. */
const BATCH_ROWS = 4096;
const NONE = Number.MAX_SAFE_INTEGER;

/** CsvProblem is a syntax error at a character position of the text being parsed. */
export class CsvProblem extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const QUOTING_HINT = 'in CSV a field that contains a quote must be quoted as a whole, with each inner quote doubled: "say ""hi"""';

/** ParsedRecord is one record and the position just after it. */
export interface ParsedRecord {
  fields: string[];
  end: number;
}

/**
 * parseRecord parses one record starting at `pos`. It returns null when the
 * text ends before the record does and `final` is false (more text may
 * complete it); with `final` true the end of the text ends the record, and a
 * quote still open is an error.
 */
export function parseRecord(text: string, pos: number, final: boolean, delim: number, quoting: boolean): ParsedRecord | null {
  const len = text.length;
  const fields: string[] = [];
  let p = pos;
  for (;;) {
    if (quoting && text.charCodeAt(p) === QUOTE) {
      let value = '';
      let q = p + 1;
      for (;;) {
        const e = text.indexOf('"', q);
        if (e === -1) {
          if (final) throw new CsvProblem('a quoted field is never closed (unterminated quote)', QUOTING_HINT);
          return null;
        }
        // A quote at the very end might be the first half of a doubled quote.
        if (e + 1 >= len && !final) return null;
        if (text.charCodeAt(e + 1) === QUOTE) {
          value += text.slice(q, e + 1);
          q = e + 2;
          continue;
        }
        value += text.slice(q, e);
        p = e + 1;
        break;
      }
      fields.push(value);
      if (p >= len) return { fields, end: p };
      const c = text.charCodeAt(p);
      if (c === delim) {
        p++;
        continue;
      }
      if (c === LF) return { fields, end: p + 1 };
      if (c === CR) {
        if (p + 1 >= len) return final ? { fields, end: p + 1 } : null;
        if (text.charCodeAt(p + 1) === LF) return { fields, end: p + 2 };
      }
      throw new CsvProblem(`unexpected ${JSON.stringify(text.charAt(p))} after the closing quote of field ${fields.length}`, QUOTING_HINT);
    }
    let e = p;
    for (; e < len; e++) {
      const c = text.charCodeAt(e);
      if (c === delim || c === LF) break;
      if (quoting && c === QUOTE) throw new CsvProblem(`stray quote inside unquoted field ${fields.length + 1}`, QUOTING_HINT);
    }
    if (e >= len && !final) return null;
    if (e < len && text.charCodeAt(e) === delim) {
      fields.push(text.slice(p, e));
      p = e + 1;
      continue;
    }
    const fe = e > p && text.charCodeAt(e - 1) === CR ? e - 1 : e;
    fields.push(text.slice(p, fe));
    return { fields, end: e < len ? e + 1 : e };
  }
}

/**
 * CsvTokenizer fills column arrays with rows. Rows without a quote take a
 * fast path (indexOf on the decoded text, one slice per field); the position
 * of the next delimiter and quote is remembered across rows, so that each
 * search moves forward and the whole scan stays linear.
 */
export class CsvTokenizer {
  readonly cols: string[][];
  /** Character position in the current text of each row of the batch. */
  readonly starts: Float64Array;
  /** With row hashing: where each row ends, and the canonical text of rows that were quoted (null for the others). */
  readonly ends: Float64Array;
  readonly quotedLines: (string | null)[] | null;
  n = 0;
  private text = '';
  private nextDelim = -1;
  private nextQuote = -1;
  private readonly delimStr: string;

  constructor(
    readonly ncols: number,
    readonly delim: number,
    readonly quoting: boolean,
    wantLines = false,
    readonly capacity = BATCH_ROWS,
  ) {
    this.ends = new Float64Array(capacity);
    this.quotedLines = wantLines ? new Array<string | null>(capacity).fill(null) : null;
    this.cols = Array.from({ length: ncols }, () => new Array<string>(capacity).fill(''));
    this.starts = new Float64Array(capacity);
    this.delimStr = String.fromCharCode(delim);
  }

  /**
   * fill parses rows of `text` from `pos` until the batch is full or the text
   * holds no complete row, and returns the position after the last row taken.
   * On a syntax error it throws CsvProblem with `this.n` rows already filled
   * (the bad row is number `n + 1` of the batch).
   */
  fill(text: string, pos: number, final: boolean): number {
    if (text !== this.text) {
      this.text = text;
      this.nextDelim = -1;
      this.nextQuote = -1;
    }
    const len = text.length;
    const cols = this.cols;
    const ncols = this.ncols;
    const cap = this.capacity;
    while (this.n < cap && pos < len) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) {
        if (!final) break;
        nl = len;
      }
      let q = NONE;
      if (this.quoting) {
        q = this.nextQuote;
        if (q < pos) {
          q = text.indexOf('"', pos);
          if (q === -1) q = NONE;
          this.nextQuote = q;
        }
      }
      const r = this.n;
      if (q > nl) {
        const end = nl > pos && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
        if (end === pos && ncols > 1) {
          pos = nl + 1;
          continue;
        }
        this.starts[r] = pos;
        let f = 0;
        let p = pos;
        for (;;) {
          let d = this.nextDelim;
          if (d < p) {
            d = text.indexOf(this.delimStr, p);
            if (d === -1) d = NONE;
            this.nextDelim = d;
          }
          if (f >= ncols) throw this.ragged(text, pos, end);
          if (d >= end) {
            cols[f++][r] = text.slice(p, end);
            break;
          }
          cols[f++][r] = text.slice(p, d);
          p = d + 1;
        }
        if (f !== ncols) throw this.ragged(text, pos, end);
        if (this.quotedLines !== null) {
          this.ends[r] = end;
          this.quotedLines[r] = null;
        }
        this.n = r + 1;
        pos = nl + 1;
      } else {
        const rec = parseRecord(text, pos, final, this.delim, this.quoting);
        if (rec === null) break;
        if (rec.fields.length !== ncols) {
          if (rec.fields.length === 1 && rec.fields[0] === '' && ncols > 1) {
            pos = rec.end;
            continue;
          }
          throw new CsvProblem(raggedMessage(rec.fields.length, ncols), RAGGED_HINT);
        }
        this.starts[r] = pos;
        for (let f = 0; f < ncols; f++) cols[f][r] = rec.fields[f];
        if (this.quotedLines !== null) this.quotedLines[r] = canonicalLine(rec.fields, this.delimStr);
        this.n = r + 1;
        pos = rec.end;
      }
    }
    return pos;
  }

  private ragged(text: string, pos: number, end: number): CsvProblem {
    const rec = parseRecord(text.slice(pos, end), 0, true, this.delim, false);
    return new CsvProblem(raggedMessage(rec ? rec.fields.length : 0, this.ncols), RAGGED_HINT);
  }
}

/** canonicalLine is the text a row's value hash is made from: see Batch.rowHashes. */
export function canonicalLine(fields: string[], delim: string): string {
  for (const f of fields) if (f.includes(delim)) return `\u0000${fields.join('\u0000')}`;
  return fields.join(delim);
}

const RAGGED_HINT = 'every row needs as many fields as the header; quote fields that contain the delimiter';

function raggedMessage(got: number, want: number): string {
  return `has ${got} field${got === 1 ? '' : 's'}, the header has ${want}`;
}

/**
 * CsvReader reads a CSV or TSV file. `open` reads and checks the header;
 * `scan` streams the rest in 1 MiB chunks, so memory does not grow with the
 * file; `fetch` reads single rows again at the byte offsets `scan` reported.
 */
export class CsvReader implements TableReader {
  readonly headerFirst = true;
  readonly untyped = true;
  columns: string[] = [];
  private dataStart = 0;
  private avgRowBytes = 64;

  private constructor(
    readonly format: 'csv' | 'tsv',
    readonly label: string,
    private readonly fh: FileHandle,
    private readonly size: number,
    private readonly delim: number,
    private readonly quoting: boolean,
  ) {}

  /** open opens `input` and reads its header; TableError if the file is empty or the header is malformed. */
  static async open(input: TableInput, format: 'csv' | 'tsv'): Promise<CsvReader> {
    const fh = await open(input.file, 'r');
    try {
      const size = (await fh.stat()).size;
      const r = format === 'csv' ? new CsvReader('csv', input.label, fh, size, 44, true) : new CsvReader('tsv', input.label, fh, size, 9, false);
      await r.readHeader();
      return r;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  private async readHeader(): Promise<void> {
    const head = Buffer.alloc(3);
    const { bytesRead } = await this.fh.read(head, 0, 3, 0);
    const bom = bytesRead === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    if (this.size <= bom) {
      throw new TableError('CORRUPT', this.label, 'the file is empty: there is no header row', {}, `a ${this.format.toUpperCase()} table starts with a header row naming its columns`);
    }
    let carried = '';
    try {
      for await (const chunk of textChunks(this.fh, bom, this.size)) {
        const text = carried + chunk.text;
        const rec = parseRecord(text, 0, chunk.final, this.delim, this.quoting);
        if (rec === null) {
          if (text.length > MAX_RECORD_BYTES) throw new CsvProblem('the header row never ends', QUOTING_HINT);
          carried = text;
          continue;
        }
        const headerText = text.slice(0, rec.end);
        this.dataStart = bom + Buffer.byteLength(headerText);
        this.columns = rec.fields;
        break;
      }
    } catch (e) {
      throw this.wrap(e, { where: 'header' });
    }
    if (this.columns.length === 0 || (this.columns.length === 1 && this.columns[0] === '')) {
      throw new TableError('CORRUPT', this.label, 'the header row is empty', { where: 'header' }, `a ${this.format.toUpperCase()} table starts with a header row naming its columns`);
    }
    const seen = new Set<string>();
    for (const name of this.columns) {
      if (seen.has(name)) {
        throw new TableError('CORRUPT', this.label, `column ${JSON.stringify(name)} appears twice in the header`, { where: 'header' }, 'give every column a distinct name');
      }
      seen.add(name);
    }
  }

  estimateRows(): number {
    // Rows of at least 16 bytes on average: an over-estimate for real tables, which only means more, smaller partitions.
    return Math.ceil((this.size - this.dataStart) / 16) + 1;
  }

  async scan(onBatch: (batch: Batch) => void, options: ScanOptions = {}): Promise<void> {
    const wantHashes = options.rowHashes === true;
    const tok = new CsvTokenizer(this.columns.length, this.delim, this.quoting, wantHashes);
    const positions = new Float64Array(tok.capacity);
    const rowHashes = wantHashes ? new Uint32Array(tok.capacity * 2) : undefined;
    const batch: Batch = { n: 0, firstRow: 1, columns: tok.cols, positions, rowHashes };
    let rows = 0;
    let text = '';
    let textBase = this.dataStart;
    let textAscii = true;
    // Byte offsets of rows when the text is not ASCII: walk forward from the last known pair.
    let knownChar = 0;
    let knownByte = 0;
    const flush = (): void => {
      batch.n = tok.n;
      batch.firstRow = rows + 1;
      onBatch(batch);
      rows += tok.n;
      tok.n = 0;
    };
    try {
      for await (const chunk of textChunks(this.fh, this.dataStart, this.size)) {
        if (text.length === 0) {
          text = chunk.text;
          textBase = chunk.byteBase;
          textAscii = chunk.ascii;
        } else {
          text += chunk.text;
          textAscii &&= chunk.ascii;
        }
        knownChar = 0;
        knownByte = 0;
        // Where this chunk's bytes start in `text` (after text carried over from the last chunk).
        const bytesFrom = text.length - chunk.text.length;
        let pos = 0;
        for (;;) {
          const before = tok.n;
          const next = tok.fill(text, pos, chunk.final);
          for (let r = before; r < tok.n; r++) {
            const c = tok.starts[r];
            if (textAscii) positions[r] = textBase + c;
            else {
              knownByte += Buffer.byteLength(text.slice(knownChar, c));
              knownChar = c;
              positions[r] = textBase + knownByte;
            }
            if (rowHashes) {
              const quoted = tok.quotedLines![r];
              // An unquoted row is its own canonical text: hash its bytes in place when they are ASCII.
              if (quoted === null && chunk.ascii && c >= bytesFrom) hashBytes(chunk.bytes, c - bytesFrom, tok.ends[r] - bytesFrom);
              else {
                const line = Buffer.from(quoted ?? text.slice(c, tok.ends[r]), 'utf8');
                hashBytes(line, 0, line.length);
              }
              rowHashes[2 * r] = hashLo;
              rowHashes[2 * r + 1] = hashHi;
            }
          }
          pos = next;
          if (tok.n === tok.capacity) flush();
          else break;
        }
        if (pos > 0) {
          textBase += textAscii ? pos : Buffer.byteLength(text.slice(0, pos));
          text = text.slice(pos);
        }
        if (chunk.final && text.length > 0) {
          // fill with final=true consumes everything or throws; only blank text can remain.
          if (text.trim() !== '') throw new CsvProblem('the last row is incomplete', QUOTING_HINT);
        }
        if (text.length > MAX_RECORD_BYTES) {
          throw new CsvProblem(`a row runs over ${MAX_RECORD_BYTES >> 20} MiB: most likely a quote is never closed`, QUOTING_HINT);
        }
      }
      if (tok.n > 0) flush();
    } catch (e) {
      throw this.wrap(e, { row: rows + tok.n + 1 }, rows + tok.n);
    }
    if (rows > 0) this.avgRowBytes = Math.max(1, (this.size - this.dataStart) / rows);
  }

  async fetch(wanted: WantedRow[], onRow: (i: number, values: unknown[]) => void): Promise<void> {
    let window = Buffer.alloc(0);
    let wStart = 0;
    let wLen = 0;
    const minWindow = 1 << 18;
    for (let i = 0; i < wanted.length; i++) {
      const { position, row } = wanted[i];
      let span = Math.min(Math.max(256, Math.ceil(this.avgRowBytes * 4)), 1 << 16);
      for (;;) {
        const atEof = position + span >= this.size;
        const end = Math.min(position + span, this.size);
        if (position < wStart || end > wStart + wLen) {
          const len = Math.min(Math.max(minWindow, span), this.size - position);
          if (window.length < len) window = Buffer.allocUnsafe(len);
          const { bytesRead } = await this.fh.read(window, 0, len, position);
          wStart = position;
          wLen = bytesRead;
        }
        let slice = window.subarray(position - wStart, Math.min(end, wStart + wLen) - wStart);
        if (!atEof) {
          const cut = slice.lastIndexOf(LF);
          if (cut === -1) {
            span = this.grow(span, row);
            continue;
          }
          slice = slice.subarray(0, cut + 1);
        }
        let rec: ParsedRecord | null;
        try {
          rec = parseRecord(slice.toString('utf8'), 0, atEof, this.delim, this.quoting);
        } catch (e) {
          throw this.wrap(e, { row });
        }
        if (rec === null) {
          span = this.grow(span, row);
          continue;
        }
        if (rec.fields.length !== this.columns.length) {
          throw new TableError('CORRUPT', this.label, `${raggedMessage(rec.fields.length, this.columns.length)} on a second read: the file changed while being diffed`, { row }, 'run the diff again');
        }
        onRow(i, rec.fields);
        break;
      }
    }
  }

  private grow(span: number, row: number): number {
    if (span >= MAX_RECORD_BYTES) throw new TableError('CORRUPT', this.label, `a row runs over ${MAX_RECORD_BYTES >> 20} MiB`, { row }, QUOTING_HINT);
    return span * 2;
  }

  adopt(_columns: string[], rows: number): void {
    if (rows > 0) this.avgRowBytes = Math.max(1, (this.size - this.dataStart) / rows);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /**
   * wrap turns a parse problem into a TableError at `at`. A byte-level problem
   * (NUL, bad UTF-8) comes after every complete line before it has been
   * parsed, so it lies in row `rowsDone + 1`.
   */
  private wrap(e: unknown, at: { row?: number; where?: string }, rowsDone?: number): unknown {
    if (e instanceof CsvProblem) return new TableError('CORRUPT', this.label, e.message, at, e.hint);
    if (e instanceof TextProblem) {
      return new TableError('CORRUPT', this.label, e.message, { row: rowsDone === undefined ? undefined : rowsDone + 1, where: at.where, offset: e.offset }, e.hint);
    }
    return e;
  }
}

