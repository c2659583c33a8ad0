import type { DecodedArray, PageHeader, SchemaTree } from 'hyparquet';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { parquetHeader } from 'hyparquet/src/column.js';
import { convert } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';

/**
 * The page decoder of the Parquet scan for flat columns (a top-level field
 * that is neither nested nor repeated): one column chunk's pages turned into
 * the row group's values without hyparquet's list assembly and without a
 * value per row for dictionary-encoded data, which stays indexes into the
 * dictionary (a CodedColumn). Values are hyparquet's own (its plain and
 * level decoders, its type conversion), so a value reads the same either
 * way; only where they land differs.
 *
 * Nothing the file says is trusted: every page must lie inside the chunk,
 * no page may hold more rows than the row group has left, every dictionary
 * index must name an entry, and the chunk must hold exactly the group's
 * rows. Any breach is an Error, which the reader turns into a TableError.
 */

/**
 * CodedColumn is a column of a batch as dictionary indexes: row i's value is
 * `dict[codes[i]]`, or empty where `codes[i]` is negative. Every index is
 * below `dict.length`.
 */
export interface CodedColumn {
  dict: ArrayLike<unknown>;
  codes: Int32Array;
}

/** isFlatPath: the schema path of a top-level field that is a leaf, not repeated (at most one definition level, no repetition level). */
export function isFlatPath(schemaPath: SchemaTree[]): boolean {
  if (schemaPath.length !== 2) return false;
  const leaf = schemaPath[1];
  return leaf.children.length === 0 && !leaf.element.num_children && leaf.element.repetition_type !== 'REPEATED' && schemaPath[0].element.repetition_type !== 'REPEATED';
}

/** A page larger than this, once decompressed, is taken for damage (a writer's pages are a few MB). */
const MAX_PAGE = 1 << 30;

/**
 * The values of one page: rows [at, at + count). Plain: `values[k]` is the
 * k-th non-null value, and `defs` (when not empty) marks each row present
 * (1) or null (0). Coded: `values` is the dictionary the page's codes name.
 */
interface PageRun {
  at: number;
  count: number;
  coded: boolean;
  defs: ArrayLike<number>;
  values: DecodedArray;
}

/**
 * decodeFlatChunk decodes the column chunk `bytes` (a flat column, see
 * isFlatPath) of a row group of `rows` rows into a CodedColumn when every
 * data page is dictionary-encoded, else into the values by row (a typed
 * array when the column has no nulls and one page or one typed kind, else
 * an array with null for an empty cell).
 */
export function decodeFlatChunk(bytes: Uint8Array, rows: number, decoder: ColumnDecoder, reuse?: Int32Array): CodedColumn | ArrayLike<unknown> {
  // The indexes go to `reuse` when it is long enough (the caller's buffer from an earlier row group).
  const newCodes = (): Int32Array => (reuse !== undefined && reuse.length >= rows ? reuse.subarray(0, rows) : new Int32Array(rows)).fill(-1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { view, offset: 0 };
  const maxDef = decoder.element.repetition_type === 'REQUIRED' ? 0 : 1;
  let dict: DecodedArray | undefined;
  let codes: Int32Array | null = null;
  const runs: PageRun[] = [];
  let filled = 0;
  // Scratch for the dictionary path: a page's definition levels and its non-null rows' indexes.
  let levels = new Int32Array(0);
  let scratch = new Int32Array(0);
  while (filled < rows) {
    if (reader.offset >= bytes.length) throw new Error(`column ${decoder.element.name}: the chunk ends after ${filled} of ${rows} rows`);
    const header: PageHeader = parquetHeader(reader);
    const size = header.compressed_page_size;
    const usize = header.uncompressed_page_size;
    if (!Number.isSafeInteger(size) || size < 0 || size > bytes.length - reader.offset) throw new Error(`column ${decoder.element.name}: a page of ${size} bytes runs past the end of its chunk`);
    if (!Number.isSafeInteger(usize) || usize < 0 || usize > MAX_PAGE) throw new Error(`column ${decoder.element.name}: a page claims ${usize} bytes uncompressed`);
    const compressed = bytes.subarray(reader.offset, reader.offset + size);
    reader.offset += size;
    if (header.type === 'DICTIONARY_PAGE') {
      const diph = header.dictionary_page_header;
      if (!diph) throw new Error('parquet dictionary page header is undefined');
      const count = diph.num_values;
      if (!Number.isSafeInteger(count) || count < 0 || count > usize * 8 + 8) throw new Error(`column ${decoder.element.name}: a dictionary claims ${count} values in ${usize} bytes`);
      const page = decompressPage(compressed, usize, decoder.codec, decoder.compressors);
      const plain = readPlain({ view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 }, decoder.type, count, decoder.element.type_length);
      if (plain.length !== count) throw new Error(`column ${decoder.element.name}: the dictionary holds ${plain.length} of ${count} values`);
      dict = convert(plain, decoder);
      continue;
    }
    let num: number;
    let encoding: string;
    let page: { definitionLevels: number[] | undefined; dataPage: DecodedArray };
    const v1 = header.type === 'DATA_PAGE' ? header.data_page_header : undefined;
    const v2 = header.type === 'DATA_PAGE_V2' ? header.data_page_header_v2 : undefined;
    const pageEncoding = v1?.encoding ?? v2?.encoding;
    if (dict !== undefined && (pageEncoding === 'RLE_DICTIONARY' || pageEncoding === 'PLAIN_DICTIONARY')) {
      // Dictionary indexes (and definition levels) straight into `codes`: no array of values per page.
      num = checkCount((v1 ?? v2)!.num_values, rows - filled, decoder);
      if (codes === null) codes = newCodes();
      if (levels.length < num) levels = new Int32Array(Math.max(num, 1024));
      let data: Uint8Array;
      let pos = 0;
      let defsAt = 0;
      let defsEnd = 0;
      if (v1 !== undefined) {
        data = decompressPage(compressed, usize, decoder.codec, decoder.compressors);
        if (maxDef > 0) {
          if (data.length < 4) throw new Error(`column ${decoder.element.name}: a page ends inside its definition levels`);
          const len = data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24);
          if (len < 0 || len > data.length - 4) throw new Error(`column ${decoder.element.name}: a page's definition levels run past the page`);
          defsAt = 4;
          defsEnd = 4 + len;
          pos = defsEnd;
        }
      } else {
        const rep = v2!.repetition_levels_byte_length;
        const def = v2!.definition_levels_byte_length;
        if (!(Number.isSafeInteger(rep) && Number.isSafeInteger(def) && rep >= 0 && def >= 0 && rep + def <= size && rep + def <= usize)) throw new Error(`column ${decoder.element.name}: a page's levels run past the page`);
        if (maxDef > 0) {
          readHybrid(compressed, rep, rep + def, 1, levels, num, decoder);
        }
        const rest = compressed.subarray(rep + def);
        data = v2!.is_compressed !== false && usize - rep - def > 0 ? decompressPage(rest, usize - rep - def, decoder.codec, decoder.compressors) : rest;
      }
      if (v1 !== undefined && maxDef > 0) readHybrid(data, defsAt, defsEnd, 1, levels, num, decoder);
      let present = num;
      if (maxDef > 0) {
        present = 0;
        for (let j = 0; j < num; j++) {
          const d = levels[j];
          if (d === 1) present++;
          else if (d !== 0) throw new Error(`column ${decoder.element.name}: definition level ${d} is out of range`);
        }
      }
      if (v2 !== undefined && v2.num_nulls !== num - present) throw new Error(`column ${decoder.element.name}: a page of ${num} values claims ${v2.num_nulls} nulls where its levels say ${num - present}`);
      // Without nulls the indexes are the rows' codes: decoded in place, then checked.
      const into = present === num ? codes.subarray(filled, filled + num) : scratch.length >= present ? scratch : (scratch = new Int32Array(Math.max(present, 1024)));
      if (present > 0) {
        if (pos >= data.length) throw new Error(`column ${decoder.element.name}: a page ends before its dictionary indexes`);
        const width = data[pos++];
        if (width > 32) throw new Error(`column ${decoder.element.name}: dictionary indexes of ${width} bits`);
        if (width === 0) into.fill(0, 0, present);
        else readHybrid(data, pos, data.length, width, into, present, decoder);
      }
      const dsize = dict.length;
      if (present === num) {
        for (let j = 0; j < num; j++) {
          const code = into[j];
          if (!(code >= 0 && code < dsize)) throw new Error(`column ${decoder.element.name}: dictionary index ${code} is out of range (the dictionary has ${dsize} values)`);
        }
      } else {
        let k = 0;
        for (let j = 0; j < num; j++) {
          if (levels[j] === 0) continue;
          const code = into[k++];
          if (!(code >= 0 && code < dsize)) throw new Error(`column ${decoder.element.name}: dictionary index ${code} is out of range (the dictionary has ${dsize} values)`);
          codes[filled + j] = code;
        }
      }
      runs.push({ at: filled, count: num, coded: true, defs: [], values: dict });
      filled += num;
      continue;
    }
    if (header.type === 'DATA_PAGE') {
      const daph = header.data_page_header;
      if (!daph) throw new Error('parquet data page header is undefined');
      num = checkCount(daph.num_values, rows - filled, decoder);
      encoding = daph.encoding;
      page = readDataPage(decompressPage(compressed, usize, decoder.codec, decoder.compressors), daph, decoder);
    } else if (header.type === 'DATA_PAGE_V2') {
      const daph2 = header.data_page_header_v2;
      if (!daph2) throw new Error('parquet data page header v2 is undefined');
      num = checkCount(daph2.num_values, rows - filled, decoder);
      if (daph2.num_rows !== undefined && daph2.num_rows !== num) throw new Error(`column ${decoder.element.name}: a page of ${num} values claims ${daph2.num_rows} rows`);
      if (!Number.isSafeInteger(daph2.num_nulls) || daph2.num_nulls < 0 || daph2.num_nulls > num) throw new Error(`column ${decoder.element.name}: a page of ${num} values claims ${daph2.num_nulls} nulls`);
      const levels = daph2.definition_levels_byte_length + daph2.repetition_levels_byte_length;
      if (!(levels >= 0 && levels <= size && levels <= usize)) throw new Error(`column ${decoder.element.name}: a page's levels run past the page`);
      encoding = daph2.encoding;
      page = readDataPageV2(compressed, header, decoder);
    } else {
      throw new Error(`parquet unsupported page type: ${header.type}`);
    }
    const defs = maxDef === 0 ? [] : (page.definitionLevels ?? []);
    let present = num;
    if (defs.length > 0) {
      if (defs.length !== num) throw new Error(`column ${decoder.element.name}: a page has ${defs.length} definition levels for ${num} values`);
      present = 0;
      for (let j = 0; j < num; j++) {
        const d = defs[j];
        if (d === 1) present++;
        else if (d !== 0) throw new Error(`column ${decoder.element.name}: definition level ${d} is out of range`);
      }
    }
    const values = page.dataPage;
    if (values.length !== present) throw new Error(`column ${decoder.element.name}: a page holds ${values.length} values for ${present} non-null rows`);
    if (encoding.endsWith('_DICTIONARY')) {
      if (dict === undefined) throw new Error(`column ${decoder.element.name}: a dictionary-encoded page comes before any dictionary`);
      if (codes === null) codes = newCodes();
      const size = dict.length;
      let k = 0;
      for (let j = 0; j < num; j++) {
        if (defs.length > 0 && defs[j] === 0) continue;
        const code = values[k++] as number;
        if (!(code >= 0 && code < size)) throw new Error(`column ${decoder.element.name}: dictionary index ${code} is out of range (the dictionary has ${size} values)`);
        codes[filled + j] = code;
      }
      runs.push({ at: filled, count: num, coded: true, defs, values: dict });
    } else {
      runs.push({ at: filled, count: num, coded: false, defs, values: convert(values, decoder) });
    }
    filled += num;
  }
  // Every page names entries of one dictionary (a chunk may in principle hold a second dictionary page).
  if (codes !== null && runs.every((r) => r.coded && r.values === dict)) return { dict: dict!, codes };
  // Mixed pages (a writer gave up on its dictionary part-way), or plain only: values by row.
  if (codes === null && runs.every((r) => r.defs.length === 0)) {
    if (runs.length === 1) return runs[0].values;
    const typed = joinTyped(runs.map((r) => r.values), rows);
    if (typed !== null) return typed;
  }
  const out = new Array<unknown>(rows);
  for (const r of runs) {
    if (r.coded) {
      const d = r.values;
      for (let j = 0; j < r.count; j++) {
        const code = codes![r.at + j];
        out[r.at + j] = code < 0 ? null : d[code];
      }
      continue;
    }
    let k = 0;
    for (let j = 0; j < r.count; j++) out[r.at + j] = r.defs.length > 0 && r.defs[j] === 0 ? null : r.values[k++];
  }
  return out;
}

/** checkCount is a page's value count, checked against the rows the group has left (a flat column has one value or null per row). */
function checkCount(num: number, left: number, decoder: ColumnDecoder): number {
  if (!Number.isSafeInteger(num) || num < 0 || num > left) throw new Error(`column ${decoder.element.name}: a page claims ${num} values where ${left} rows are left`);
  return num;
}

type Typed = Float64Array | Float32Array | Int32Array | BigInt64Array;

/** joinTyped joins pages of one typed-array kind (numbers without nulls) into one array of `rows`, or gives null for other values. */
function joinTyped(parts: DecodedArray[], rows: number): Typed | null {
  const first = parts[0];
  const kind = first instanceof Float64Array ? Float64Array : first instanceof Int32Array ? Int32Array : first instanceof BigInt64Array ? BigInt64Array : first instanceof Float32Array ? Float32Array : null;
  if (kind === null || !parts.every((p) => p instanceof kind)) return null;
  const out = new kind(rows);
  let at = 0;
  for (const p of parts) {
    (out as Float64Array).set(p as Float64Array, at);
    at += p.length;
  }
  return out;
}

/**
 * readHybrid decodes `count` values of `width` bits (1 to 32) of Parquet's
 * RLE / bit-packed hybrid from b[from, end) into out[0, count). A run
 * past `count`, or bytes past `end`, is an Error.
 */
function readHybrid(b: Uint8Array, from: number, end: number, width: number, out: Int32Array, count: number, decoder: ColumnDecoder): void {
  const mask = width === 32 ? -1 : (1 << width) - 1;
  const bytes = (width + 7) >> 3;
  let pos = from;
  let seen = 0;
  while (seen < count) {
    // The run's header: a ULEB128 varint of at most 5 bytes.
    let header = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end || shift > 28) throw new Error(`column ${decoder.element.name}: a page ends inside its levels or indexes`);
      const x = b[pos++];
      header += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if ((x & 0x80) === 0) break;
    }
    if (header % 2 === 1) {
      // Bit-packed: groups of 8 values; the last group may be padding past `count`.
      const values = Math.floor(header / 2) * 8;
      const take = Math.min(values, count - seen);
      const need = Math.ceil((take * width) / 8);
      if (need > end - pos) throw new Error(`column ${decoder.element.name}: a page ends inside its levels or indexes`);
      let bit = pos * 8;
      let k = 0;
      if (width <= 25) {
        // A value of up to 25 bits lies within the 4 bytes from its first: one little-endian word, shifted and masked.
        const last = b.length - 4;
        for (; k < take; k++) {
          const at = bit >>> 3;
          if (at > last) break;
          out[seen + k] = ((b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> (bit & 7)) & mask;
          bit += width;
        }
      }
      for (; k < take; k++) {
        let at = bit >>> 3;
        const off = bit & 7;
        let v = b[at++] >>> off;
        let got = 8 - off;
        while (got < width) {
          v |= b[at++] << got;
          got += 8;
        }
        out[seen + k] = v & mask;
        bit += width;
      }
      seen += take;
      pos = Math.min(end, pos + (values / 8) * width);
    } else {
      const run = Math.floor(header / 2);
      if (run > count - seen) throw new Error(`column ${decoder.element.name}: a run of ${run} values overruns the page's ${count - seen} left`);
      if (bytes > end - pos) throw new Error(`column ${decoder.element.name}: a page ends inside its levels or indexes`);
      let v = 0;
      for (let k = 0; k < bytes; k++) v |= b[pos + k] << (8 * k);
      pos += bytes;
      // Not masked: a value wider than `width` is damage, for the caller to find out of range.
      out.fill(v, seen, seen + run);
      seen += run;
    }
  }
}
