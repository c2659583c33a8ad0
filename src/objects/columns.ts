/**
 * The column layout: a reversible reordering of delimited text (CSV, TSV,
 * flat JSON lines) that puts each column's values together before brotli
 * compresses them. General-purpose compressors at a speed a push can afford
 * see a CSV row as a short run of random digits between separators that
 * they must code again and again; column by column, the digits of one column
 * follow each other, a sequential ID column is one long near-repeat, and a
 * categorical column is a few strings. On the bench's CSV this takes brotli
 * from 2.6x to about 3.5x at the same speed (docs/formats.md, *Compressed packs*).
 *
 * The layout is a pure function of the bytes: any input, tabular or not,
 * quoted fields or ragged rows, round-trips exactly (quotes are not parsed;
 * a delimiter inside quotes only starts another field, which is put back
 * where it was). Layout of `toColumns(raw, d)`:
 *
 *   u8 delimiter d
 *   varint L                   lines: the '\n'-terminated lines of raw
 *   varint × L                 fields in each line (delimiters + 1)
 *   varint C                   columns: the most fields in a line
 *   varint × C                 bytes of each column
 *   columns 0..C-1             column c: field c of every line that has one,
 *                              each followed by '\n'
 *   tail                       the bytes after raw's last '\n', as they are
 *
 * Varints are LEB128 (7 bits a byte, low first). A reader trusts none of it:
 * `fromColumns` writes exactly the size it is told and refuses a layout that
 * would write more or less, or whose counts and lengths disagree.
 */

const NL = 10;

/** The delimiters tried by `tabularDelimiter`, most common first. */
const DELIMITERS = [0x2c /* , */, 0x09 /* \t */, 0x3b /* ; */, 0x7c /* | */];
/** Lines `tabularDelimiter` looks at: enough to see a table's shape, few enough to cost nothing next to compression. */
const SAMPLE_LINES = 64;
/** Fewest complete lines in the sample for a table (a chunk of a few long lines is left alone). */
const MIN_LINES = 8;
/** The sample ends within this many bytes: a chunk of very long lines costs the detector no more than a table's. */
const SAMPLE_BYTES = 64 << 10;

/**
 * columnsBound bounds the layout's size: `toColumns(raw).length` is at most
 * `columnsBound(raw.length)` (the fields and the tail take raw's bytes; a
 * line's count costs at most one byte per byte of its line, a column's
 * length at most one byte per byte of its column): the bound a decoder
 * gives brotli before a byte is inflated.
 */
export function columnsBound(size: number): number {
  return size * 3 + 16;
}

/**
 * tabularDelimiter returns the delimiter of `raw` when its first lines look
 * like a table (at least 8 complete lines in the sample of up to 64 lines
 * and 64 KiB, and in 80% of them the same number of fields, 2 or more),
 * else undefined. The first line is
 * skipped: a chunk of a large file usually starts inside a row.
 */
export function tabularDelimiter(raw: Uint8Array): number | undefined {
  let start = raw.indexOf(NL) + 1;
  if (start === 0) return undefined;
  const lines: [number, number][] = [];
  const limit = Math.min(raw.length, start + SAMPLE_BYTES);
  while (lines.length < SAMPLE_LINES) {
    const end = raw.indexOf(NL, start);
    if (end < 0 || end >= limit) break;
    lines.push([start, end]);
    start = end + 1;
  }
  if (lines.length < MIN_LINES) return undefined;
  for (const d of DELIMITERS) {
    const counts = new Map<number, number>();
    for (const [s, e] of lines) {
      let n = 0;
      for (let i = s; i < e; i++) if (raw[i] === d) n++;
      if (n > 0) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    for (const seen of counts.values()) if (seen >= lines.length * 0.8) return d;
  }
  return undefined;
}

/** toColumns lays `raw` out column by column (see the file comment); `delimiter` is one byte, not '\n'. */
export function toColumns(raw: Uint8Array, delimiter: number): Buffer {
  // Pass 1: fields per line and bytes per column, over the complete lines
  // (what follows the last '\n' is the tail, not a line).
  const lastNl = raw.lastIndexOf(NL);
  let lineCounts = new Uint32Array(1024);
  let lines = 0;
  let colBytes = new Uint32Array(64);
  let cols = 0;
  let col = 0;
  let start = 0;
  for (let i = 0; i <= lastNl; i++) {
    const b = raw[i];
    if (b !== delimiter && b !== NL) continue;
    if (col === colBytes.length) colBytes = grow(colBytes);
    colBytes[col] += i - start + 1;
    start = i + 1;
    if (b === NL) {
      if (lines === lineCounts.length) lineCounts = grow(lineCounts);
      lineCounts[lines++] = col + 1;
      if (col + 1 > cols) cols = col + 1;
      col = 0;
    } else col++;
  }
  return layout(raw, delimiter, lineCounts.subarray(0, lines), colBytes.subarray(0, cols), lastNl);
}

function grow(a: Uint32Array): Uint32Array<ArrayBuffer> {
  const grown = new Uint32Array(a.length * 2);
  grown.set(a);
  return grown;
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function putVarint(out: Buffer, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

/** layout writes the header, then pass 2 scatters each field to its column. */
function layout(raw: Uint8Array, delimiter: number, counts: Uint32Array, colBytes: Uint32Array, lastNl: number): Buffer {
  const tail = raw.length - (lastNl + 1);
  let header = 1 + varintLength(counts.length) + varintLength(colBytes.length);
  for (let i = 0; i < counts.length; i++) header += counts[i] < 0x80 ? 1 : varintLength(counts[i]);
  let body = 0;
  for (let c = 0; c < colBytes.length; c++) {
    header += varintLength(colBytes[c]);
    body += colBytes[c];
  }
  const out = Buffer.allocUnsafe(header + body + tail);
  out[0] = delimiter;
  let at = putVarint(out, 1, counts.length);
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c < 0x80) out[at++] = c;
    else at = putVarint(out, at, c);
  }
  at = putVarint(out, at, colBytes.length);
  for (let c = 0; c < colBytes.length; c++) at = putVarint(out, at, colBytes[c]);
  const pos = new Float64Array(colBytes.length + 1);
  for (let c = 0; c < colBytes.length; c++) {
    pos[c] = at;
    at += colBytes[c];
  }
  let col = 0;
  let p = pos[0];
  for (let i = 0; i <= lastNl; i++) {
    const b = raw[i];
    if (b === delimiter || b === NL) {
      out[p++] = NL;
      pos[col] = p;
      col = b === NL ? 0 : col + 1;
      p = pos[col];
    } else out[p++] = b;
  }
  out.set(raw.subarray(lastNl + 1), at);
  return out;
}

/** ColumnsError: the layout is not one `toColumns` writes for an object of the stated size. */
export class ColumnsError extends Error {}

/**
 * fromColumns rebuilds the `size` bytes that `toColumns` laid out as
 * `layout`. Throws ColumnsError for a layout that does not describe exactly
 * `size` bytes (counts that disagree with the columns, fields that run past
 * their column, bytes left over); it never writes past `size`.
 */
export function fromColumns(layout: Uint8Array, size: number): Buffer {
  const n = layout.length;
  let at = 1;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (at >= n) throw new ColumnsError('the layout ends inside its header');
      const b = layout[at++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
      if (mul > 2 ** 35) throw new ColumnsError('a varint is too long');
    }
  };
  if (n < 1) throw new ColumnsError('the layout is empty');
  const delimiter = layout[0];
  if (delimiter === NL) throw new ColumnsError('the delimiter is a newline');
  const lines = varint();
  if (lines > size) throw new ColumnsError(`it states ${lines} lines in ${size} bytes`);
  const counts = new Uint32Array(lines);
  for (let i = 0; i < lines; i++) {
    const c = varint();
    if (c < 1 || c > size) throw new ColumnsError(`line ${i} states ${c} fields`);
    counts[i] = c;
  }
  const cols = varint();
  if (cols > size) throw new ColumnsError(`it states ${cols} columns in ${size} bytes`);
  const pos = new Array<number>(cols);
  const end = new Array<number>(cols);
  for (let c = 0; c < cols; c++) {
    const len = varint();
    if (len > n) throw new ColumnsError(`column ${c} states ${len} bytes`);
    end[c] = len;
  }
  let p = at;
  for (let c = 0; c < cols; c++) {
    pos[c] = p;
    p += end[c];
    end[c] = p;
  }
  if (p > n) throw new ColumnsError('the columns run past the end of the layout');
  const tailStart = p;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < lines; i++) {
    const k = counts[i];
    if (k > cols) throw new ColumnsError(`line ${i} has more fields than there are columns`);
    for (let c = 0; c < k; c++) {
      let q = pos[c];
      const e = end[c];
      while (q < e && layout[q] !== NL) {
        if (o >= size) throw new ColumnsError(`it rebuilds more than ${size} bytes`);
        out[o++] = layout[q++];
      }
      if (q >= e) throw new ColumnsError(`column ${c} ends inside a field`);
      if (o >= size) throw new ColumnsError(`it rebuilds more than ${size} bytes`);
      out[o++] = c === k - 1 ? NL : delimiter;
      pos[c] = q + 1;
    }
  }
  for (let c = 0; c < cols; c++) if (pos[c] !== end[c]) throw new ColumnsError(`column ${c} has bytes no line uses`);
  const tail = n - tailStart;
  if (o + tail !== size) throw new ColumnsError(`it rebuilds ${o + tail} bytes, ${size} were stated`);
  out.set(layout.subarray(tailStart), o);
  return out;
}
