import { fmix32, hashHi, hashLo, saltOf, type Salt } from './hash.js';
import { RowIndexWriter, type IndexLayout, type IndexSnapshot } from './partitions.js';
import type { Batch, TableReader } from './reader.js';
import type { TableFormat, TableInput } from './types.js';
import { KINDS_NUMERIC, KIND_STRING, canonicalText, displayText, hashValue, isIsoDate, kindOfText, kindOfValue, numericValue, textNumber } from './values.js';

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
}

export interface ScanResult {
  columns: string[];
  rows: number;
  summaries: ColumnSummary[] | null;
  index: IndexSnapshot;
}

const NULL_SALT: Salt = saltOf('\u0000null');

class ColumnAccumulator {
  nonNull = 0;
  kinds = 0;
  numCount = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  /** Counts in boxes, so that counting a value already seen is one lookup. */
  categories: Map<string, { n: number }> | null = new Map();
  contentLo = 0;
  contentHi = 0;
  constructor(readonly name: string) {}

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
      sum: this.sum,
      categories: this.categories ? [...this.categories].map(([v, c]): [string, number] => [v, c.n]) : null,
      contentLo: (this.contentLo + Math.imul(NULL_SALT.lo, nulls)) >>> 0,
      contentHi: (this.contentHi + Math.imul(NULL_SALT.hi, nulls)) >>> 0,
    };
  }
}

/** SideScanner consumes the batches of one reader. */
export class SideScanner {
  private readonly acc: ColumnAccumulator[] = [];
  /** Per column index: -1 when not in the value hash, else its salt. */
  private saltLo: number[] = [];
  private saltHi: number[] = [];
  private inHash: boolean[] = [];
  private keyPos: number[] = [];
  private keySalts: Salt[];
  private known = 0;
  private readonly hashedMap: Map<string, string> | null;
  private rLo = new Uint32Array(0);
  private rHi = new Uint32Array(0);
  private kLo = new Uint32Array(0);
  private kHi = new Uint32Array(0);
  readonly index: RowIndexWriter;
  rows = 0;
  /** Whether each value needs its own hash (for the row hash, the key, or a content hash). */
  private readonly perColumn: boolean;

  constructor(
    private readonly reader: TableReader,
    private readonly config: ScanConfig,
  ) {
    this.hashedMap = config.hashed ? new Map(config.hashed) : null;
    this.keySalts = (config.key ?? []).map((_, i) => saltOf(`\u0000key\u0000${i}`));
    this.index = new RowIndexWriter(config.layout);
    this.perColumn = config.rowHash === 'columns';
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
      this.inHash.push(salt !== null);
      this.saltLo.push(salt ? salt.lo : 0);
      this.saltHi.push(salt ? salt.hi : 0);
      this.keyPos.push(key ? key.indexOf(name) : -1);
    }
    this.known = cols.length;
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
    const stats = this.config.stats;
    const untyped = this.reader.untyped;
    const limit = this.config.categoryLimit;
    for (let c = 0; c < this.known; c++) {
      const col = b.columns[c];
      const acc = this.acc[c];
      const kp = this.keyPos[c];
      const salted = this.perColumn && this.inHash[c];
      const hashAll = this.perColumn || kp >= 0;
      const sLo = this.saltLo[c];
      const sHi = this.saltHi[c];
      const kSalt = kp >= 0 ? this.keySalts[kp] : NULL_SALT;
      for (let i = 0; i < n; i++) {
        const v = col === undefined ? undefined : col[i];
        if (v === undefined || v === null || v === '') {
          if (kp >= 0) {
            kLo[i] = (kLo[i] + fmix32(NULL_SALT.lo ^ kSalt.lo)) >>> 0;
            kHi[i] = (kHi[i] + fmix32(NULL_SALT.hi ^ kSalt.hi)) >>> 0;
          }
          continue;
        }
        if (stats) {
          acc.nonNull++;
          const kind = typeof v === 'string' ? (untyped ? kindOfText(v) : isIsoDate(v) ? 16 : KIND_STRING) : kindOfValue(v);
          acc.kinds |= kind;
          if ((kind & KINDS_NUMERIC) !== 0 && (acc.kinds & ~KINDS_NUMERIC) === 0) {
            const x = typeof v === 'string' ? textNumber : numericValue(v);
            if (Number.isFinite(x)) {
              acc.numCount++;
              acc.sum += x;
              if (x < acc.min) acc.min = x;
              if (x > acc.max) acc.max = x;
            }
          }
          const cats = acc.categories;
          if (cats !== null) {
            const shown = typeof v === 'string' ? v : displayText(canonicalText(v));
            const slot = cats.get(shown);
            if (slot !== undefined) slot.n++;
            else {
              cats.set(shown, { n: 1 });
              if (cats.size > limit) acc.categories = null;
            }
          }
        }
        if (!hashAll) continue;
        hashValue(v);
        const h1 = hashLo;
        const h2 = hashHi;
        if (stats) {
          acc.contentLo = (acc.contentLo + h1) >>> 0;
          acc.contentHi = (acc.contentHi + h2) >>> 0;
        }
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

  result(): ScanResult {
    if (this.reader.columns.length !== this.known) this.learnColumns();
    return {
      columns: [...this.reader.columns],
      rows: this.rows,
      summaries: this.config.stats ? this.acc.map((a) => a.summary(this.rows)) : null,
      index: this.index.snapshot(),
    };
  }
}

/** scanSide runs one pass over `reader` as `config` says. */
export async function scanSide(reader: TableReader, config: ScanConfig): Promise<ScanResult> {
  const scanner = new SideScanner(reader, config);
  await reader.scan((b) => scanner.onBatch(b), { rowHashes: config.rowHash === 'line' });
  return scanner.result();
}
