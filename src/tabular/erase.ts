/**
 * Row erasure: remove the rows a rule matches from a CSV, TSV or JSON Lines
 * file, copying every other byte verbatim (header, kept rows, their quoting,
 * their line endings, blank lines). Only the bytes of removed rows (each with
 * its own line ending) disappear.
 *
 * The text is read as latin1 so that a character index is a byte offset:
 * delimiters, quotes, CR and LF are ASCII, and UTF-8 never uses ASCII bytes
 * inside a multi-byte character, so record boundaries are found exactly;
 * only the cells a rule looks at are decoded as UTF-8.
 */
import { writeSync } from 'node:fs';
import { CsvProblem, parseRecord } from './csv.js';
import type { TableFormat } from './types.js';

/**
 * RowRule says which rows to remove: a row goes when any `keys` entry
 * matches (its column holds one of the values), or when `where` holds.
 */
export interface RowRule {
  /** Column -> the values whose rows are removed. */
  keys: Map<string, Set<string>>;
  /** Optional predicate over a row's cells (by column name); ANDed with nothing, ORed with keys. */
  where?: RowPredicate;
}

/** RowPredicate is a parsed `--where` expression. */
export interface RowPredicate {
  /** Columns the predicate reads (each must exist in a table it applies to). */
  columns: string[];
  test(cell: (column: string) => string | undefined): boolean;
}

/** EraseOutcome is what erasing rows from one file did. */
export type EraseOutcome =
  | { ok: true; bytes: Buffer; removed: number; rows: number; removedRanges: [number, number][] }
  | { ok: false; problem: 'missing-column'; columns: string[] }
  | { ok: false; problem: 'unparsable'; message: string }
  /** A Parquet file that cannot be written back faithfully without the rows (see parquet-erase.ts). */
  | { ok: false; problem: 'unsupported'; message: string };

/**
 * ByteSource is a file read in ranges (a Buffer is one; the store's
 * `openBlob` gives one for a stored file): eraseRows holds one window of it
 * at a time, so a large file need not be in memory.
 */
export interface ByteSource {
  readonly length: number;
  /** read returns bytes `from` .. `to`. */
  read(from: number, to: number): Buffer;
}

const sourceOf = (data: Buffer | ByteSource): ByteSource => (Buffer.isBuffer(data) ? { length: data.length, read: (from, to) => data.subarray(from, to) } : data);

/** ERASABLE_FORMATS are the text formats whose rows eraseRows erases in place (Parquet: eraseParquetRows). */
export const ERASABLE_FORMATS: ReadonlySet<TableFormat> = new Set(['csv', 'tsv', 'jsonl']);

const LF = 10;
/** What a count-only run returns as bytes: the caller asked for counts, and must not keep the input alive. */
const EMPTY = Buffer.alloc(0);

/** ruleColumns lists every column a rule reads. */
export function ruleColumns(rule: RowRule): string[] {
  return [...new Set([...rule.keys.keys(), ...(rule.where?.columns ?? [])])];
}

/**
 * eraseRows removes the rows of `data` (a whole file in `format`, in
 * memory or read in windows from a ByteSource) that `rule` matches. A table lacking a column the rule uses is reported
 * (nothing is removed), and so is a table that does not parse. With
 * `countOnly`, the output bytes are not assembled (`bytes` is empty;
 * `writeKept` writes them from `removedRanges`). `window`: how many bytes
 * are decoded to text at a time (tests use tiny ones).
 */
export function eraseRows(data: Buffer | ByteSource, format: TableFormat, rule: RowRule, countOnly = false, window = WINDOW): EraseOutcome {
  const src = sourceOf(data);
  // The rewritten bytes, in memory (callers that stream ask for countOnly and use writeKept).
  const output = (ranges: [number, number][]) => (countOnly ? EMPTY : assemble(Buffer.isBuffer(data) ? data : src.read(0, src.length), ranges));
  try {
    return format === 'jsonl' ? eraseJsonl(src, rule, output, window) : eraseDelimited(src, format === 'tsv' ? 9 : 44, format === 'csv', rule, output, window);
  } catch (e) {
    if (e instanceof CsvProblem || e instanceof SyntaxError || e instanceof RangeError) return { ok: false, problem: 'unparsable', message: e.message };
    throw e;
  }
}

function utf8(latin: string): string {
  return Buffer.from(latin, 'latin1').toString('utf8');
}

function matches(rule: RowRule, cell: (column: string) => string | undefined): boolean {
  for (const [col, values] of rule.keys) {
    const v = cell(col);
    if (v !== undefined && values.has(v)) return true;
  }
  return rule.where ? rule.where.test(cell) : false;
}

function assemble(data: Buffer, ranges: [number, number][]): Buffer {
  if (ranges.length === 0) return data;
  const parts: Buffer[] = [];
  let pos = 0;
  for (const [s, e] of ranges) {
    if (s > pos) parts.push(data.subarray(pos, s));
    pos = e;
  }
  if (pos < data.length) parts.push(data.subarray(pos));
  return Buffer.concat(parts);
}

/**
 * WINDOW is how much of a file is decoded to text at a time (V8 strings stop
 * near 512 MiB). Each window read from a ByteSource is garbage once passed:
 * 8 MiB keeps a streamed erasure's peak memory low (measured on a 200 MB CSV:
 * ~180 MiB RSS at 8 MiB, ~300 MiB at 32 MiB) at the same CPU time.
 */
const WINDOW = 8 << 20;

function eraseDelimited(data: ByteSource, delim: number, quoting: boolean, rule: RowRule, output: (ranges: [number, number][]) => Buffer, window: number): EraseOutcome {
  // The file is read through a window of latin1 text (`text` holds bytes
  // base .. base + text.length); a record cut by the window's end is read
  // again from its start in the next window.
  let base = 0;
  let span = window;
  let text = data.read(0, Math.min(span, data.length)).toString('latin1');
  let final = text.length >= data.length;
  let pos = 0;
  let line = 1;
  // Where the next quote is in `text` (-1: none left); looked up again whenever the window moves.
  let nextQuote = -2;
  let freshWindow = true;
  const slide = () => {
    freshWindow = true;
    // One record longer than the window: a wider window.
    if (pos === 0) span *= 2;
    base += pos;
    pos = 0;
    text = data.read(base, Math.min(base + span, data.length)).toString('latin1');
    final = base + text.length >= data.length;
  };
  const where = (p: number) => `row at line ${line} (byte ${base + p})`;
  const parse = (): ReturnType<typeof parseRecord> => {
    try {
      return parseRecord(text, pos, final, delim, quoting);
    } catch (e) {
      if (e instanceof CsvProblem) throw new CsvProblem(`${where(pos)}: ${e.message}`, e.hint);
      throw e;
    }
  };
  /** blank says whether a blank line starts at pos (its length), 0 if not, -1 when the window ends too soon to tell. */
  const blank = (): number => {
    const c = text.charCodeAt(pos);
    if (c === LF) return 1;
    if (c !== 13) return 0;
    if (pos + 1 >= text.length) return final ? 0 : -1;
    return text.charCodeAt(pos + 1) === LF ? 2 : 0;
  };
  // Header: the first record (a UTF-8 byte order mark is not part of the first name).
  let header: string[] | undefined;
  while (base + pos < data.length && header === undefined) {
    if (pos >= text.length) {
      slide();
      continue;
    }
    const b = blank();
    if (b < 0) {
      slide();
      continue;
    }
    if (b > 0) {
      pos += b;
      line++;
      continue;
    }
    const rec = parse();
    if (!rec) {
      slide();
      continue;
    }
    header = rec.fields.map(utf8);
    if (header[0]?.startsWith('\ufeff')) header[0] = header[0].slice(1);
    line += countLf(text, pos, rec.end);
    pos = rec.end;
  }
  if (!header) return { ok: true, bytes: output([]), removed: 0, rows: 0, removedRanges: [] };
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    if (!index.has(h)) index.set(h, i);
  });
  const missing = ruleColumns(rule).filter((c) => !index.has(c));
  // A key column the table lacks: only when every key column is missing is the file unusable for the keys.
  const keyCols = [...rule.keys.keys()];
  const whereMissing = (rule.where?.columns ?? []).filter((c) => !index.has(c));
  if ((keyCols.length > 0 && keyCols.every((c) => !index.has(c))) || whereMissing.length > 0) {
    return { ok: false, problem: 'missing-column', columns: missing };
  }
  const ranges: [number, number][] = [];
  let rows = 0;
  // Fast path for key rules: a line without a quote is split by hand, and only
  // the key cells are compared, as latin1 text against the keys' UTF-8 bytes.
  const keyCells = rule.where ? undefined : [...rule.keys].filter(([c]) => index.has(c)).map(([c, vs]) => ({ at: index.get(c)!, values: new Set([...vs].map((v) => Buffer.from(v, 'utf8').toString('latin1'))) }));
  const width = header.length;
  const sep = delim === 9 ? '\t' : ',';
  while (base + pos < data.length) {
    if (pos >= text.length) {
      slide();
      continue;
    }
    const b = blank();
    if (b < 0) {
      slide();
      continue;
    }
    if (b > 0) {
      // Blank line: kept as it is.
      pos += b;
      line++;
      continue;
    }
    if (keyCells) {
      if (freshWindow) {
        freshWindow = false;
        nextQuote = quoting ? text.indexOf('"', pos) : -1;
      }
      const nl = text.indexOf('\n', pos);
      if (nl === -1 && !final) {
        slide();
        continue;
      }
      const lineEnd = nl === -1 ? text.length : nl;
      // The next quote, looked up again only once passed (one search per quote, not per line).
      if (quoting && nextQuote !== -1 && nextQuote < pos) nextQuote = text.indexOf('"', pos);
      const q = quoting ? nextQuote : -1;
      if (q === -1 || q > lineEnd) {
        const end = lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
        let field = 0;
        let start = pos;
        let hit = false;
        for (;;) {
          let cut = text.indexOf(sep, start);
          if (cut === -1 || cut > end) cut = end;
          for (const k of keyCells) if (k.at === field && !hit && k.values.has(text.slice(start, cut))) hit = true;
          field++;
          if (cut === end) break;
          start = cut + 1;
        }
        if (field !== width) throw new CsvProblem(`${where(pos)}: ${field} fields, the header has ${width}`, '');
        rows++;
        const recEnd = nl === -1 ? text.length : nl + 1;
        if (hit) ranges.push([base + pos, base + recEnd]);
        line++;
        pos = recEnd;
        continue;
      }
    }
    const rec = parse();
    if (!rec) {
      slide();
      continue;
    }
    if (rec.fields.length !== width) throw new CsvProblem(`${where(pos)}: ${rec.fields.length} fields, the header has ${width}`, '');
    rows++;
    const fields = rec.fields;
    if (matches(rule, (col) => {
      const i = index.get(col);
      return i === undefined ? undefined : utf8(fields[i]);
    })) ranges.push([base + pos, base + rec.end]);
    line += countLf(text, pos, rec.end);
    pos = rec.end;
  }
  return { ok: true, bytes: output(ranges), removed: ranges.length, rows, removedRanges: ranges };
}

/** writeKept writes `data` without the byte ranges `removed` (sorted, disjoint) to an open file, a piece of at most 4 MiB in memory at a time. */
export function writeKept(fd: number, data: Buffer | ByteSource, removed: readonly [number, number][]): void {
  const src = sourceOf(data);
  let pos = 0;
  const put = (from: number, to: number) => {
    for (let at = from; at < to; ) {
      const piece = src.read(at, Math.min(to, at + (4 << 20)));
      for (let off = 0; off < piece.length; ) off += writeSync(fd, piece, off, piece.length - off);
      at += piece.length;
    }
  };
  for (const [s, e] of removed) {
    put(pos, s);
    pos = e;
  }
  put(pos, data.length);
}

function countLf(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** jsonCell renders a JSON value the way a `--key` value is written: strings as they are, numbers, booleans and null as JSON text. */
function jsonCell(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  return JSON.stringify(v);
}

function eraseJsonl(data: ByteSource, rule: RowRule, output: (ranges: [number, number][]) => Buffer, window: number): EraseOutcome {
  const ranges: [number, number][] = [];
  const seen = new Set<string>();
  let rows = 0;
  let pos = 0;
  let line = 0;
  const cols = ruleColumns(rule);
  // `buf` holds bytes bufStart .. bufStart + buf.length; a line cut by its end is read again from its start.
  let span = window;
  let bufStart = 0;
  let buf = data.read(0, Math.min(span, data.length));
  while (pos < data.length) {
    line++;
    let nl = buf.indexOf(LF, pos - bufStart);
    while (nl === -1 && bufStart + buf.length < data.length) {
      // One line longer than the window: a wider window.
      if (pos === bufStart) span *= 2;
      bufStart = pos;
      buf = data.read(bufStart, Math.min(bufStart + span, data.length));
      nl = buf.indexOf(LF);
    }
    const end = nl === -1 ? data.length : bufStart + nl + 1;
    const text = buf.toString('utf8', pos - bufStart, end - bufStart).trim();
    if (text !== '') {
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        throw new SyntaxError(`line ${line}: ${(e as Error).message}`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new SyntaxError(`line ${line}: not a JSON object`);
      rows++;
      const o = obj as Record<string, unknown>;
      for (const c of cols) if (Object.hasOwn(o, c)) seen.add(c);
      if (matches(rule, (col) => (Object.hasOwn(o, col) ? jsonCell(o[col]) : undefined))) ranges.push([pos, end]);
    }
    pos = end;
  }
  const keyCols = [...rule.keys.keys()];
  const whereMissing = (rule.where?.columns ?? []).filter((c) => !seen.has(c));
  if (rows > 0 && ((keyCols.length > 0 && keyCols.every((c) => !seen.has(c))) || whereMissing.length > 0)) {
    return { ok: false, problem: 'missing-column', columns: cols.filter((c) => !seen.has(c)) };
  }
  return { ok: true, bytes: output(ranges), removed: ranges.length, rows, removedRanges: ranges };
}

/**
 * parseWhere parses the small `--where` language: comparisons
 * `COLUMN OP VALUE` (OP one of = != < <= > >=; VALUE bare or in double
 * quotes) joined by `and` / `or` (`and` binds tighter). `<`, `>` and friends
 * compare as numbers when both sides are numbers, else as text.
 */
export function parseWhere(expr: string): RowPredicate {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|!=|<=|>=|=|<|>|[^\s=<>!"]+)/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < expr.length) {
    re.lastIndex = at;
    m = re.exec(expr);
    if (!m) {
      if (expr.slice(at).trim() === '') break;
      throw new SyntaxError(`cannot read --where near ${JSON.stringify(expr.slice(at, at + 20))}`);
    }
    tokens.push(m[1]);
    at = re.lastIndex;
  }
  let i = 0;
  const columns = new Set<string>();
  type Node = (cell: (c: string) => string | undefined) => boolean;
  const unq = (t: string) => (t.startsWith('"') ? (JSON.parse(t) as string) : t);
  const cmp = (): Node => {
    const col = tokens[i++];
    const op = tokens[i++];
    const val = tokens[i++];
    if (col === undefined || op === undefined || val === undefined || !['=', '!=', '<', '<=', '>', '>='].includes(op)) {
      throw new SyntaxError(`--where expects COLUMN OP VALUE (OP: = != < <= > >=), joined by and/or: ${JSON.stringify(expr)}`);
    }
    const name = unq(col);
    const value = unq(val);
    columns.add(name);
    return (cell) => {
      const v = cell(name);
      if (v === undefined) return false;
      if (op === '=') return v === value;
      if (op === '!=') return v !== value;
      const a = Number(v);
      const b = Number(value);
      const numeric = v.trim() !== '' && value.trim() !== '' && Number.isFinite(a) && Number.isFinite(b);
      const d = numeric ? a - b : v < value ? -1 : v > value ? 1 : 0;
      return op === '<' ? d < 0 : op === '<=' ? d <= 0 : op === '>' ? d > 0 : d >= 0;
    };
  };
  const conj = (): Node => {
    let n = cmp();
    while (tokens[i]?.toLowerCase() === 'and') {
      i++;
      const l = n;
      const r = cmp();
      n = (c) => l(c) && r(c);
    }
    return n;
  };
  let root = conj();
  while (tokens[i]?.toLowerCase() === 'or') {
    i++;
    const l = root;
    const r = conj();
    root = (c) => l(c) || r(c);
  }
  if (i !== tokens.length) throw new SyntaxError(`unexpected ${JSON.stringify(tokens[i])} in --where ${JSON.stringify(expr)}`);
  return { columns: [...columns], test: root };
}
