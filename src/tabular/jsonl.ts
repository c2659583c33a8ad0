import { open, type FileHandle } from 'node:fs/promises';
import { TableError } from './errors.js';
import type { Batch, TableReader, WantedRow } from './reader.js';
import { MAX_RECORD_BYTES, TextProblem, textChunks } from './textfile.js';
import type { TableInput } from './types.js';

/**
 * JSON Lines (also NDJSON): one JSON object per line; blank lines are
 * skipped. The columns are the union of all keys, in order of first
 * appearance; a key missing from a line is a null cell there. A line that is
 * not valid JSON, or not an object, is an error naming the line.
 */

const BATCH_ROWS = 4096;
const LINE_HINT = 'each line of a JSON Lines file must hold one JSON object, e.g. {"id": 1, "label": "cat"}';

/** A run of 16 digits: the cheap test for an integer JSON.parse may round (beyond 2^53 needs 16). */
const LONG_DIGITS = /\d{16}/;
/** Marks a quoted long integer (a NUL escape); a line that holds one itself is left to JSON.parse. */
const MARK_ESCAPED = '\\u0000';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * quoteLongIntegers puts the integer literals of 16 digits or more of a JSON
 * text (outside strings) in quotes after a NUL, so that JSON.parse keeps their
 * digits; null when there are none (or the text holds a NUL escape already).
 */
function quoteLongIntegers(text: string): string | null {
  if (text.includes(MARK_ESCAPED)) return null;
  const len = text.length;
  let out = '';
  let last = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Skip the string, escapes included.
      for (i++; i < len; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      continue;
    }
    if (!((c >= 48 && c <= 57) || c === 45)) continue;
    let j = c === 45 ? i + 1 : i;
    const from = j;
    while (j < len && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    const next = text.charCodeAt(j);
    if (j - from >= 16 && next !== 46 && next !== 101 && next !== 69) {
      out += `${text.slice(last, i)}"${MARK_ESCAPED}${text.slice(i, j)}"`;
      last = j;
    } else {
      // The rest of a fraction or exponent is no integer of its own.
      while (j < len && /[0-9.eE+-]/.test(text[j])) j++;
    }
    i = j - 1;
  }
  return last === 0 ? null : out + text.slice(last);
}

/** exactIntegers turns the strings quoteLongIntegers made back into integers: a number when exact, else a bigint. */
function exactIntegers(v: unknown): unknown {
  if (typeof v === 'string') {
    if (v.charCodeAt(0) !== 0) return v;
    const b = BigInt(v.slice(1));
    return b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = exactIntegers(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) o[k] = exactIntegers(o[k]);
  return v;
}

export class JsonlReader implements TableReader {
  readonly format = 'jsonl' as const;
  readonly headerFirst = false;
  readonly untyped = false;
  readonly columns: string[] = [];
  private readonly index = new Map<string, number>();
  private avgRowBytes = 64;

  private constructor(
    readonly label: string,
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  static async open(input: TableInput): Promise<JsonlReader> {
    const fh = await open(input.file, 'r');
    try {
      const size = (await fh.stat()).size;
      return new JsonlReader(input.label, fh, size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  estimateRows(): number {
    return Math.ceil(this.size / 8) + 1;
  }

  private columnOf(name: string): number {
    let c = this.index.get(name);
    if (c === undefined) {
      c = this.columns.length;
      this.columns.push(name);
      this.index.set(name, c);
    }
    return c;
  }

  /** parseLine parses one line's text into an object, or throws TableError at `line`. */
  private parseLine(text: string, line: number | undefined, row: number): Record<string, unknown> {
    let obj: unknown;
    try {
      const quoted = LONG_DIGITS.test(text) ? quoteLongIntegers(text) : null;
      if (quoted === null) obj = JSON.parse(text);
      else {
        try {
          obj = exactIntegers(JSON.parse(quoted));
        } catch {
          // Report the error as the line has it.
          obj = JSON.parse(text);
        }
      }
    } catch (e) {
      throw new TableError('CORRUPT', this.label, `invalid JSON: ${(e as Error).message}`, { line, row }, LINE_HINT, e);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new TableError('CORRUPT', this.label, `holds ${Array.isArray(obj) ? 'an array' : obj === null ? 'null' : `a ${typeof obj}`}, not an object`, { line, row }, LINE_HINT);
    }
    return obj as Record<string, unknown>;
  }

  async scan(onBatch: (batch: Batch) => void): Promise<void> {
    const cols: unknown[][] = [];
    const positions = new Float64Array(BATCH_ROWS);
    const batch: Batch = { n: 0, firstRow: 1, columns: cols, positions };
    let n = 0;
    let rows = 0;
    let line = 0;
    const flush = (): void => {
      batch.n = n;
      batch.firstRow = rows + 1;
      onBatch(batch);
      rows += n;
      for (const col of cols) col.fill(undefined, 0, n);
      n = 0;
    };
    try {
      for await (const chunk of textChunks(this.fh, 0, this.size)) {
        const text = chunk.text;
        let knownChar = 0;
        let knownByte = 0;
        let pos = 0;
        if (chunk.byteBase === 0 && text.charCodeAt(0) === 0xfeff) pos = 1;
        while (pos < text.length) {
          let nl = text.indexOf('\n', pos);
          if (nl === -1) nl = text.length;
          line++;
          const lineText = text.slice(pos, nl);
          if (lineText.trim() === '') {
            pos = nl + 1;
            continue;
          }
          const obj = this.parseLine(lineText, line, rows + n + 1);
          for (const k in obj) {
            const c = this.columnOf(k);
            while (cols.length <= c) cols.push(new Array<unknown>(BATCH_ROWS).fill(undefined));
            cols[c][n] = obj[k];
          }
          if (chunk.ascii) positions[n] = chunk.byteBase + pos;
          else {
            knownByte += Buffer.byteLength(text.slice(knownChar, pos));
            knownChar = pos;
            positions[n] = chunk.byteBase + knownByte;
          }
          n++;
          if (n === BATCH_ROWS) flush();
          pos = nl + 1;
        }
      }
      if (n > 0) flush();
    } catch (e) {
      if (e instanceof TextProblem) throw new TableError('CORRUPT', this.label, e.message, { line: line + 1, offset: e.offset }, e.hint);
      throw e;
    }
    if (rows > 0) this.avgRowBytes = Math.max(1, this.size / rows);
  }

  async fetch(wanted: WantedRow[], onRow: (i: number, values: unknown[]) => void): Promise<void> {
    let window = Buffer.alloc(0);
    let wStart = 0;
    let wLen = 0;
    for (let i = 0; i < wanted.length; i++) {
      const { position, row } = wanted[i];
      let span = Math.min(Math.max(256, Math.ceil(this.avgRowBytes * 4)), 1 << 16);
      for (;;) {
        const end = Math.min(position + span, this.size);
        if (position < wStart || end > wStart + wLen) {
          const len = Math.min(Math.max(1 << 18, span), this.size - position);
          if (window.length < len) window = Buffer.allocUnsafe(len);
          const { bytesRead } = await this.fh.read(window, 0, len, position);
          wStart = position;
          wLen = bytesRead;
        }
        const slice = window.subarray(position - wStart, Math.min(end, wStart + wLen) - wStart);
        let nl = slice.indexOf(10);
        if (nl === -1) {
          if (end < this.size) {
            if (span >= MAX_RECORD_BYTES) throw new TableError('CORRUPT', this.label, 'a line runs over 64 MiB', { row }, LINE_HINT);
            span *= 2;
            continue;
          }
          nl = slice.length;
        }
        let text = slice.subarray(0, nl).toString('utf8');
        if (position === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        const obj = this.parseLine(text, undefined, row);
        const values = new Array<unknown>(this.columns.length).fill(undefined);
        for (const k in obj) {
          const c = this.index.get(k);
          if (c !== undefined) values[c] = obj[k];
        }
        onRow(i, values);
        break;
      }
    }
  }

  adopt(columns: string[], rows: number): void {
    for (const c of columns) this.columnOf(c);
    if (rows > 0) this.avgRowBytes = Math.max(1, this.size / rows);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
