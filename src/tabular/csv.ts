import { open, type FileHandle } from 'node:fs/promises';
import { TableError } from './errors.js';
import type { Batch, CellBatch, ScanOptions, TableReader, WantedRow } from './reader.js';
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
 * CsvTokenizer splits rows of UTF-8 bytes into cells given as byte ranges, so
 * that no string is made per cell: a quoted cell is the range between its
 * quotes, and only a cell with doubled quotes inside gets its text decoded.
 * It accepts exactly what parseRecord accepts, and on a syntax error it
 * throws the CsvProblem parseRecord throws for that row.
 */
export class CsvTokenizer {
  /** Cell (r, c) is `bytes[starts[r * ncols + c], ends[…])`, or, when its start is negative, the text `escaped[-1 - start]`. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  escaped: string[] = [];
  /** Where each row starts in `bytes`, and where its text ends (before the line break). */
  readonly rowStarts: Int32Array;
  readonly rowEnds: Int32Array;
  /** 1 for a row with a quoted cell: its bytes are not its canonical text. */
  readonly quoted: Uint8Array;
  /** The bytes the ranges refer to: those of the last `fill`. */
  bytes: Buffer = Buffer.alloc(0);
  n = 0;
  /** Every byte that can end a cell or start a quote is at most this: one comparison skips the rest. */
  private readonly special: number;

  constructor(
    readonly ncols: number,
    readonly delim: number,
    readonly quoting: boolean,
    readonly capacity = BATCH_ROWS,
  ) {
    this.starts = new Int32Array(capacity * ncols);
    this.ends = new Int32Array(capacity * ncols);
    this.rowStarts = new Int32Array(capacity);
    this.rowEnds = new Int32Array(capacity);
    this.quoted = new Uint8Array(capacity);
    this.special = Math.max(delim, LF, quoting ? QUOTE : 0);
  }

  /** clear empties the batch (before `bytes` change). */
  clear(): void {
    this.n = 0;
    if (this.escaped.length > 0) this.escaped = [];
  }

  /**
   * fill takes rows of `bytes` from `pos` until the batch is full or no
   * complete row is left, and returns the position after the last row taken.
   * With `final` false a row must end with a line feed; with `final` true the
   * end of `bytes` ends the last row too. All rows of a batch must come from
   * the same `bytes`: `clear` before filling from others.
   */
  fill(bytes: Buffer, pos: number, final: boolean): number {
    this.bytes = bytes;
    const len = bytes.length;
    const { ncols, delim, starts, ends, special } = this;
    const quoting = this.quoting;
    rows: while (this.n < this.capacity && pos < len) {
      const r = this.n;
      const first = r * ncols;
      const stop = first + ncols;
      let at = first;
      let p = pos;
      let quotedRow = 0;
      let rowEnd: number;
      let next: number;
      for (;;) {
        if (quoting && bytes[p] === QUOTE) {
          quotedRow = 1;
          let q = p + 1;
          let e = bytes.indexOf(QUOTE, q);
          let text: string | null = null;
          for (;;) {
            if (e === -1) return final ? this.fail(bytes, pos, final) : pos;
            // A quote at the very end might be the first half of a doubled quote.
            if (e + 1 >= len && !final) return pos;
            if (bytes[e + 1] !== QUOTE) break;
            text = (text ?? '') + bytes.toString('utf8', q, e + 1);
            q = e + 2;
            e = bytes.indexOf(QUOTE, q);
          }
          if (at >= stop) return this.fail(bytes, pos, final);
          if (text === null) {
            starts[at] = q;
            ends[at] = e;
          } else {
            starts[at] = -1 - this.escaped.length;
            ends[at] = 0;
            this.escaped.push(text + bytes.toString('utf8', q, e));
          }
          at++;
          p = e + 1;
          if (p >= len) {
            rowEnd = p;
            next = p;
            break;
          }
          const c = bytes[p];
          if (c === delim) {
            p++;
            continue;
          }
          if (c === LF) {
            rowEnd = p;
            next = p + 1;
            break;
          }
          if (c === CR) {
            if (p + 1 >= len) {
              if (!final) return pos;
              rowEnd = p;
              next = p + 1;
              break;
            }
            if (bytes[p + 1] === LF) {
              rowEnd = p;
              next = p + 2;
              break;
            }
          }
          return this.fail(bytes, pos, final);
        }
        let e = p;
        let c = -1;
        for (; e < len; e++) {
          c = bytes[e];
          if (c > special) continue;
          if (c === delim || c === LF) break;
          if (quoting && c === QUOTE) return this.fail(bytes, pos, final);
        }
        if (e >= len) {
          if (!final) return pos;
          c = -1;
        }
        if (c === delim) {
          if (at >= stop) return this.fail(bytes, pos, final);
          starts[at] = p;
          ends[at] = e;
          at++;
          p = e + 1;
          continue;
        }
        const fe = e > p && bytes[e - 1] === CR ? e - 1 : e;
        next = e < len ? e + 1 : e;
        if (at === first && fe === p && ncols > 1) {
          // A blank line.
          pos = next;
          continue rows;
        }
        if (at >= stop) return this.fail(bytes, pos, final);
        starts[at] = p;
        ends[at] = fe;
        at++;
        rowEnd = fe;
        break;
      }
      if (at !== stop) {
        // A line holding only `""` is blank too.
        if (at === first + 1 && ncols > 1 && starts[first] === ends[first]) {
          pos = next;
          continue;
        }
        return this.fail(bytes, pos, final);
      }
      this.rowStarts[r] = pos;
      this.rowEnds[r] = rowEnd;
      this.quoted[r] = quotedRow;
      this.n = r + 1;
      pos = next;
    }
    return pos;
  }

  /** fail throws the problem of the row at `pos`, as parseRecord finds it. */
  private fail(bytes: Buffer, pos: number, final: boolean): never {
    const rec = parseRecord(bytes.toString('utf8', pos), 0, final, this.delim, this.quoting);
    if (rec === null) throw new CsvProblem('the last row is incomplete', QUOTING_HINT);
    throw new CsvProblem(raggedMessage(rec.fields.length, this.ncols), RAGGED_HINT);
  }

  /** cellText is the text of cell `i` (row-major index). */
  cellText(i: number): string {
    const s = this.starts[i];
    return s < 0 ? this.escaped[-1 - s] : this.bytes.toString('utf8', s, this.ends[i]);
  }

  /**
   * canonicalRow writes row `r`'s canonical text (see Batch.rowHashes) into
   * `out` (grown as needed) and returns it with the length used.
   */
  canonicalRow(r: number, out: Buffer): [Buffer, number] {
    const { ncols, delim, starts, ends, bytes } = this;
    const first = r * ncols;
    let need = ncols + 1;
    let sep = delim;
    for (let i = first; i < first + ncols; i++) {
      const s = starts[i];
      if (s < 0) {
        const t = this.escaped[-1 - s];
        need += Buffer.byteLength(t);
        if (t.includes(String.fromCharCode(delim))) sep = 0;
      } else {
        need += ends[i] - s;
        if (sep !== 0 && bytes.subarray(s, ends[i]).includes(delim)) sep = 0;
      }
    }
    if (out.length < need) out = Buffer.allocUnsafe(Math.max(need, out.length * 2));
    let o = 0;
    if (sep === 0) out[o++] = 0;
    for (let i = first; i < first + ncols; i++) {
      if (i > first) out[o++] = sep;
      const s = starts[i];
      if (s < 0) o += out.write(this.escaped[-1 - s], o, 'utf8');
      else o += bytes.copy(out, o, s, ends[i]);
    }
    return [out, o];
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
    const tok = new CsvTokenizer(this.columns.length, this.delim, this.quoting);
    const positions = new Float64Array(tok.capacity);
    const rowHashes = wantHashes ? new Uint32Array(tok.capacity * 2) : undefined;
    const cells: CellBatch = { bytes: tok.bytes, starts: tok.starts, ends: tok.ends, escaped: tok.escaped };
    const batch: Batch = { n: 0, firstRow: 1, columns: [], cells, positions, rowHashes };
    let canonical: Buffer = Buffer.alloc(256);
    let rows = 0;
    // Bytes of a record that runs past the end of a chunk (a quoted cell with line breaks), and their offset in the file.
    let carry: Buffer | null = null;
    let carryBase = 0;
    const flush = (base: number): void => {
      const n = tok.n;
      for (let r = 0; r < n; r++) {
        positions[r] = base + tok.rowStarts[r];
        if (rowHashes) {
          // An unquoted row is its own canonical text.
          if (tok.quoted[r] === 0) hashBytes(tok.bytes, tok.rowStarts[r], tok.rowEnds[r]);
          else {
            const [out, len] = tok.canonicalRow(r, canonical);
            canonical = out;
            hashBytes(out, 0, len);
          }
          rowHashes[2 * r] = hashLo;
          rowHashes[2 * r + 1] = hashHi;
        }
      }
      batch.n = n;
      batch.firstRow = rows + 1;
      cells.bytes = tok.bytes;
      cells.escaped = tok.escaped;
      onBatch(batch);
      rows += n;
      tok.clear();
    };
    try {
      for await (const chunk of textChunks(this.fh, this.dataStart, this.size, false)) {
        let bytes = chunk.bytes;
        let base = chunk.byteBase;
        if (carry !== null) {
          bytes = Buffer.concat([carry, bytes]);
          base = carryBase;
          carry = null;
        }
        let pos = 0;
        for (;;) {
          pos = tok.fill(bytes, pos, chunk.final);
          if (tok.n === tok.capacity) flush(base);
          else break;
        }
        if (tok.n > 0) flush(base);
        if (pos < bytes.length) {
          // fill with final=true consumes everything or throws.
          if (chunk.final) throw new CsvProblem('the last row is incomplete', QUOTING_HINT);
          if (bytes.length - pos > MAX_RECORD_BYTES) {
            throw new CsvProblem(`a row runs over ${MAX_RECORD_BYTES >> 20} MiB: most likely a quote is never closed`, QUOTING_HINT);
          }
          // Copied: the chunk's buffer is reused for the next read.
          carry = Buffer.from(bytes.subarray(pos));
          carryBase = base + pos;
        }
      }
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

