import * as fs from 'node:fs';
import * as path from 'node:path';
import { NUMBER_SEED_HI, NUMBER_SEED_LO, fmix32, hashBytes, hashHi, hashLo, mix32, saltOf, type Salt } from './hash.js';
import { RowIndexWriter, type IndexLayout, type IndexSnapshot } from './partitions.js';
import type { Batch, CellBatch, TableReader, WantedRow } from './reader.js';
import type { TableFormat, TableInput } from './types.js';
import {
  KINDS_NUMERIC,
  KIND_DATE,
  KIND_INTEGER,
  KIND_NUMBER,
  KIND_STRING,
  canonicalText,
  displayText,
  hashValue,
  isEmpty,
  isIsoDate,
  kindOfBytes,
  kindOfText,
  kindOfValue,
  numericValue,
  textNumber,
} from './values.js';

/**
 * One pass over one side of a table diff: column statistics, and for every row
 * a key hash and a value hash into the side's row index. Plain data in and
 * out, so that a pass can run on a worker thread.
 */

/** ScanConfig says what one pass over one side computes. */
export interface ScanConfig {
  format: TableFormat;
  input: TableInput;
  /** Key columns, or null to match rows by content. */
  key: string[] | null;
  /**
   * How a row's value hash is made. `line`: from the row's canonical text
   * (CSV/TSV whose two sides have the same header, so every column takes
   * part in the same order). `columns`: a sum of per-column terms, each
   * salted by a column name, over the columns in `hashed`.
   */
  rowHash: 'line' | 'columns';
  /**
   * With `columns`: pairs [this side's column, name whose salt it takes]
   * (a renamed column takes its new name); null hashes every column under
   * its own name.
   */
  hashed: [string, string][] | null;
  /** Whether to compute column statistics (off for a second pass that only rehashes). */
  stats: boolean;
  categoryLimit: number;
  layout: IndexLayout;
  /**
   * Also write every cell's hash (the low lane, NULL_LANE for an empty cell)
   * to a file under `layout.dir` (see CellFile), so that changed cells can
   * be counted without reading rows again. Only for readers whose columns
   * are complete before the scan, with `rowHash` `columns`.
   */
  cellHashes?: boolean;
}

/**
 * CellFile is where a scan wrote its cell hashes, as 32-bit words batch by
 * batch, each batch column-major: for batch g of rows [starts[g],
 * starts[g + 1]) (0-based row indexes; the last element is the row count),
 * the hash of row r and column c is at word `starts[g] * columns + slots[c]
 * * (starts[g + 1] - starts[g]) + (r - starts[g])`. Key columns have no
 * slot (-1): rows matched by key hold equal key values.
 */
export interface CellFile {
  file: string;
  /** Columns in the file. */
  columns: number;
  /** By column index: its place among the file's columns, or -1. */
  slots: number[];
  starts: number[];
}

/** ColumnSummary is the statistics of one column on one side, as plain data. */
export interface ColumnSummary {
  name: string;
  nonNull: number;
  /** Bit set of KIND_* seen among non-null values. */
  kinds: number;
  numCount: number;
  min: number;
  max: number;
  sum: number;
  /** Distinct non-null values with their counts, or null when there were more than the category limit. */
  categories: [string, number][] | null;
  /** Order-independent hash of the column's values (nulls included), for rename detection; 0/0 when not computed. */
  contentLo: number;
  contentHi: number;
  /**
   * Order-independent hash of the (key, value) pairs of the non-null values,
   * so that a rename can be required to hold row by row; 0/0 when not
   * computed (no key, a key column, or a column both sides have by name).
   */
  keyedLo: number;
  keyedHi: number;
}

export interface ScanResult {
  columns: string[];
  rows: number;
  summaries: ColumnSummary[] | null;
  index: IndexSnapshot;
  /** With `cellHashes`: the cell hash file. */
  cells?: CellFile;
}

const NULL_SALT: Salt = saltOf('\u0000null');
/** The hash of an empty cell in hashCells and in cell hash files. */
const NULL_LANE = 0x9e3779b9;
const KEYED_SEED = 0x243f6a88;

/** SeenString is what arrayStats remembers of a string: its kind (and number), hash, and category slot. */
interface SeenString {
  kind: number;
  x: number;
  lo: number;
  hi: number;
  slot: { n: number } | null;
}

/** Integers a bigint can be counted as a number within. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The high word of -0, and hashNumber's seeds for tag 1 (numbers), as int32. */
const NEGATIVE_ZERO_HI = 0x80000000 | 0;
const SEED_LO = (1 ^ NUMBER_SEED_LO) | 0;
const SEED_HI = (1 ^ NUMBER_SEED_HI) | 0;

/**
 * seenTable makes the table of strings a column has seen: an object without
 * a prototype (every string is an own key of its own), as looking a string
 * up there costs a fraction of a Map lookup in V8.
 */
function seenTable(): Record<string, SeenString> {
  return Object.create(null) as Record<string, SeenString>;
}

/** Distinct strings a column remembers at most. */
const SEEN_MAX = 1 << 14;

/** NumberColumn is a column of numbers as Parquet decodes it. */
type NumberColumn = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigInt64Array;

class ColumnAccumulator {
  nonNull = 0;
  kinds = 0;
  numCount = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  /** The rounding error of `sum` (Neumaier summation): the mean must not depend on the row order. */
  comp = 0;
  /** Distinct values among the category maps below, counted once across maps. */
  distinct = 0;
  /** Counts in boxes, so that counting a value already seen is one lookup; null once past the category limit. */
  categories: Map<string, { n: number }> | null = new Map();
  /** Strings seen in this column, for arrayStats; null once they stop repeating. */
  seen: Record<string, SeenString> | null = seenTable();
  /** Entries in `seen`. */
  seenCount = 0;
  misses = 0;
  /** The same for numbers (typed arrays, JSON numbers, Parquet integers), by value: shown as String(value). */
  numberCategories = new Map<number, { n: number }>();
  /** The same for cells given as bytes (CSV, TSV). */
  byteCategories = new ByteCategories();
  contentLo = 0;
  contentHi = 0;
  keyedLo = 0;
  keyedHi = 0;
  constructor(readonly name: string) {}

  /** addNumber adds a finite value to the numeric summary. */
  addNumber(x: number): void {
    this.numCount++;
    const t = this.sum + x;
    this.comp += Math.abs(this.sum) >= Math.abs(x) ? this.sum - t + x : x - t + this.sum;
    this.sum = t;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  /** addKeyed adds the value hash (h1, h2) of a row whose key hash is (k1, k2) to the keyed content hash. */
  addKeyed(h1: number, h2: number, k1: number, k2: number): void {
    const p1 = fmix32(h1 ^ fmix32(k1 ^ KEYED_SEED));
    this.keyedLo = (this.keyedLo + p1) >>> 0;
    this.keyedHi = (this.keyedHi + fmix32(h2 ^ fmix32(k2 ^ KEYED_SEED) ^ p1)) >>> 0;
  }

  /** countString counts a new entry `s` of `categories` and tells whether the column is still a category. */
  countString(s: string, limit: number): boolean {
    // A number shown as `s` already counted it (it reads back as itself).
    const x = Number(s);
    if (!(s !== '' && this.numberCategories.has(x) && String(x) === s)) this.distinct++;
    return this.distinct <= limit;
  }

  /** countNumber counts a new entry `x` of `numberCategories` and tells whether the column is still a category. */
  countNumber(x: number, limit: number): boolean {
    if (!this.categories!.has(String(x))) this.distinct++;
    return this.distinct <= limit;
  }

  /** dropCategories: more distinct values than the category limit. */
  dropCategories(): void {
    this.categories = null;
    this.numberCategories = new Map();
    this.byteCategories = new ByteCategories();
  }

  private categoryEntries(): [string, number][] {
    const all = new Map<string, number>();
    for (const [v, c] of this.categories!) all.set(v, c.n);
    for (const [v, c] of this.numberCategories) all.set(String(v), (all.get(String(v)) ?? 0) + c.n);
    for (const [v, n] of this.byteCategories.entries()) all.set(v, (all.get(v) ?? 0) + n);
    return [...all];
  }

  summary(rows: number): ColumnSummary {
    // Nulls take part in the content hash too, so that a rename needs equal row counts.
    const nulls = rows - this.nonNull;
    return {
      name: this.name,
      nonNull: this.nonNull,
      kinds: this.kinds,
      numCount: this.numCount,
      min: this.min,
      max: this.max,
      // Infinity - Infinity in the compensation would turn an overflowed sum into NaN.
      sum: Number.isFinite(this.sum + this.comp) ? this.sum + this.comp : this.sum,
      categories: this.categories ? this.categoryEntries() : null,
      contentLo: (this.contentLo + Math.imul(NULL_SALT.lo, nulls)) >>> 0,
      contentHi: (this.contentHi + Math.imul(NULL_SALT.hi, nulls)) >>> 0,
      keyedLo: this.keyedLo,
      keyedHi: this.keyedHi,
    };
  }
}

/**
 * ByteCategories counts the distinct values of a column given as bytes. It is
 * meant for the few values of a category: a lookup compares with each value.
 */
class ByteCategories {
  private readonly values: Buffer[] = [];
  private readonly counts: number[] = [];
  /** The value last found for a cheap fingerprint (length, first and last byte), tried first; -1 for none. */
  private readonly recent = new Int32Array(256).fill(-1);

  /** add counts the value b[s, e) and returns the number of distinct values. */
  add(b: Uint8Array, s: number, e: number): number {
    const len = e - s;
    const values = this.values;
    const f = (len * 31 + b[s] * 7 + b[e - 1]) & 255;
    const r = this.recent[f];
    if (r >= 0 && same(values[r], b, s, len)) {
      this.counts[r]++;
      return values.length;
    }
    for (let k = 0; k < values.length; k++) {
      if (same(values[k], b, s, len)) {
        this.counts[k]++;
        this.recent[f] = k;
        return values.length;
      }
    }
    // A copy: the batch's bytes are reused.
    this.recent[f] = values.length;
    values.push(Buffer.from(b.subarray(s, e)));
    this.counts.push(1);
    return values.length;
  }

  entries(): [string, number][] {
    return this.values.map((v, k): [string, number] => [v.toString('utf8'), this.counts[k]]);
  }
}

/** same: `v` holds the `len` bytes at b[s]. */
function same(v: Buffer, b: Uint8Array, s: number, len: number): boolean {
  if (v.length !== len) return false;
  for (let j = 0; j < len; j++) if (v[j] !== b[s + j]) return false;
  return true;
}

/** SideScanner consumes the batches of one reader. */
export class SideScanner {
  private readonly acc: ColumnAccumulator[] = [];
  /** Per column index: -1 when not in the value hash, else its salt. */
  private saltLo: number[] = [];
  private saltHi: number[] = [];
  private inHash: boolean[] = [];
  private keyPos: number[] = [];
  /** Per column index: whether it gets a keyed content hash (see ColumnSummary.keyedLo). */
  private keyedHash: boolean[] = [];
  /** Column indexes, key columns first: a row's key hash is complete before its other values are paired with it. */
  private order: number[] = [];
  private keySalts: Salt[];
  private known = 0;
  private readonly hashedMap: Map<string, string> | null;
  private rLo = new Uint32Array(0);
  /** Scratch for numberColumn. */
  private numbers = new Float64Array(0);
  private rHi = new Uint32Array(0);
  private kLo = new Uint32Array(0);
  private kHi = new Uint32Array(0);
  readonly index: RowIndexWriter;
  rows = 0;
  /** Whether each value needs its own hash (for the row hash, the key, or a content hash). */
  private readonly perColumn: boolean;
  /** With cellHashes: the batch's cell hashes, column-major (column c from cellSlots[c] * cellStride), and the file they go to; else null. */
  private cells: Uint32Array | null = null;
  /** The batch's row count, while one is scanned. */
  private cellStride = 0;
  /** The reader's column count, the file's column count, and each column's place in the file (see CellFile). */
  private cellAll = 0;
  private cellColumns = 0;
  private cellSlots: number[] = [];
  private cellStarts: number[] = [];
  private cellFd = -1;
  private cellFile = '';

  constructor(
    private readonly reader: TableReader,
    private readonly config: ScanConfig,
  ) {
    this.hashedMap = config.hashed ? new Map(config.hashed) : null;
    this.keySalts = (config.key ?? []).map((_, i) => saltOf(`\u0000key\u0000${i}`));
    this.index = new RowIndexWriter(config.layout);
    this.perColumn = config.rowHash === 'columns';
    if (config.cellHashes && this.perColumn && reader.headerFirst) {
      fs.mkdirSync(config.layout.dir, { recursive: true });
      this.cellFile = path.join(config.layout.dir, `${config.layout.tag}.cells`);
      this.cellFd = fs.openSync(this.cellFile, 'w');
      this.cellAll = reader.columns.length;
      for (const name of reader.columns) this.cellSlots.push(config.key?.includes(name) ? -1 : this.cellColumns++);
      this.cells = new Uint32Array(0);
    }
  }

  /** close releases the cell hash file's handle (the file stays). */
  close(): void {
    if (this.cellFd >= 0) fs.closeSync(this.cellFd);
    this.cellFd = -1;
  }

  /** learnColumns extends the per-column tables to columns the reader has found since the last batch. */
  private learnColumns(): void {
    const cols = this.reader.columns;
    const key = this.config.key;
    for (let c = this.known; c < cols.length; c++) {
      const name = cols[c];
      this.acc.push(new ColumnAccumulator(name));
      const target = this.hashedMap ? this.hashedMap.get(name) : name;
      const salt = target === undefined ? null : saltOf(target);
      const kp = key ? key.indexOf(name) : -1;
      // Rows matched by key hold equal key values: key columns add nothing to the value hash, nor to the cell hashes.
      this.inHash.push(salt !== null && kp < 0);
      this.saltLo.push(salt ? salt.lo : 0);
      this.saltHi.push(salt ? salt.hi : 0);
      this.keyPos.push(kp);
      // Only a column that the other side may lack by name can be a rename.
      this.keyedHash.push(key !== null && kp < 0 && this.config.stats && this.perColumn && (this.hashedMap === null || target === undefined));
    }
    this.known = cols.length;
    this.order = [];
    for (let c = 0; c < this.known; c++) if (this.keyPos[c] >= 0) this.order.push(c);
    for (let c = 0; c < this.known; c++) if (this.keyPos[c] < 0) this.order.push(c);
  }

  onBatch(b: Batch): void {
    if (this.reader.columns.length !== this.known) this.learnColumns();
    const n = b.n;
    if (this.rLo.length < n) {
      this.rLo = new Uint32Array(n);
      this.rHi = new Uint32Array(n);
      this.kLo = new Uint32Array(n);
      this.kHi = new Uint32Array(n);
    }
    const { rLo, rHi, kLo, kHi } = this;
    rLo.fill(0, 0, n);
    rHi.fill(0, 0, n);
    kLo.fill(0, 0, n);
    kHi.fill(0, 0, n);
    let cells = this.cells;
    if (cells !== null) {
      if (this.reader.columns.length !== this.cellAll) throw new Error('scan: cell hashes need the columns before the scan');
      if (b.firstRow - 1 !== this.rows) throw new Error('scan: cell hashes need the batches in row order');
      const words = n * this.cellColumns;
      if (cells.length < words) this.cells = cells = new Uint32Array(words);
      cells.fill(NULL_LANE, 0, words);
      this.cellStride = n;
    }
    if (b.cells) this.cellStats(b.cells, n);
    else this.valueStats(b, n);
    if (cells !== null) {
      const bytes = n * this.cellColumns * 4;
      let off = 0;
      const at = this.rows * this.cellColumns * 4;
      while (off < bytes) off += fs.writeSync(this.cellFd, cells, off, bytes - off, at + off);
      this.cellStarts.push(this.rows);
    }
    if (!this.perColumn) {
      const hashes = b.rowHashes;
      if (!hashes) throw new Error('scan: line hashing needs the reader to supply row hashes');
      for (let i = 0; i < n; i++) {
        rLo[i] = hashes[2 * i];
        rHi[i] = hashes[2 * i + 1];
      }
    }
    const keyed = this.config.key !== null;
    const positions = b.positions;
    const first = b.firstRow;
    for (let i = 0; i < n; i++) {
      if (keyed) this.index.add(kLo[i], kHi[i], rLo[i], rHi[i], first + i, positions[i]);
      else this.index.add(rLo[i], rHi[i], rLo[i], rHi[i], first + i, positions[i]);
    }
    this.rows += n;
  }

  /** valueStats updates the statistics and per-column hashes from values in `columns`. */
  private valueStats(b: Batch, n: number): void {
    for (const c of this.order) {
      const col = b.columns[c];
      if (col !== undefined && ArrayBuffer.isView(col) && !(col instanceof BigUint64Array)) this.numberColumn(c, col as NumberColumn, n);
      else if (col === undefined) for (let i = 0; i < n; i++) this.oneValue(c, undefined, i);
      else if (n > 0 && typeof col[0] === 'number' && this.copyNumbers(col, n)) this.numberStats(c, this.numbers, n, false);
      else this.arrayStats(c, col, n);
    }
  }

  /** copyNumbers copies `col` into the `numbers` scratch when all its values are numbers (as hyparquet gives some INT32 columns), and tells whether they were. */
  private copyNumbers(col: ArrayLike<unknown>, n: number): boolean {
    if (this.numbers.length < n) this.numbers = new Float64Array(n);
    const xs = this.numbers;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (typeof v !== 'number') return false;
      xs[i] = v;
    }
    return true;
  }

  /**
   * arrayStats adds a column of plain values. A string seen before (Parquet
   * dictionary values, repeated JSON values) reuses its kind, hash and
   * category slot from a per-column cache instead of computing them again;
   * a column whose strings rarely repeat stops caching.
   */
  private arrayStats(c: number, col: ArrayLike<unknown>, n: number): void {
    const acc = this.acc[c];
    let cache = acc.seen;
    if (cache === null) {
      for (let i = 0; i < n; i++) this.oneValue(c, col[i], i);
      return;
    }
    const { rLo, rHi, kLo, kHi } = this;
    const kp = this.keyPos[c];
    const salted = this.perColumn && this.inHash[c];
    const hashAll = this.perColumn || kp >= 0;
    const sLo = this.saltLo[c];
    const sHi = this.saltHi[c];
    const kSalt = kp >= 0 ? this.keySalts[kp] : NULL_SALT;
    const stats = this.config.stats;
    const keyed = this.keyedHash[c];
    const untyped = this.reader.untyped;
    const cells = kp < 0 ? this.cells : null;
    const cellAt = this.cellSlots[c] * this.cellStride;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (typeof v !== 'string' || v === '') {
        this.oneValue(c, v, i);
        continue;
      }
      let seen = cache[v];
      if (seen === undefined) {
        acc.misses++;
        const kind = untyped ? kindOfText(v) : isIsoDate(v) ? KIND_DATE : KIND_STRING;
        const x = (kind & KINDS_NUMERIC) !== 0 ? textNumber : 0;
        hashValue(v);
        seen = { kind, x, lo: hashLo, hi: hashHi, slot: null };
        if (acc.seenCount < SEEN_MAX) {
          cache[v] = seen;
          acc.seenCount++;
        } else if (acc.misses > SEEN_MAX * 4) {
          // Mostly new strings: lookups cost more than they save.
          acc.seen = cache = null;
          for (let j = i; j < n; j++) this.oneValue(c, col[j], j);
          return;
        }
      }
      if (stats) {
        acc.nonNull++;
        const kind = seen.kind;
        acc.kinds |= kind;
        if ((kind & KINDS_NUMERIC) !== 0 && (acc.kinds & ~KINDS_NUMERIC) === 0 && Number.isFinite(seen.x)) acc.addNumber(seen.x);
        const cats = acc.categories;
        if (cats !== null) {
          let slot = seen.slot;
          if (slot === null) {
            slot = cats.get(v) ?? null;
            if (slot === null) {
              slot = { n: 0 };
              cats.set(v, slot);
              if (!acc.countString(v, this.config.categoryLimit)) acc.dropCategories();
            }
            seen.slot = slot;
          }
          slot.n++;
        }
      }
      if (!hashAll) continue;
      const h1 = seen.lo;
      const h2 = seen.hi;
      if (cells !== null) cells[cellAt + i] = h1;
      if (stats) {
        acc.contentLo = (acc.contentLo + h1) >>> 0;
        acc.contentHi = (acc.contentHi + h2) >>> 0;
      }
      if (keyed) acc.addKeyed(h1, h2, kLo[i], kHi[i]);
      if (salted) {
        rLo[i] = (rLo[i] + fmix32(h1 ^ sLo)) >>> 0;
        rHi[i] = (rHi[i] + fmix32(h2 ^ sHi)) >>> 0;
      }
      if (kp >= 0) {
        kLo[i] = (kLo[i] + fmix32(h1 ^ kSalt.lo)) >>> 0;
        kHi[i] = (kHi[i] + fmix32(h2 ^ kSalt.hi)) >>> 0;
      }
    }
  }

  /** oneValue adds value `v` of column `c` in row `i` of the batch to the statistics and hashes. */
  private oneValue(c: number, v: unknown, i: number): void {
    const kp = this.keyPos[c];
    if (v === undefined || v === null || v === '') {
      if (kp >= 0) {
        const kSalt = this.keySalts[kp];
        this.kLo[i] = (this.kLo[i] + fmix32(NULL_SALT.lo ^ kSalt.lo)) >>> 0;
        this.kHi[i] = (this.kHi[i] + fmix32(NULL_SALT.hi ^ kSalt.hi)) >>> 0;
      }
      return;
    }
    const acc = this.acc[c];
    const stats = this.config.stats;
    if (stats) {
      acc.nonNull++;
      const kind = typeof v === 'string' ? (this.reader.untyped ? kindOfText(v) : isIsoDate(v) ? 16 : KIND_STRING) : kindOfValue(v);
      acc.kinds |= kind;
      if ((kind & KINDS_NUMERIC) !== 0 && (acc.kinds & ~KINDS_NUMERIC) === 0) {
        const x = typeof v === 'string' ? textNumber : numericValue(v);
        if (Number.isFinite(x)) acc.addNumber(x);
      }
      const cats = acc.categories;
      const limit = this.config.categoryLimit;
      if (cats !== null) {
        // Numbers count where numberStats counts them, so that a value is one category entry whichever path it took.
        const x = typeof v === 'number' ? v : typeof v === 'bigint' && v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : null;
        if (x !== null) {
          const slot = acc.numberCategories.get(x);
          if (slot !== undefined) slot.n++;
          else {
            acc.numberCategories.set(x, { n: 1 });
            if (!acc.countNumber(x, limit)) acc.dropCategories();
          }
        } else {
          const shown = typeof v === 'string' ? v : displayText(canonicalText(v));
          const slot = cats.get(shown);
          if (slot !== undefined) slot.n++;
          else {
            cats.set(shown, { n: 1 });
            if (!acc.countString(shown, limit)) acc.dropCategories();
          }
        }
      }
    }
    if (!this.perColumn && kp < 0) return;
    hashValue(v);
    const h1 = hashLo;
    const h2 = hashHi;
    if (this.cells !== null && kp < 0) this.cells[this.cellSlots[c] * this.cellStride + i] = h1;
    if (stats) {
      acc.contentLo = (acc.contentLo + h1) >>> 0;
      acc.contentHi = (acc.contentHi + h2) >>> 0;
    }
    if (this.keyedHash[c]) acc.addKeyed(h1, h2, this.kLo[i], this.kHi[i]);
    if (this.perColumn && this.inHash[c]) {
      this.rLo[i] = (this.rLo[i] + fmix32(h1 ^ this.saltLo[c])) >>> 0;
      this.rHi[i] = (this.rHi[i] + fmix32(h2 ^ this.saltHi[c])) >>> 0;
    }
    if (kp >= 0) {
      const kSalt = this.keySalts[kp];
      this.kLo[i] = (this.kLo[i] + fmix32(h1 ^ kSalt.lo)) >>> 0;
      this.kHi[i] = (this.kHi[i] + fmix32(h2 ^ kSalt.hi)) >>> 0;
    }
  }

  /**
   * numberColumn hands a typed-array column (Parquet's required numeric
   * columns) to numberStats as float64 values: INT64 values are read from
   * their two 32-bit halves, with no bigint made. A batch holding an INT64
   * beyond ±2^53 (which keeps its text as a bigint) takes the general path.
   */
  private numberColumn(c: number, col: NumberColumn, n: number): void {
    if (col instanceof Float64Array) return this.numberStats(c, col, n, false);
    if (this.numbers.length < n) this.numbers = new Float64Array(n);
    const xs = this.numbers;
    if (!(col instanceof BigInt64Array)) {
      xs.set(col.subarray(0, n));
      return this.numberStats(c, xs, n, !(col instanceof Float32Array));
    }
    const halves = new Int32Array(col.buffer, col.byteOffset, n * 2);
    for (let i = 0; i < n; i++) {
      const hi = halves[2 * i + 1];
      if (hi < -0x1fffff || hi > 0x1fffff) {
        for (let j = 0; j < n; j++) this.oneValue(c, col[j], j);
        return;
      }
      xs[i] = hi * 0x1_0000_0000 + (halves[2 * i] >>> 0);
    }
    this.numberStats(c, xs, n, true);
  }

  /** numberStats is valueStats for the numbers `xs` of column `c`, with the same results; `integral` when all are integers. */
  private numberStats(c: number, xs: Float64Array, n: number, integral: boolean): void {
    const acc = this.acc[c];
    if (this.config.stats) {
      const limit = this.config.categoryLimit;
      let cats = acc.categories === null ? null : acc.numberCategories;
      let nonNull = acc.nonNull;
      let kinds = acc.kinds;
      let numCount = acc.numCount;
      let sum = acc.sum;
      let comp = acc.comp;
      let min = acc.min;
      let max = acc.max;
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        nonNull++;
        kinds |= integral || Number.isInteger(x) ? KIND_INTEGER : KIND_NUMBER;
        if ((kinds & ~KINDS_NUMERIC) === 0 && Number.isFinite(x)) {
          numCount++;
          // Neumaier summation, as in ColumnAccumulator.addNumber.
          const t = sum + x;
          comp += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
          sum = t;
          if (x < min) min = x;
          if (x > max) max = x;
        }
        if (cats !== null) {
          const slot = cats.get(x);
          if (slot !== undefined) slot.n++;
          else {
            cats.set(x, { n: 1 });
            if (!acc.countNumber(x, limit)) {
              cats = null;
              acc.dropCategories();
            }
          }
        }
      }
      acc.nonNull = nonNull;
      acc.kinds = kinds;
      acc.numCount = numCount;
      acc.sum = sum;
      acc.comp = comp;
      acc.min = min;
      acc.max = max;
    }
    const kp = this.keyPos[c];
    const salted = this.perColumn && this.inHash[c];
    // As in arrayStats, every column takes part in the content hash when values are hashed per column (a one-sided column may be a rename).
    if (!this.perColumn && kp < 0) return;
    const keyed = this.keyedHash[c];
    // hashNumber(x, 1) computed in place from the bits of `xs`, in int32 arithmetic (the same bits as hashValue gives).
    const { rLo, rHi, kLo, kHi } = this;
    const sLo = this.saltLo[c] | 0;
    const sHi = this.saltHi[c] | 0;
    const kSalt = kp >= 0 ? this.keySalts[kp] : NULL_SALT;
    const kSaltLo = kSalt.lo | 0;
    const kSaltHi = kSalt.hi | 0;
    const content = this.config.stats;
    const cells = kp < 0 ? this.cells : null;
    const cellAt = this.cellSlots[c] * this.cellStride;
    const words = new Int32Array(xs.buffer, xs.byteOffset, 2 * n);
    let contentLo = acc.contentLo | 0;
    let contentHi = acc.contentHi | 0;
    for (let i = 0; i < n; i++) {
      let lo = words[2 * i];
      let hi = words[2 * i + 1];
      // -0 hashes as 0, and every NaN as one NaN, as in hashNumber.
      if (lo === 0 && hi === NEGATIVE_ZERO_HI) hi = 0;
      else if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0) {
        hi = 0x7ff80000;
        lo = 0;
      }
      const m = mix32(hi ^ SEED_LO);
      const h1 = mix32(lo ^ m);
      const h2 = mix32(h1 ^ m ^ SEED_HI);
      if (cells !== null) cells[cellAt + i] = h1;
      if (content) {
        contentLo = (contentLo + h1) | 0;
        contentHi = (contentHi + h2) | 0;
      }
      if (keyed) acc.addKeyed(h1 >>> 0, h2 >>> 0, kLo[i], kHi[i]);
      if (salted) {
        rLo[i] = (rLo[i] + mix32(h1 ^ sLo)) | 0;
        rHi[i] = (rHi[i] + mix32(h2 ^ sHi)) | 0;
      }
      if (kp >= 0) {
        kLo[i] = (kLo[i] + mix32(h1 ^ kSaltLo)) | 0;
        kHi[i] = (kHi[i] + mix32(h2 ^ kSaltHi)) | 0;
      }
    }
    if (content) {
      acc.contentLo = contentLo >>> 0;
      acc.contentHi = contentHi >>> 0;
    }
  }

  /**
   * cellStats is valueStats for cells given as bytes: the same statistics,
   * and hashes of each cell's UTF-8 bytes (both sides of a CSV diff hash
   * cells alike, so keys and values still match across sides).
   */
  private cellStats(cells: CellBatch, n: number): void {
    const { rLo, rHi, kLo, kHi } = this;
    const { bytes, starts, ends, escaped } = cells;
    const stride = this.reader.columns.length;
    const stats = this.config.stats;
    const limit = this.config.categoryLimit;
    const cellOut = this.cells;
    for (const c of this.order) {
      const acc = this.acc[c];
      const kp = this.keyPos[c];
      const salted = this.perColumn && this.inHash[c];
      const hashAll = this.perColumn || kp >= 0;
      const sLo = this.saltLo[c];
      const sHi = this.saltHi[c];
      const kSalt = kp >= 0 ? this.keySalts[kp] : NULL_SALT;
      const keyed = this.keyedHash[c];
      const cellAt = this.cellSlots[c] * this.cellStride;
      let cats = acc.categories === null ? null : acc.byteCategories;
      let nonNull = acc.nonNull;
      let kinds = acc.kinds;
      let numCount = acc.numCount;
      let sum = acc.sum;
      let comp = acc.comp;
      let min = acc.min;
      let max = acc.max;
      let contentLo = acc.contentLo;
      let contentHi = acc.contentHi;
      for (let i = 0, at = c; i < n; i++, at += stride) {
        let s = starts[at];
        let e = ends[at];
        let cb = bytes;
        if (s < 0) {
          cb = Buffer.from(escaped[-1 - s], 'utf8');
          s = 0;
          e = cb.length;
        } else if (s === e) {
          if (kp >= 0) {
            kLo[i] = (kLo[i] + fmix32(NULL_SALT.lo ^ kSalt.lo)) >>> 0;
            kHi[i] = (kHi[i] + fmix32(NULL_SALT.hi ^ kSalt.hi)) >>> 0;
          }
          continue;
        }
        if (stats) {
          nonNull++;
          const kind = kindOfBytes(cb, s, e);
          kinds |= kind;
          if ((kind & KINDS_NUMERIC) !== 0 && (kinds & ~KINDS_NUMERIC) === 0) {
            const x = textNumber;
            if (Number.isFinite(x)) {
              numCount++;
              // Neumaier summation, as in ColumnAccumulator.addNumber.
              const t = sum + x;
              comp += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
              sum = t;
              if (x < min) min = x;
              if (x > max) max = x;
            }
          }
          if (cats !== null && cats.add(cb, s, e) > limit) {
            cats = null;
            acc.categories = null;
            acc.byteCategories = new ByteCategories();
          }
        }
        if (!hashAll) continue;
        hashBytes(cb, s, e);
        const h1 = hashLo;
        const h2 = hashHi;
        if (cellOut !== null && kp < 0) cellOut[cellAt + i] = h1;
        if (stats) {
          contentLo = (contentLo + h1) >>> 0;
          contentHi = (contentHi + h2) >>> 0;
        }
        if (keyed) acc.addKeyed(h1, h2, kLo[i], kHi[i]);
        if (salted) {
          rLo[i] = (rLo[i] + fmix32(h1 ^ sLo)) >>> 0;
          rHi[i] = (rHi[i] + fmix32(h2 ^ sHi)) >>> 0;
        }
        if (kp >= 0) {
          kLo[i] = (kLo[i] + fmix32(h1 ^ kSalt.lo)) >>> 0;
          kHi[i] = (kHi[i] + fmix32(h2 ^ kSalt.hi)) >>> 0;
        }
      }
      acc.nonNull = nonNull;
      acc.kinds = kinds;
      acc.numCount = numCount;
      acc.sum = sum;
      acc.comp = comp;
      acc.min = min;
      acc.max = max;
      acc.contentLo = contentLo;
      acc.contentHi = contentHi;
    }
  }

  result(): ScanResult {
    if (this.reader.columns.length !== this.known) this.learnColumns();
    return {
      columns: [...this.reader.columns],
      rows: this.rows,
      summaries: this.config.stats ? this.acc.map((a) => a.summary(this.rows)) : null,
      index: this.index.snapshot(),
      ...(this.cells !== null ? { cells: { file: this.cellFile, columns: this.cellColumns, slots: this.cellSlots, starts: [...this.cellStarts, this.rows] } } : {}),
    };
  }
}

/** scanSide runs one pass over `reader` as `config` says. */
export async function scanSide(reader: TableReader, config: ScanConfig): Promise<ScanResult> {
  const scanner = new SideScanner(reader, config);
  try {
    await reader.scan((b) => scanner.onBatch(b), { rowHashes: config.rowHash === 'line' });
    return scanner.result();
  } finally {
    scanner.close();
  }
}

/** CellJob asks for the cell hashes of some rows of one side, to count changed cells (it can cross a worker boundary). */
export interface CellJob {
  format: TableFormat;
  input: TableInput;
  /** What the side's scan found: its columns and row count (see TableReader.adopt). */
  columns: string[];
  rows: number;
  /** Rows to read, sorted by position. */
  wanted: WantedRow[];
  /** Column indexes to hash, in the order of the result. */
  hashed: number[];
}

/**
 * hashCells reads the `wanted` rows of `reader` and returns two hash lanes per
 * row and hashed column: `[lo, hi]` of column `hashed[j]` of `wanted[k]` at
 * `2 * (k * hashed.length + j)`. Every empty value hashes alike.
 */
export async function hashCells(reader: TableReader, wanted: WantedRow[], hashed: number[]): Promise<Uint32Array> {
  const np = hashed.length;
  const out = new Uint32Array(wanted.length * np * 2);
  await reader.fetch(wanted, (k, values) => {
    for (let j = 0; j < np; j++) {
      const v = values[hashed[j]];
      const at = 2 * (k * np + j);
      if (isEmpty(v)) {
        out[at] = NULL_LANE;
        out[at + 1] = NULL_LANE;
      } else {
        hashValue(v);
        out[at] = hashLo;
        out[at + 1] = hashHi;
      }
    }
  });
  return out;
}
