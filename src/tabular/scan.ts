import { CellFileWriter, type CellFile } from './cell-hashes.js';
import { ByteCategories, ColumnAccumulator, SEEN_MAX, type ColumnSummary } from './column-stats.js';
import { NULL_SALT, NUMBER_SEED_HI, NUMBER_SEED_LO, hashBytes, hashHi, hashLo, mix32, mixInto, saltOf, type Salt } from './hash.js';
import type { CodedColumn } from './parquet-chunk.js';
import { RowIndexWriter, type IndexLayout, type IndexSnapshot } from './partitions.js';
import type { Batch, CellBatch, TableReader } from './reader.js';
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
  isIsoDate,
  kindOfBytes,
  kindOfText,
  kindOfValue,
  numericValue,
  textNumber,
} from './values.js';

/**
 * One pass over one side of a table diff: for every row a key hash and a
 * value hash into the side's row index, and on the way the column statistics
 * (column-stats.ts) and, when asked, every cell's hash (cell-hashes.ts).
 * Plain data in and out, so that a pass can run on a worker thread.
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

export interface ScanResult {
  columns: string[];
  rows: number;
  summaries: ColumnSummary[] | null;
  index: IndexSnapshot;
  /** With `cellHashes`: the cell hash file. */
  cells?: CellFile;
}

/** Integers a bigint can be counted as a number within. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The high word of -0, and hashNumber's seeds for tag 1 (numbers), as int32. */
const NEGATIVE_ZERO_HI = 0x80000000 | 0;
const SEED_LO = (1 ^ NUMBER_SEED_LO) | 0;
const SEED_HI = (1 ^ NUMBER_SEED_HI) | 0;

/** NumberColumn is a column of numbers as Parquet decodes it. */
type NumberColumn = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigInt64Array;

/** The seed of the keyed content hash (see ColumnSummary.keyedLo). */
const KEYED_SEED = 0x243f6a88;

/** DictTable is what a column needs of each entry of a Parquet dictionary: its hash, whether it is empty, its kind and number. */
interface DictTable {
  dict: ArrayLike<unknown>;
  lo: Int32Array;
  hi: Int32Array;
  empty: Uint8Array;
  kind: Int32Array;
  x: Float64Array;
  /** Whether any entry is of a numeric kind (then numbers are summed row by row). */
  numeric: boolean;
  /** The entries' salted terms of the row hash (see foldColumn), once a batch needs them. */
  sLo: Int32Array | null;
  sHi: Int32Array | null;
}

/** ColumnPlan says where the hashes of one column's values go (see SideScanner.foldColumn). */
interface ColumnPlan {
  acc: ColumnAccumulator;
  /** Whether values are hashed at all: for the row hash (per column), or for the key. */
  hashed: boolean;
  /** Whether the column's content hash is summed (a pass with statistics). */
  content: boolean;
  /** Whether the value takes part in the row's value hash, under salt (saltLo, saltHi). */
  salted: boolean;
  saltLo: number;
  saltHi: number;
  /** The column's place among the key columns, or -1; its key salt. */
  keyPos: number;
  keySaltLo: number;
  keySaltHi: number;
  /** Whether the (key, value) pairs get a keyed content hash (see ColumnSummary.keyedLo). */
  keyed: boolean;
  /** The column's place in the cell hash file, or -1 (no cell hashes, or a key column). */
  cellSlot: number;
}

/** SideScanner consumes the batches of one reader. */
export class SideScanner {
  private readonly acc: ColumnAccumulator[] = [];
  /** By column index: where the hashes of its values go. */
  private readonly plans: ColumnPlan[] = [];
  /** Column indexes, key columns first: a row's key hash is complete before its other values are paired with it. */
  private order: number[] = [];
  private keySalts: Salt[];
  private known = 0;
  private readonly hashedMap: Map<string, string> | null;
  private rLo = new Uint32Array(0);
  private rHi = new Uint32Array(0);
  private kLo = new Uint32Array(0);
  private kHi = new Uint32Array(0);
  /**
   * The hashes of the values of the column being scanned, by row of the
   * batch (`empty[i]` when row i's cell is empty): each way of reading
   * values leaves them here, and foldColumn mixes them into rows.
   */
  private h1 = new Int32Array(0);
  private h2 = new Int32Array(0);
  private empty = new Uint8Array(0);
  /**
   * Per row of the batch, the row's share of every keyed content term:
   * mix32(kLo ^ KEYED_SEED) and mix32(kHi ^ KEYED_SEED), made once per row
   * (when the first keyed column is folded, after the key columns) instead
   * of once per cell.
   */
  private pkLo = new Int32Array(0);
  private pkHi = new Int32Array(0);
  private premixed = false;
  /** Scratch for numberColumn. */
  private numbers = new Float64Array(0);
  /** By column index: the table of the dictionary last seen (codedStats). */
  private readonly dicts: (DictTable | undefined)[] = [];
  /** Scratch for codedStats: rows per dictionary entry (zero between batches), and entries in order of first appearance. */
  private counts = new Int32Array(0);
  private firstSeen = new Int32Array(0);
  readonly index: RowIndexWriter;
  rows = 0;
  /** Whether each value needs its own hash (for the row hash, the key, or a content hash). */
  private readonly perColumn: boolean;
  /** With cellHashes: the cell hash file; else null. */
  private readonly cellFile: CellFileWriter | null = null;

  constructor(
    private readonly reader: TableReader,
    private readonly config: ScanConfig,
  ) {
    this.hashedMap = config.hashed ? new Map(config.hashed) : null;
    this.keySalts = (config.key ?? []).map((_, i) => saltOf(`\u0000key\u0000${i}`));
    this.index = new RowIndexWriter(config.layout);
    this.perColumn = config.rowHash === 'columns';
    if (config.cellHashes && this.perColumn && reader.headerFirst) this.cellFile = new CellFileWriter(config.layout.dir, config.layout.tag, reader.columns, config.key);
  }

  /** close releases the handles of the cell hash file and of the index's partition files (the files stay). */
  close(): void {
    this.cellFile?.close();
    this.index.close();
  }

  /** learnColumns extends the per-column tables to columns the reader has found since the last batch. */
  private learnColumns(): void {
    const cols = this.reader.columns;
    const key = this.config.key;
    for (let c = this.known; c < cols.length; c++) {
      const name = cols[c];
      const acc = new ColumnAccumulator(name);
      this.acc.push(acc);
      const target = this.hashedMap ? this.hashedMap.get(name) : name;
      const salt = target === undefined ? null : saltOf(target);
      const kp = key ? key.indexOf(name) : -1;
      const keySalt = kp >= 0 ? this.keySalts[kp] : NULL_SALT;
      const cellSlot = this.cellFile ? this.cellFile.slots[c] : -1;
      this.plans.push({
        acc,
        hashed: this.perColumn || kp >= 0,
        content: this.config.stats,
        // Rows matched by key hold equal key values: key columns add nothing to the value hash, nor to the cell hashes.
        salted: this.perColumn && salt !== null && kp < 0,
        saltLo: salt ? salt.lo : 0,
        saltHi: salt ? salt.hi : 0,
        keyPos: kp,
        keySaltLo: keySalt.lo,
        keySaltHi: keySalt.hi,
        // Only a column that the other side may lack by name can be a rename.
        keyed: key !== null && kp < 0 && this.config.stats && this.perColumn && (this.hashedMap === null || target === undefined),
        cellSlot,
      });
    }
    this.known = cols.length;
    this.order = [];
    for (let c = 0; c < this.known; c++) if (this.plans[c].keyPos >= 0) this.order.push(c);
    for (let c = 0; c < this.known; c++) if (this.plans[c].keyPos < 0) this.order.push(c);
  }

  onBatch(b: Batch): void {
    if (this.reader.columns.length !== this.known) this.learnColumns();
    const n = b.n;
    if (this.rLo.length < n) {
      this.rLo = new Uint32Array(n);
      this.rHi = new Uint32Array(n);
      this.kLo = new Uint32Array(n);
      this.kHi = new Uint32Array(n);
      this.h1 = new Int32Array(n);
      this.h2 = new Int32Array(n);
      this.empty = new Uint8Array(n);
      this.pkLo = new Int32Array(n);
      this.pkHi = new Int32Array(n);
    }
    this.premixed = false;
    const { rLo, rHi, kLo, kHi } = this;
    rLo.fill(0, 0, n);
    rHi.fill(0, 0, n);
    kLo.fill(0, 0, n);
    kHi.fill(0, 0, n);
    this.cellFile?.begin(b.firstRow, n, this.reader.columns.length);
    if (b.cells) this.cellStats(b.cells, n);
    else this.valueStats(b, n);
    this.cellFile?.end();
    if (!this.perColumn) {
      const hashes = b.rowHashes;
      if (!hashes) throw new Error('scan: line hashing needs the reader to supply row hashes');
      for (let i = 0; i < n; i++) {
        rLo[i] = hashes[2 * i];
        rHi[i] = hashes[2 * i + 1];
      }
    }
    // Keyless, a row's key is its value hash.
    if (this.config.key !== null) this.index.addRows(kLo, kHi, rLo, rHi, b.firstRow, b.positions, n);
    else this.index.addRows(rLo, rHi, rLo, rHi, b.firstRow, b.positions, n);
    this.rows += n;
  }

  /**
   * foldColumn mixes the hashes of column `p`'s values in this batch (`h1`,
   * `h2`, `empty`) into everything made of them: the cell hash file, the
   * column's content hashes, the rows' value hashes and key hashes. The one
   * place where value hashes are mixed: every way of reading values (plain
   * values, strings seen before, typed numbers, CSV bytes) hashes a value
   * alike and leaves its hash for this. Key columns come first (see
   * `order`), so a row's key hash is complete before the keyed content
   * hashes use it.
   */
  private foldColumn(p: ColumnPlan, n: number): void {
    const { rLo, rHi, kLo, kHi, h1: h1s, h2: h2s, empty } = this;
    const { acc, content, keyed, salted, saltLo, saltHi, keyPos, keySaltLo, keySaltHi } = p;
    const cells = p.cellSlot >= 0 ? this.cellFile!.words : null;
    const cellAt = p.cellSlot * n;
    let contentLo = acc.contentLo | 0;
    let contentHi = acc.contentHi | 0;
    let keyedLo = acc.keyedLo | 0;
    let keyedHi = acc.keyedHi | 0;
    if (keyed && keyPos < 0) {
      // The common case of a keyed diff's first pass, in a loop of its own: no key part, every term premixed per row.
      this.premix(n);
      const { pkLo, pkHi } = this;
      for (let i = 0; i < n; i++) {
        if (empty[i] !== 0) continue;
        const h1 = h1s[i];
        const h2 = h2s[i];
        if (cells !== null) cells[cellAt + i] = h1;
        if (content) {
          contentLo = (contentLo + h1) | 0;
          contentHi = (contentHi + h2) | 0;
        }
        const k = mix32(h1 ^ pkLo[i]);
        keyedLo = (keyedLo + k) | 0;
        keyedHi = (keyedHi + mix32(h2 ^ pkHi[i] ^ k)) | 0;
        if (salted) {
          rLo[i] = (rLo[i] + mix32(h1 ^ saltLo)) | 0;
          rHi[i] = (rHi[i] + mix32(h2 ^ saltHi)) | 0;
        }
      }
      acc.contentLo = contentLo >>> 0;
      acc.contentHi = contentHi >>> 0;
      acc.keyedLo = keyedLo >>> 0;
      acc.keyedHi = keyedHi >>> 0;
      return;
    }
    for (let i = 0; i < n; i++) {
      if (empty[i] !== 0) {
        // An empty key part still counts: (1, "") and ("", 1) are different keys.
        if (keyPos >= 0) mixInto(kLo, kHi, i, NULL_SALT.lo, NULL_SALT.hi, keySaltLo, keySaltHi);
        continue;
      }
      const h1 = h1s[i];
      const h2 = h2s[i];
      if (cells !== null) cells[cellAt + i] = h1;
      if (content) {
        contentLo = (contentLo + h1) | 0;
        contentHi = (contentHi + h2) | 0;
      }
      if (keyed) {
        const k = mix32(h1 ^ mix32(kLo[i] ^ KEYED_SEED));
        keyedLo = (keyedLo + k) | 0;
        keyedHi = (keyedHi + mix32(h2 ^ mix32(kHi[i] ^ KEYED_SEED) ^ k)) | 0;
      }
      if (salted) mixInto(rLo, rHi, i, h1, h2, saltLo, saltHi);
      if (keyPos >= 0) mixInto(kLo, kHi, i, h1, h2, keySaltLo, keySaltHi);
    }
    acc.contentLo = contentLo >>> 0;
    acc.contentHi = contentHi >>> 0;
    acc.keyedLo = keyedLo >>> 0;
    acc.keyedHi = keyedHi >>> 0;
  }

  /** premix makes the rows' shares of the keyed content terms (pkLo, pkHi) once per batch, after the key columns. */
  private premix(n: number): void {
    if (this.premixed) return;
    const { kLo, kHi, pkLo, pkHi } = this;
    for (let i = 0; i < n; i++) {
      pkLo[i] = mix32(kLo[i] ^ KEYED_SEED);
      pkHi[i] = mix32(kHi[i] ^ KEYED_SEED);
    }
    this.premixed = true;
  }

  /** valueStats updates the statistics and per-column hashes from values in `columns`. */
  private valueStats(b: Batch, n: number): void {
    for (const c of this.order) {
      const col = b.columns[c];
      const coded = b.coded?.[c];
      if (coded !== undefined) {
        if (this.codedStats(c, coded, n)) continue;
      } else if (col !== undefined && ArrayBuffer.isView(col) && !(col instanceof BigUint64Array)) {
        if (this.numberColumn(c, col as NumberColumn, n)) continue;
      } else if (col === undefined) for (let i = 0; i < n; i++) this.oneValue(c, undefined, i);
      else if (n > 0 && typeof col[0] === 'number' && this.copyNumbers(col, n)) {
        if (this.numberStats(c, this.numbers, n, false)) continue;
      } else this.arrayStats(c, col, n);
      const plan = this.plans[c];
      if (plan.hashed) this.foldColumn(plan, n);
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
    const hashed = this.plans[c].hashed;
    const { h1, h2, empty } = this;
    const stats = this.config.stats;
    const untyped = this.reader.untyped;
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
      if (hashed) {
        h1[i] = seen.lo;
        h2[i] = seen.hi;
        empty[i] = 0;
      }
    }
  }

  /** oneValue adds value `v` of column `c` in row `i` of the batch to the statistics and hashes. */
  private oneValue(c: number, v: unknown, i: number): void {
    if (v === undefined || v === null || v === '') {
      this.empty[i] = 1;
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
      this.countCategory(acc, v, 1);
    }
    if (!this.plans[c].hashed) return;
    hashValue(v);
    this.h1[i] = hashLo;
    this.h2[i] = hashHi;
    this.empty[i] = 0;
  }

  /**
   * countCategory counts `count` more of the non-empty value `v` among the
   * column's categories. Numbers count where numberStats counts them, so that
   * a value is one category entry whichever path it took.
   */
  private countCategory(acc: ColumnAccumulator, v: unknown, count: number): void {
    const cats = acc.categories;
    if (cats === null) return;
    const limit = this.config.categoryLimit;
    const x = typeof v === 'number' ? v : typeof v === 'bigint' && v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : null;
    if (x !== null) {
      const slot = acc.numberCategories.get(x);
      if (slot !== undefined) slot.n += count;
      else {
        acc.numberCategories.set(x, { n: count });
        if (!acc.countNumber(x, limit)) acc.dropCategories();
      }
    } else {
      const shown = typeof v === 'string' ? v : displayText(canonicalText(v));
      const slot = cats.get(shown);
      if (slot !== undefined) slot.n += count;
      else {
        cats.set(shown, { n: count });
        if (!acc.countString(shown, limit)) acc.dropCategories();
      }
    }
  }

  /** dictTable is what column `c` needs of each entry of `dict` (see DictTable), made once per dictionary. */
  private dictTable(c: number, dict: ArrayLike<unknown>): DictTable {
    const old = this.dicts[c];
    if (old !== undefined && old.dict === dict) return old;
    const size = dict.length;
    const t: DictTable = {
      dict,
      lo: new Int32Array(size),
      hi: new Int32Array(size),
      empty: new Uint8Array(size),
      kind: new Int32Array(size),
      x: new Float64Array(size),
      numeric: false,
      sLo: null,
      sHi: null,
    };
    const hashed = this.plans[c].hashed;
    const untyped = this.reader.untyped;
    for (let e = 0; e < size; e++) {
      const v = dict[e];
      if (v === undefined || v === null || v === '') {
        t.empty[e] = 1;
        continue;
      }
      // As oneValue decides a value's kind and number.
      const kind = typeof v === 'string' ? (untyped ? kindOfText(v) : isIsoDate(v) ? KIND_DATE : KIND_STRING) : kindOfValue(v);
      t.kind[e] = kind;
      if ((kind & KINDS_NUMERIC) !== 0) {
        t.numeric = true;
        t.x[e] = typeof v === 'string' ? textNumber : numericValue(v);
      }
      if (hashed) {
        hashValue(v);
        t.lo[e] = hashLo;
        t.hi[e] = hashHi;
      }
    }
    this.dicts[c] = t;
    return t;
  }

  /**
   * codedStats is valueStats for a column given as dictionary indexes: each
   * entry is hashed and classified once (dictTable), each row looks its
   * entry up. The statistics come out as per-row values would make them:
   * counts and kinds are sums, categories are counted per entry in the order
   * of first appearance (so in the order per-row counting creates them), and
   * numbers are summed row by row (a sum's rounding depends on the order).
   */
  private codedStats(c: number, col: CodedColumn, n: number): boolean {
    const t = this.dictTable(c, col.dict);
    const acc = this.acc[c];
    const plan = this.plans[c];
    const { codes } = col;
    const { lo, hi, empty: none, kind } = t;
    const stats = this.config.stats;
    const size = t.lo.length;
    if (this.counts.length < size) {
      this.counts = new Int32Array(size);
      this.firstSeen = new Int32Array(size);
    }
    const { counts, firstSeen } = this;
    let seen = 0;
    // A value column's hashes are folded here, as foldColumn would fold them: the salted terms once per entry, the content sums once per entry.
    const folded = plan.hashed && plan.keyPos < 0;
    if (folded) {
      const { salted, keyed } = plan;
      if (salted && t.sLo === null) {
        t.sLo = new Int32Array(size);
        t.sHi = new Int32Array(size);
        for (let e = 0; e < size; e++) {
          t.sLo[e] = mix32(lo[e] ^ plan.saltLo);
          t.sHi[e] = mix32(hi[e] ^ plan.saltHi);
        }
      }
      const sLo = t.sLo ?? lo;
      const sHi = t.sHi ?? hi;
      if (keyed) this.premix(n);
      const { rLo, rHi, pkLo, pkHi } = this;
      const cells = plan.cellSlot >= 0 ? this.cellFile!.words : null;
      const cellAt = plan.cellSlot * n;
      let keyedLo = acc.keyedLo | 0;
      let keyedHi = acc.keyedHi | 0;
      if (cells !== null && salted && !keyed) {
        // The common case of a diff's first pass over a column both sides have, without a branch per row.
        for (let i = 0; i < n; i++) {
          const code = codes[i];
          if (code < 0 || none[code] !== 0) continue;
          if (counts[code]++ === 0) firstSeen[seen++] = code;
          cells[cellAt + i] = lo[code];
          rLo[i] = (rLo[i] + sLo[code]) | 0;
          rHi[i] = (rHi[i] + sHi[code]) | 0;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const code = codes[i];
          if (code < 0 || none[code] !== 0) continue;
          if (counts[code]++ === 0) firstSeen[seen++] = code;
          const h1 = lo[code];
          if (cells !== null) cells[cellAt + i] = h1;
          if (keyed) {
            const k = mix32(h1 ^ pkLo[i]);
            keyedLo = (keyedLo + k) | 0;
            keyedHi = (keyedHi + mix32(hi[code] ^ pkHi[i] ^ k)) | 0;
          }
          if (salted) {
            rLo[i] = (rLo[i] + sLo[code]) | 0;
            rHi[i] = (rHi[i] + sHi[code]) | 0;
          }
        }
      }
      acc.keyedLo = keyedLo >>> 0;
      acc.keyedHi = keyedHi >>> 0;
      if (plan.content) {
        let contentLo = acc.contentLo | 0;
        let contentHi = acc.contentHi | 0;
        for (let k = 0; k < seen; k++) {
          const e = firstSeen[k];
          contentLo = (contentLo + Math.imul(lo[e], counts[e])) | 0;
          contentHi = (contentHi + Math.imul(hi[e], counts[e])) | 0;
        }
        acc.contentLo = contentLo >>> 0;
        acc.contentHi = contentHi >>> 0;
      }
    } else {
      const { h1, h2, empty } = this;
      for (let i = 0; i < n; i++) {
        const code = codes[i];
        if (code < 0 || none[code] !== 0) {
          empty[i] = 1;
          continue;
        }
        empty[i] = 0;
        h1[i] = lo[code];
        h2[i] = hi[code];
        if (counts[code]++ === 0) firstSeen[seen++] = code;
      }
    }
    if (!stats) {
      for (let k = 0; k < seen; k++) counts[firstSeen[k]] = 0;
      return folded;
    }
    let kinds = acc.kinds;
    let nonNull = acc.nonNull;
    if (t.numeric) {
      const x = t.x;
      let numCount = acc.numCount;
      let sum = acc.sum;
      let comp = acc.comp;
      let min = acc.min;
      let max = acc.max;
      for (let i = 0; i < n; i++) {
        const code = codes[i];
        if (code < 0 || none[code] !== 0) continue;
        const k = kind[code];
        kinds |= k;
        if ((k & KINDS_NUMERIC) === 0 || (kinds & ~KINDS_NUMERIC) !== 0) continue;
        const v = x[code];
        if (!Number.isFinite(v)) continue;
        numCount++;
        // Neumaier summation, as in ColumnAccumulator.addNumber.
        const s = sum + v;
        comp += Math.abs(sum) >= Math.abs(v) ? sum - s + v : v - s + sum;
        sum = s;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      acc.numCount = numCount;
      acc.sum = sum;
      acc.comp = comp;
      acc.min = min;
      acc.max = max;
    }
    for (let k = 0; k < seen; k++) {
      const code = firstSeen[k];
      const count = counts[code];
      counts[code] = 0;
      nonNull += count;
      kinds |= kind[code];
      if (acc.categories !== null) this.countCategory(acc, col.dict[code], count);
    }
    acc.nonNull = nonNull;
    acc.kinds = kinds;
    return folded;
  }

  /**
   * numberColumn hands a typed-array column (Parquet's required numeric
   * columns) to numberStats as float64 values: INT64 values are read from
   * their two 32-bit halves, with no bigint made. A batch holding an INT64
   * beyond ±2^53 (which keeps its text as a bigint) takes the general path.
   */
  private numberColumn(c: number, col: NumberColumn, n: number): boolean {
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
        return false;
      }
      xs[i] = hi * 0x1_0000_0000 + (halves[2 * i] >>> 0);
    }
    return this.numberStats(c, xs, n, true);
  }

  /**
   * numberStats is valueStats for the numbers `xs` of column `c`, with the
   * same results; `integral` when all are integers. It tells whether it
   * folded the hashes itself (a value column), else foldColumn must.
   */
  private numberStats(c: number, xs: Float64Array, n: number, integral: boolean): boolean {
    const acc = this.acc[c];
    const plan = this.plans[c];
    if (this.config.stats && acc.categories === null && (acc.kinds & ~KINDS_NUMERIC) === 0 && plan.hashed && plan.keyPos < 0 && n > 0) {
      this.numberStatsFused(acc, plan, xs, n, integral);
      return true;
    }
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
      let i = 0;
      if (cats === null && (kinds & ~KINDS_NUMERIC) === 0) {
        // No categories left to count and only numbers so far (most numeric
        // columns after their first batch): the same sums in a tighter loop.
        if (integral && n > 0) kinds |= KIND_INTEGER;
        for (; i < n; i++) {
          const x = xs[i];
          if (!integral) kinds |= Number.isInteger(x) ? KIND_INTEGER : KIND_NUMBER;
          // NaN or ±Infinity (x - x is NaN): a value, but not summed, as Number.isFinite decides below.
          if (x - x !== 0) continue;
          numCount++;
          // Neumaier summation, as in ColumnAccumulator.addNumber.
          const t = sum + x;
          comp += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
          sum = t;
          if (x < min) min = x;
          if (x > max) max = x;
        }
        nonNull += i;
      }
      for (; i < n; i++) {
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
    // As in arrayStats, every column takes part in the content hash when values are hashed per column (a one-sided column may be a rename).
    if (!plan.hashed) return false;
    // hashNumber(x, 1) computed in place from the bits of `xs`, in int32 arithmetic (the same bits as hashValue gives).
    const words = new Int32Array(xs.buffer, xs.byteOffset, 2 * n);
    if (plan.keyPos < 0) {
      // A value column: each hash folded as soon as made, as foldColumn would fold it (no empty cells here).
      const { rLo, rHi, pkLo, pkHi } = this;
      const { content, keyed, salted, saltLo, saltHi } = plan;
      if (keyed) this.premix(n);
      const cells = plan.cellSlot >= 0 ? this.cellFile!.words : null;
      const cellAt = plan.cellSlot * n;
      let contentLo = acc.contentLo | 0;
      let contentHi = acc.contentHi | 0;
      let keyedLo = acc.keyedLo | 0;
      let keyedHi = acc.keyedHi | 0;
      for (let i = 0; i < n; i++) {
        let lo = words[2 * i];
        let hi = words[2 * i + 1];
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
        if (keyed) {
          const k = mix32(h1 ^ pkLo[i]);
          keyedLo = (keyedLo + k) | 0;
          keyedHi = (keyedHi + mix32(h2 ^ pkHi[i] ^ k)) | 0;
        }
        if (salted) {
          rLo[i] = (rLo[i] + mix32(h1 ^ saltLo)) | 0;
          rHi[i] = (rHi[i] + mix32(h2 ^ saltHi)) | 0;
        }
      }
      acc.contentLo = contentLo >>> 0;
      acc.contentHi = contentHi >>> 0;
      acc.keyedLo = keyedLo >>> 0;
      acc.keyedHi = keyedHi >>> 0;
      return true;
    }
    const { h1: h1s, h2: h2s, empty } = this;
    empty.fill(0, 0, n);
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
      h1s[i] = h1;
      h2s[i] = mix32(h1 ^ m ^ SEED_HI);
    }
    return false;
  }

  /**
   * numberStatsFused is numberStats for the common case of a value column
   * after its first batches (no categories left to count, only numbers so
   * far, values hashed): the statistics and every hash use of a value in
   * one loop, one read of `xs`. The same sums in the same order, so the same
   * results.
   */
  private numberStatsFused(acc: ColumnAccumulator, plan: ColumnPlan, xs: Float64Array, n: number, integral: boolean): void {
    let kinds = acc.kinds;
    let numCount = acc.numCount;
    let sum = acc.sum;
    let comp = acc.comp;
    let min = acc.min;
    let max = acc.max;
    if (integral) kinds |= KIND_INTEGER;
    const words = new Int32Array(xs.buffer, xs.byteOffset, 2 * n);
    const { rLo, rHi, pkLo, pkHi } = this;
    const { content, keyed, salted, saltLo, saltHi } = plan;
    if (keyed) this.premix(n);
    const cells = plan.cellSlot >= 0 ? this.cellFile!.words : null;
    const cellAt = plan.cellSlot * n;
    let contentLo = acc.contentLo | 0;
    let contentHi = acc.contentHi | 0;
    let keyedLo = acc.keyedLo | 0;
    let keyedHi = acc.keyedHi | 0;
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      if (!integral) kinds |= Number.isInteger(x) ? KIND_INTEGER : KIND_NUMBER;
      // NaN or ±Infinity (x - x is NaN): a value, but not summed, as Number.isFinite decides.
      if (x - x === 0) {
        numCount++;
        // Neumaier summation, as in ColumnAccumulator.addNumber.
        const t = sum + x;
        comp += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
        sum = t;
        if (x < min) min = x;
        if (x > max) max = x;
      }
      // hashNumber(x, 1) from the bits of x, as in numberStats.
      let lo = words[2 * i];
      let hi = words[2 * i + 1];
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
      if (keyed) {
        const k = mix32(h1 ^ pkLo[i]);
        keyedLo = (keyedLo + k) | 0;
        keyedHi = (keyedHi + mix32(h2 ^ pkHi[i] ^ k)) | 0;
      }
      if (salted) {
        rLo[i] = (rLo[i] + mix32(h1 ^ saltLo)) | 0;
        rHi[i] = (rHi[i] + mix32(h2 ^ saltHi)) | 0;
      }
    }
    acc.nonNull += n;
    acc.kinds = kinds;
    acc.numCount = numCount;
    acc.sum = sum;
    acc.comp = comp;
    acc.min = min;
    acc.max = max;
    acc.contentLo = contentLo >>> 0;
    acc.contentHi = contentHi >>> 0;
    acc.keyedLo = keyedLo >>> 0;
    acc.keyedHi = keyedHi >>> 0;
  }

  /**
   * cellStats is valueStats for cells given as bytes: the same statistics,
   * and hashes of each cell's UTF-8 bytes (both sides of a CSV diff hash
   * cells alike, so keys and values still match across sides).
   */
  private cellStats(cells: CellBatch, n: number): void {
    const { bytes, starts, ends, escaped } = cells;
    const stride = this.reader.columns.length;
    const stats = this.config.stats;
    const limit = this.config.categoryLimit;
    const { h1, h2, empty } = this;
    for (const c of this.order) {
      const acc = this.acc[c];
      const plan = this.plans[c];
      const hashed = plan.hashed;
      let cats = acc.categories === null ? null : acc.byteCategories;
      let nonNull = acc.nonNull;
      let kinds = acc.kinds;
      let numCount = acc.numCount;
      let sum = acc.sum;
      let comp = acc.comp;
      let min = acc.min;
      let max = acc.max;
      for (let i = 0, at = c; i < n; i++, at += stride) {
        let s = starts[at];
        let e = ends[at];
        let cb = bytes;
        if (s < 0) {
          cb = Buffer.from(escaped[-1 - s], 'utf8');
          s = 0;
          e = cb.length;
        } else if (s === e) {
          empty[i] = 1;
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
        if (!hashed) continue;
        hashBytes(cb, s, e);
        h1[i] = hashLo;
        h2[i] = hashHi;
        empty[i] = 0;
      }
      acc.nonNull = nonNull;
      acc.kinds = kinds;
      acc.numCount = numCount;
      acc.sum = sum;
      acc.comp = comp;
      acc.min = min;
      acc.max = max;
      if (hashed) this.foldColumn(plan, n);
    }
  }

  result(): ScanResult {
    if (this.reader.columns.length !== this.known) this.learnColumns();
    return {
      columns: [...this.reader.columns],
      rows: this.rows,
      summaries: this.config.stats ? this.acc.map((a) => a.summary(this.rows)) : null,
      index: this.index.snapshot(),
      ...(this.cellFile !== null ? { cells: this.cellFile.result() } : {}),
    };
  }
}

/**
 * ScanProgress hears how far a pass has come: rows read, and bytes of the
 * input read (for a text format, up to the start of the last row read; for
 * Parquet, the input's share of the rows). Called after each batch.
 */
export type ScanProgress = (rows: number, bytes: number) => void;

/** scanSide runs one pass over `reader` as `config` says, telling `onProgress` after each batch. */
export async function scanSide(reader: TableReader, config: ScanConfig, onProgress?: ScanProgress): Promise<ScanResult> {
  const scanner = new SideScanner(reader, config);
  const size = config.input.size;
  const byRow = config.format === 'parquet';
  const estimate = Math.max(1, reader.estimateRows());
  try {
    await reader.scan(
      (b) => {
        scanner.onBatch(b);
        if (onProgress && b.n > 0) onProgress(scanner.rows, byRow ? Math.min(size, (size * scanner.rows) / estimate) : Math.min(size, b.positions[b.n - 1]));
      },
      { rowHashes: config.rowHash === 'line', coded: true },
    );
    onProgress?.(scanner.rows, size);
    return scanner.result();
  } finally {
    scanner.close();
  }
}
