import { NULL_SALT } from './hash.js';

/**
 * Column statistics of one side of a table diff: counts, kinds, a numeric
 * summary, category shares and order-independent content hashes, gathered by
 * the scan (scan.ts) and handed back as plain data (ColumnSummary).
 */

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

/** SeenString is what arrayStats remembers of a string: its kind (and number), hash, and category slot. */
export interface SeenString {
  kind: number;
  x: number;
  lo: number;
  hi: number;
  slot: { n: number } | null;
}

/**
 * seenTable makes the table of strings a column has seen: an object without
 * a prototype (every string is an own key of its own), as looking a string
 * up there costs a fraction of a Map lookup in V8.
 */
export function seenTable(): Record<string, SeenString> {
  return Object.create(null) as Record<string, SeenString>;
}

/** Distinct strings a column remembers at most. */
export const SEEN_MAX = 1 << 14;

/** ColumnAccumulator gathers the statistics of one column; the scan updates its fields directly in its hot loops. */
export class ColumnAccumulator {
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
  /** The content hashes so far (see ColumnSummary), as uint32; the scan's foldColumn sums them. */
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
export class ByteCategories {
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
