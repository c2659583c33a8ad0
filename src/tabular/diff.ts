import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../core/errors.js';
import { TableError } from './errors.js';
import { capabilitiesOf, openReader } from './formats.js';
import {
  ENTRY_BYTES,
  ENTRY_WORDS,
  comparePartition,
  entryPosition,
  loadPartition,
  removePartitions,
  type IndexLayout,
  type IndexSnapshot,
} from './partitions.js';
import type { TableReader, WantedRow } from './reader.js';
import { runCellJobs, runScans, workersAvailable } from './scan-threads.js';
import { readCellHashes, type CellJob } from './cell-hashes.js';
import type { ColumnSummary } from './column-stats.js';
import type { ScanConfig, ScanResult } from './scan.js';
import type {
  CategoryShare,
  ColumnShift,
  ColumnSide,
  ColumnType,
  RowChange,
  SchemaChange,
  TableDiff,
  TableDiffOptions,
  TableFormat,
  TableInput,
} from './types.js';
import { canonicalText, isEmpty, jsonSafe, typeOfKinds } from './values.js';

const MiB = 1 << 20;
const DEFAULT_BUDGET = 64 * MiB;
const DEFAULT_LIMIT = 20;
const DEFAULT_CATEGORY_LIMIT = 20;
/** Below this much input the scans run inline: starting workers costs more than it saves. */
const PARALLEL_MIN_BYTES = 32 * MiB;
/** Entries (both sides) of a partition whose comparison stays mostly in the CPU caches. */
const CACHED_ENTRIES = 256 * 1024;
const KEY_HINT = 'choose key columns that both versions have and that identify each row (several: --key a --key b)';

/** ColumnPair is a column present on both sides (a renamed column is one pair with two names). */
interface ColumnPair {
  before: string;
  after: string;
  b: number;
  a: number;
}

/** Change is one row change found by the comparison, before its values are read. */
interface Change {
  kind: 'added' | 'removed' | 'modified';
  rowB: number;
  posB: number;
  rowA: number;
  posA: number;
}

/**
 * diffTable computes the data-aware diff of one table file between two sides.
 * `before === null` means the file was added (every row is added), `after ===
 * null` that it was deleted. Each side is read as a stream, twice at most,
 * plus reads of the changed rows; memory stays near `memoryBudget` whatever
 * the file size, with spill files under `options.tmpDir`, which the caller
 * creates and removes (this function removes what it put there).
 *
 * Throws TableError when a side cannot be read as `format` (code CORRUPT) or
 * lacks a key column or has a duplicate key (code USAGE), and UsageError for
 * invalid options.
 */
export async function diffTable(
  filePath: string,
  format: TableFormat,
  before: TableInput | null,
  after: TableInput | null,
  options: TableDiffOptions,
): Promise<TableDiff> {
  const key = checkOptions(options);
  const budget = options.memoryBudget ?? DEFAULT_BUDGET;
  const categoryLimit = options.categoryLimit ?? DEFAULT_CATEGORY_LIMIT;
  const work = path.join(options.tmpDir, `table-${randomBytes(6).toString('hex')}`);
  const readers: (TableReader | null)[] = [null, null];
  try {
    readers[0] = before ? await openReader(format, before) : null;
    readers[1] = after ? await openReader(format, after) : null;
    const [rb, ra] = readers;
    for (const r of readers) if (r && r.headerFirst && key) checkKeyColumns(r, key);

    const can = capabilitiesOf(format);
    // Value hashing: a pair of sides with the same header whose reader hashes
    // row text (CSV, TSV) hashes whole rows; otherwise each column is salted
    // by its name, over the columns both sides have.
    let rowHash: ScanConfig['rowHash'] = 'columns';
    let hashedB: [string, string][] | null = null;
    let hashedA: [string, string][] | null = null;
    if (can.lineHashes && (!rb || !ra || sameColumns(rb.columns, ra.columns))) rowHash = 'line';
    else if (rb && ra && rb.headerFirst) {
      const common = rb.columns.filter((c) => ra.columns.includes(c)).map((c): [string, string] => [c, c]);
      hashedB = common;
      hashedA = common;
    }

    const layout = (tag: string): IndexLayout => ({ parts, capacity, dir: work, tag });
    const estimate = (rb?.estimateRows() ?? 0) + (ra?.estimateRows() ?? 0);
    // The comparison holds one partition of both sides plus its hash tables:
    // about 3 x its entries. Smaller partitions than the budget needs keep
    // its random lookups in the CPU caches (up to 256 partitions, as each
    // spill reopens its partition's file).
    const parts = clampPow2(Math.max(Math.ceil((estimate * ENTRY_BYTES * 3) / budget), Math.min(256, Math.ceil(estimate / CACHED_ENTRIES))), 1, 4096);
    const capacity = Math.max(16, Math.floor(budget / 4 / parts / ENTRY_BYTES));
    // Rows that are costly to read again (Parquet: a page decoded again): the
    // scans keep every cell's hash for counting changed cells, when the files
    // that takes are not much bigger than the inputs and fit easily on the
    // scratch disk. Cell hash files need the columns before the scan.
    const cellHashes =
      !can.cheapToReReadByOffset &&
      key !== null &&
      rb !== null &&
      ra !== null &&
      rb.headerFirst &&
      ra.headerFirst &&
      before !== null &&
      after !== null &&
      cellFilesFit(options.tmpDir, [rb, ra], [before.size, after.size]);
    const config = (input: TableInput, tag: string, hashed: [string, string][] | null, stats: boolean): ScanConfig => ({
      format,
      input,
      key,
      rowHash,
      hashed,
      stats,
      categoryLimit,
      layout: layout(tag),
      cellHashes: stats && cellHashes,
    });
    const parallel = (options.parallel ?? ((before?.size ?? 0) + (after?.size ?? 0) >= PARALLEL_MIN_BYTES && rb !== null && ra !== null)) && workersAvailable();

    let [sb, sa] = await runScans(
      [rb && before ? { reader: rb, config: config(before, 'before', hashedB, true) } : null, ra && after ? { reader: ra, config: config(after, 'after', hashedA, true) } : null],
      parallel,
    );
    // A side without rows (an empty JSON Lines file) has no columns to check the key against.
    if (key) {
      if (rb && sb && sb.rows > 0 && !rb.headerFirst) checkKeyColumns(rb, key);
      if (ra && sa && sa.rows > 0 && !ra.headerFirst) checkKeyColumns(ra, key);
    }

    const schema = matchColumns(sb, sa, key !== null, categoryLimit);
    // A second pass when the columns that both sides have (renames included)
    // are not the ones the first pass hashed: only then do rows compare equal
    // when just their schema changed.
    if (rowHash === 'columns' && sb && sa) {
      const finalB = schema.pairs.map((p): [string, string] => [p.before, p.after]);
      const finalA = schema.pairs.map((p): [string, string] => [p.after, p.after]);
      const redoB = !sameHashing(hashedB ?? sb.columns.map((c) => [c, c]), finalB);
      const redoA = !sameHashing(hashedA ?? sa.columns.map((c) => [c, c]), finalA);
      if (redoB || redoA) {
        if (redoB) removePartitions(sb.index);
        if (redoA) removePartitions(sa.index);
        const again = await runScans(
          [redoB && before && rb ? { reader: rb, config: config(before, 'before2', finalB, false) } : null, redoA && after && ra ? { reader: ra, config: config(after, 'after2', finalA, false) } : null],
          parallel,
        );
        if (again[0]) sb = { ...sb, index: again[0].index };
        if (again[1]) sa = { ...sa, index: again[1].index };
      }
    }

    const sides: SidesContext = { format, inputs: [before, after], scans: [sb, sa], parallel };
    const compared = await compareSides(sb, sa, rb, ra, key, schema.pairs, options, budget, layout('empty'), sides);
    return {
      path: filePath,
      format,
      key,
      rows: {
        before: sb?.rows ?? 0,
        after: sa?.rows ?? 0,
        added: compared.added,
        removed: compared.removed,
        modified: compared.modified,
        unchanged: compared.unchanged,
      },
      schema: schema.change,
      columns: columnShifts(sb, sa, schema, compared.changedCells, categoryLimit),
      ...(options.rows ? { rowChanges: compared.rowChanges, rowChangesTruncated: compared.truncated } : {}),
    };
  } finally {
    for (const r of readers) await r?.close().catch(() => {});
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Cell hash files may take at most this many times their input's size, and this share of the scratch disk's free space. */
const CELL_FILE_RATIO = 4;
const CELL_FILE_DISK_SHARE = 0.5;

/** cellFilesFit: the cell hash files of `readers` (4 bytes per cell) stay within CELL_FILE_RATIO of their input sizes and CELL_FILE_DISK_SHARE of the free space in `dir`. */
function cellFilesFit(dir: string, readers: TableReader[], sizes: number[]): boolean {
  let total = 0;
  for (let i = 0; i < readers.length; i++) {
    const bytes = readers[i].estimateRows() * readers[i].columns.length * 4;
    if (bytes > CELL_FILE_RATIO * sizes[i] + MiB) return false;
    total += bytes;
  }
  try {
    const fsStats = fs.statfsSync(dir);
    return total <= CELL_FILE_DISK_SHARE * fsStats.bavail * fsStats.bsize;
  } catch {
    return false;
  }
}

function checkOptions(options: TableDiffOptions): string[] | null {
  const key = options.key && options.key.length > 0 ? [...options.key] : null;
  if (key) {
    if (key.some((k) => typeof k !== 'string' || k === '')) throw new UsageError('key columns must be non-empty names', { hint: 'e.g. --key id' });
    if (new Set(key).size !== key.length) throw new UsageError(`a key column is named twice: ${key.join(', ')}`, { hint: 'name each key column once' });
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 0)) {
    throw new UsageError(`the row limit must be a whole number >= 0, not ${options.limit}`, { hint: 'e.g. --limit 50' });
  }
  if (options.memoryBudget !== undefined && !(options.memoryBudget > 0)) throw new UsageError('the memory budget must be positive');
  if (options.categoryLimit !== undefined && !(Number.isInteger(options.categoryLimit) && options.categoryLimit >= 0)) {
    throw new UsageError('the category limit must be a whole number >= 0');
  }
  if (!options.tmpDir) throw new UsageError('a table diff needs a scratch directory (tmpDir)');
  return key;
}

function checkKeyColumns(r: TableReader, key: string[]): void {
  const missing = key.filter((k) => !r.columns.includes(k));
  if (missing.length === 0) return;
  const shown = r.columns.length > 12 ? `${r.columns.slice(0, 12).join(', ')}, …` : r.columns.join(', ');
  throw new TableError(
    'USAGE',
    r.label,
    `key column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')} not found (columns: ${shown || 'none'})`,
    { where: r.headerFirst ? 'header' : undefined },
    KEY_HINT,
  );
}

function sameColumns(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

function sameHashing(a: [string, string][], b: [string, string][]): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(a);
  return b.every(([k, v]) => m.get(k) === v);
}

function clampPow2(n: number, min: number, max: number): number {
  let p = min;
  while (p < n && p < max) p *= 2;
  return p;
}

// ---------------------------------------------------------------- schema

interface Schema {
  change: SchemaChange;
  pairs: ColumnPair[];
}

/**
 * matchColumns pairs columns by name. A removed and an added column are a
 * rename instead when the evidence is strong, since a false rename shows
 * every row as modified: their values are the same multiset (equal content
 * hashes, nulls included), not all null, and neither has another such
 * candidate; with a key, each row must also hold the same value in both
 * (equal keyed hashes). Without a key, low-cardinality columns (at most
 * `categoryLimit` distinct values, such as flags and labels) never match:
 * equal multisets are too common among them to mean anything.
 */
function matchColumns(sb: ScanResult | null, sa: ScanResult | null, keyed: boolean, categoryLimit: number): Schema {
  const bCols = sb?.columns ?? [];
  const aCols = sa?.columns ?? [];
  const bSum = sb?.summaries ?? [];
  const aSum = sa?.summaries ?? [];
  const aIndex = new Map(aCols.map((c, i) => [c, i]));
  const bIndex = new Map(bCols.map((c, i) => [c, i]));
  const pairs: ColumnPair[] = [];
  const removed: number[] = [];
  for (let b = 0; b < bCols.length; b++) {
    const a = aIndex.get(bCols[b]);
    if (a === undefined) removed.push(b);
    else pairs.push({ before: bCols[b], after: bCols[b], b, a });
  }
  const added = aCols.map((_, a) => a).filter((a) => !bIndex.has(aCols[a]));
  const usable = (s: ColumnSummary | undefined): s is ColumnSummary =>
    s !== undefined && s.nonNull > 0 && !(s.contentLo === 0 && s.contentHi === 0) && (keyed || s.categories === null || s.categories.length > categoryLimit);
  const alike = (x: ColumnSummary, y: ColumnSummary): boolean =>
    x.contentLo === y.contentLo && x.contentHi === y.contentHi && (!keyed || (x.keyedLo === y.keyedLo && x.keyedHi === y.keyedHi));
  const candidates = removed.map((b) => {
    const sB = bSum[b];
    return usable(sB) ? added.filter((a) => usable(aSum[a]) && alike(sB, aSum[a])) : [];
  });
  const matchesOfAdded = new Map<number, number>();
  for (const list of candidates) for (const a of list) matchesOfAdded.set(a, (matchesOfAdded.get(a) ?? 0) + 1);
  const renamed: { from: string; to: string }[] = [];
  const taken = new Set<number>();
  const kept: number[] = [];
  removed.forEach((b, i) => {
    const list = candidates[i];
    if (list.length !== 1 || matchesOfAdded.get(list[0]) !== 1) return void kept.push(b);
    const a = list[0];
    taken.add(a);
    renamed.push({ from: bCols[b], to: aCols[a] });
    pairs.push({ before: bCols[b], after: aCols[a], b, a });
  });
  const typeOf = (s: ColumnSummary | undefined): ColumnType => (s ? typeOfKinds(s.kinds) : 'null');
  const typeChanged: SchemaChange['typeChanged'] = [];
  for (const p of pairs) {
    const tb = typeOf(bSum[p.b]);
    const ta = typeOf(aSum[p.a]);
    if (tb !== ta) typeChanged.push({ name: p.after, before: tb, after: ta });
  }
  return {
    pairs,
    change: {
      added: added.filter((a) => !taken.has(a)).map((a) => ({ name: aCols[a], type: typeOf(aSum[a]) })),
      removed: kept.map((b) => ({ name: bCols[b], type: typeOf(bSum[b]) })),
      renamed,
      typeChanged,
    },
  };
}

// ---------------------------------------------------------------- comparison

interface Compared {
  added: number;
  removed: number;
  modified: number;
  unchanged: number;
  /** By pair index. */
  changedCells: number[];
  rowChanges: RowChange[];
  truncated: boolean;
}

const EMPTY = new Uint32Array(0);

function emptySnapshot(layout: IndexLayout): IndexSnapshot {
  return { layout, memory: Array.from({ length: layout.parts }, () => EMPTY), spilled: new Array<number>(layout.parts).fill(0), entries: 0 };
}

/**
 * compareSides walks the partitions of both row indexes, counts the row
 * changes, reads modified rows back (in batches, in file order) to count
 * changed cells per column, and reads the listed rows.
 */
async function compareSides(
  sb: ScanResult | null,
  sa: ScanResult | null,
  rb: TableReader | null,
  ra: TableReader | null,
  key: string[] | null,
  pairs: ColumnPair[],
  options: TableDiffOptions,
  budget: number,
  emptyLayout: IndexLayout,
  sides: SidesContext,
): Promise<Compared> {
  const ib = sb?.index ?? emptySnapshot(sa ? sa.index.layout : emptyLayout);
  const ia = sa?.index ?? emptySnapshot(sb ? sb.index.layout : emptyLayout);
  const limit = options.rows ? (options.limit ?? DEFAULT_LIMIT) : 0;
  const out: Compared = { added: 0, removed: 0, modified: 0, unchanged: 0, changedCells: pairs.map(() => 0), rowChanges: [], truncated: false };
  const listed = new ListedChanges(limit);
  const modifiedBatch = new ModifiedBatch(Math.max(1024, Math.floor(budget / 4 / (48 + pairs.length * 8))));
  const dups: { before: [number, number, number, number] | null; after: [number, number, number, number] | null } = { before: null, after: null };
  const W = ENTRY_WORDS;
  for (let p = 0; p < ib.layout.parts; p++) {
    const eb = loadPartition(ib, p);
    const ea = loadPartition(ia, p);
    if (eb.length === 0 && ea.length === 0) continue;
    comparePartition(eb, ea, key !== null, {
      added(a) {
        out.added++;
        listed.offer('added', 0, 0, ea[a * W + 4], entryPosition(ea, a));
      },
      removed(b) {
        out.removed++;
        listed.offer('removed', eb[b * W + 4], entryPosition(eb, b), 0, 0);
      },
      modified(b, a) {
        out.modified++;
        const rowB = eb[b * W + 4];
        const posB = entryPosition(eb, b);
        const rowA = ea[a * W + 4];
        const posA = entryPosition(ea, a);
        listed.offer('modified', rowB, posB, rowA, posA);
        modifiedBatch.push(rowB, posB, rowA, posA);
      },
      unchanged(n) {
        out.unchanged += n;
      },
      duplicate(side, first, second) {
        const e = side === 'before' ? eb : ea;
        const r1 = e[first * W + 4];
        const r2 = e[second * W + 4];
        const cur = dups[side];
        const lo = Math.min(r1, r2);
        const hi = Math.max(r1, r2);
        if (!cur || hi < cur[1]) {
          const posLo = r1 < r2 ? entryPosition(e, first) : entryPosition(e, second);
          const posHi = r1 < r2 ? entryPosition(e, second) : entryPosition(e, first);
          dups[side] = [lo, hi, posLo, posHi];
        }
      },
    });
    // Reading rows back is wasted once the keys are known not to be unique.
    if (!dups.before && !dups.after && modifiedBatch.full()) await countChangedCells(modifiedBatch, rb!, ra!, pairs, out, sides);
  }
  for (const side of ['before', 'after'] as const) {
    const d = dups[side];
    if (d) await throwDuplicate(side === 'before' ? rb! : ra!, key!, d);
  }
  if (modifiedBatch.size() > 0) await countChangedCells(modifiedBatch, rb!, ra!, pairs, out, sides);
  const chosen = listed.result();
  out.truncated = listed.total > chosen.length;
  if (limit > 0) out.rowChanges = await readListed(chosen, rb, ra, key, pairs);
  return out;
}

async function throwDuplicate(r: TableReader, key: string[], d: [number, number, number, number]): Promise<never> {
  const [rowLo, rowHi, posLo, posHi] = d;
  const values: unknown[][] = [];
  await r.fetch(
    [
      { position: posLo, row: rowLo },
      { position: posHi, row: rowHi },
    ].sort((x, y) => x.position - y.position),
    (_i, v) => values.push(v),
  );
  const keyText = key.map((k) => `${k}=${JSON.stringify(jsonSafe(values[0]?.[r.columns.indexOf(k)] ?? null))}`).join(', ');
  throw new TableError('USAGE', r.label, `key ${keyText} is not unique: rows ${rowLo} and ${rowHi} both have it`, { row: rowHi }, `rows must have unique keys to be matched; ${KEY_HINT}`);
}

/** ModifiedBatch holds the positions of modified rows until their cells are compared. */
class ModifiedBatch {
  rowB: number[] = [];
  posB: number[] = [];
  rowA: number[] = [];
  posA: number[] = [];
  constructor(private readonly cap: number) {}
  push(rowB: number, posB: number, rowA: number, posA: number): void {
    this.rowB.push(rowB);
    this.posB.push(posB);
    this.rowA.push(rowA);
    this.posA.push(posA);
  }
  size(): number {
    return this.rowB.length;
  }
  full(): boolean {
    return this.rowB.length >= this.cap;
  }
  clear(): void {
    this.rowB = [];
    this.posB = [];
    this.rowA = [];
    this.posA = [];
  }
}

/** SidesContext is what reading rows again on worker threads needs to know of the two sides. */
interface SidesContext {
  format: TableFormat;
  inputs: [TableInput | null, TableInput | null];
  scans: [ScanResult | null, ScanResult | null];
  parallel: boolean;
}

/** Below this many modified rows, reading them again stays inline: starting workers costs more. */
const PARALLEL_MIN_MODIFIED = 2048;

/**
 * countChangedCells reads the batch's rows on both sides, each side in file
 * order (the two sides at once on worker threads when the scans ran there),
 * and counts per column the cells that differ. A row whose cells all agree
 * after all (same values, different quoting) is moved from modified to
 * unchanged.
 */
async function countChangedCells(batch: ModifiedBatch, rb: TableReader, ra: TableReader, pairs: ColumnPair[], out: Compared, sides: SidesContext): Promise<void> {
  const m = batch.size();
  const np = pairs.length;
  const [inB, inA] = sides.inputs;
  const [scanB, scanA] = sides.scans;
  if (scanB?.cells && scanA?.cells) {
    // The scans kept each cell's hash: compare those instead of reading the rows again (in row order).
    const byRowB = sortedBy(batch.rowB);
    const byRowA = sortedBy(batch.rowA);
    const hb = readCellHashes(scanB.cells, batch.rowB, byRowB, pairs.map((p) => p.b));
    const ha = readCellHashes(scanA.cells, batch.rowA, byRowA, pairs.map((p) => p.a));
    tallyCells(hb, ha, 1, byRowB, byRowA, np, out);
    batch.clear();
    return;
  }
  const orderB = sortedBy(batch.posB);
  const orderA = sortedBy(batch.posA);
  const job = (input: TableInput, scan: ScanResult, order: number[], pos: number[], row: number[], hashed: number[]): CellJob => ({
    format: sides.format,
    input,
    columns: scan.columns,
    rows: scan.rows,
    wanted: order.map((i) => ({ position: pos[i], row: row[i] })),
    hashed,
  });
  const parallel = sides.parallel && m >= PARALLEL_MIN_MODIFIED && inB !== null && inA !== null && scanB !== null && scanA !== null;
  const [hb, ha] = await runCellJobs(
    [
      job(inB!, scanB!, orderB, batch.posB, batch.rowB, pairs.map((p) => p.b)),
      job(inA!, scanA!, orderA, batch.posA, batch.rowA, pairs.map((p) => p.a)),
    ],
    [rb, ra],
    parallel,
  );
  tallyCells(hb, ha, 2, orderB, orderA, np, out);
  batch.clear();
}

/**
 * tallyCells counts the changed cells of modified rows from their cell
 * hashes (`lanes` words per cell, rows in each side's reading order `orderB`
 * and `orderA`), and moves rows whose cells all agree to unchanged.
 */
function tallyCells(hb: Uint32Array, ha: Uint32Array, lanes: 1 | 2, orderB: number[], orderA: number[], np: number, out: Compared): void {
  const m = orderB.length;
  // Where each modified row landed in the after side's reading order.
  const atA = new Int32Array(m);
  for (let k = 0; k < m; k++) atA[orderA[k]] = k;
  const w = lanes * np;
  for (let k = 0; k < m; k++) {
    const b = k * w;
    const a = atA[orderB[k]] * w;
    let differ = 0;
    for (let j = 0; j < np; j++) {
      const x = lanes * j;
      if (hb[b + x] !== ha[a + x] || (lanes === 2 && hb[b + x + 1] !== ha[a + x + 1])) {
        out.changedCells[j]++;
        differ++;
      }
    }
    if (differ === 0) {
      out.modified--;
      out.unchanged++;
    }
  }
}

function sortedBy(keys: number[]): number[] {
  return keys.map((_, i) => i).sort((x, y) => keys[x] - keys[y]);
}

/** ListedChanges keeps the first `limit` changes in file order (after-side row, else before-side row). */
class ListedChanges {
  private items: (Change & { order: number })[] = [];
  total = 0;
  constructor(private readonly limit: number) {}
  offer(kind: Change['kind'], rowB: number, posB: number, rowA: number, posA: number): void {
    this.total++;
    if (this.limit === 0) return;
    this.items.push({ kind, rowB, posB, rowA, posA, order: kind === 'removed' ? rowB : rowA });
    if (this.items.length >= Math.max(4 * this.limit, 64)) this.trim();
  }
  private trim(): void {
    this.items.sort((x, y) => x.order - y.order || x.rowB - y.rowB);
    this.items.length = Math.min(this.items.length, this.limit);
  }
  result(): Change[] {
    this.trim();
    return this.items;
  }
}

/** readListed reads the values of the listed changes and builds their RowChange entries. */
async function readListed(chosen: Change[], rb: TableReader | null, ra: TableReader | null, key: string[] | null, pairs: ColumnPair[]): Promise<RowChange[]> {
  const valuesB = new Map<number, unknown[]>();
  const valuesA = new Map<number, unknown[]>();
  const fetchSide = async (r: TableReader | null, want: WantedRow[], into: Map<number, unknown[]>) => {
    if (!r || want.length === 0) return;
    want.sort((x, y) => x.position - y.position);
    await r.fetch(want, (i, v) => into.set(want[i].row, v));
  };
  await fetchSide(
    rb,
    chosen.filter((c) => c.kind !== 'added').map((c) => ({ position: c.posB, row: c.rowB })),
    valuesB,
  );
  await fetchSide(
    ra,
    chosen.filter((c) => c.kind !== 'removed').map((c) => ({ position: c.posA, row: c.rowA })),
    valuesA,
  );
  const asObject = (r: TableReader, v: unknown[]): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    r.columns.forEach((c, i) => (o[c] = jsonSafe(v[i])));
    return o;
  };
  const out: RowChange[] = [];
  for (const c of chosen) {
    const vb = c.kind !== 'added' ? valuesB.get(c.rowB) : undefined;
    const va = c.kind !== 'removed' ? valuesA.get(c.rowA) : undefined;
    const change: RowChange = { kind: c.kind, key: null };
    if (key) {
      const r = va ? ra! : rb!;
      const v = va ?? vb ?? [];
      change.key = Object.fromEntries(key.map((k) => [k, jsonSafe(v[r.columns.indexOf(k)])]));
    }
    if (vb) {
      change.rowBefore = c.rowB;
      change.before = asObject(rb!, vb);
    }
    if (va) {
      change.rowAfter = c.rowA;
      change.after = asObject(ra!, va);
    }
    if (c.kind === 'modified' && vb && va) {
      change.changedColumns = pairs.filter((p) => !sameCell(vb[p.b], va[p.a])).map((p) => p.after);
      // Equal cells after all (only the quoting differed): not a change to list.
      if (change.changedColumns.length === 0) continue;
    }
    out.push(change);
  }
  return out;
}

function sameCell(x: unknown, y: unknown): boolean {
  if (isEmpty(x) || isEmpty(y)) return isEmpty(x) && isEmpty(y);
  return canonicalText(x) === canonicalText(y);
}

// ---------------------------------------------------------------- columns

function sideOf(s: ColumnSummary | undefined, rows: number): ColumnSide | null {
  if (!s) return null;
  const type = typeOfKinds(s.kinds);
  const side: ColumnSide = { type, nulls: rows - s.nonNull };
  if ((type === 'integer' || type === 'number') && s.numCount > 0) side.numeric = { count: s.numCount, min: s.min, max: s.max, mean: s.sum / s.numCount };
  return side;
}

function sameSide(x: ColumnSide | null, y: ColumnSide | null): boolean {
  if (!x || !y) return x === y;
  if (x.type !== y.type || x.nulls !== y.nulls) return false;
  const nx = x.numeric;
  const ny = y.numeric;
  if (!nx || !ny) return nx === ny;
  return nx.count === ny.count && nx.min === ny.min && nx.max === ny.max && closeMeans(nx.mean, ny.mean);
}

/**
 * closeMeans: equal up to a relative 1e-12. Floating-point sums depend on the
 * order of their terms (compensated summation narrows that, it does not
 * close it), and reordered rows are no change.
 */
function closeMeans(x: number, y: number): boolean {
  if (x === y) return true;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
}

function compareValues(x: string, y: string): number {
  const nx = Number(x);
  const ny = Number(y);
  if (x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny) && nx !== ny) return nx - ny;
  return x < y ? -1 : x > y ? 1 : 0;
}

function categoriesOf(sb: ColumnSummary | undefined, sa: ColumnSummary | undefined, rowsB: number, rowsA: number, limit: number): CategoryShare[] | undefined {
  if ((sb && !sb.categories) || (sa && !sa.categories)) return undefined;
  const cb = new Map(sb?.categories ?? []);
  const ca = new Map(sa?.categories ?? []);
  if (cb.size > limit || ca.size > limit || (cb.size === 0 && ca.size === 0)) return undefined;
  const values = [...new Set([...cb.keys(), ...ca.keys()])].sort(compareValues);
  return values.map((value) => {
    const before = cb.get(value) ?? 0;
    const after = ca.get(value) ?? 0;
    return { value, before, after, shareBefore: rowsB > 0 ? before / rowsB : 0, shareAfter: rowsA > 0 ? after / rowsA : 0 };
  });
}

/** columnShifts lists the columns that changed in schema, in cells or in their statistics. */
function columnShifts(sb: ScanResult | null, sa: ScanResult | null, schema: Schema, changedCells: number[], limit: number): ColumnShift[] {
  const rowsB = sb?.rows ?? 0;
  const rowsA = sa?.rows ?? 0;
  const bSum = sb?.summaries ?? [];
  const aSum = sa?.summaries ?? [];
  const renamedTo = new Map(schema.change.renamed.map((r) => [r.to, r.from]));
  const typeChanged = new Set(schema.change.typeChanged.map((t) => t.name));
  const pairByAfter = new Map(schema.pairs.map((p, i) => [p.after, i]));
  const out: ColumnShift[] = [];
  const build = (name: string, b: ColumnSummary | undefined, a: ColumnSummary | undefined, cells: number, forced: boolean, renamedFrom?: string) => {
    const before = sideOf(b, rowsB);
    const after = sideOf(a, rowsA);
    const categories = categoriesOf(b, a, rowsB, rowsA, limit);
    const shifted = categories?.some((c) => c.before !== c.after) ?? false;
    if (!forced && cells === 0 && sameSide(before, after) && !shifted) return;
    const shift: ColumnShift = { name, before, after, changedCells: cells };
    if (renamedFrom !== undefined) shift.renamedFrom = renamedFrom;
    if (categories) shift.categories = categories;
    out.push(shift);
  };
  for (let a = 0; a < (sa?.columns.length ?? 0); a++) {
    const name = sa!.columns[a];
    const pi = pairByAfter.get(name);
    if (pi === undefined) {
      build(name, undefined, aSum[a], 0, true);
      continue;
    }
    const p = schema.pairs[pi];
    const from = renamedTo.get(name);
    build(name, bSum[p.b], aSum[a], changedCells[pi], from !== undefined || typeChanged.has(name), from);
  }
  const paired = new Set(schema.pairs.map((p) => p.b));
  for (let b = 0; b < (sb?.columns.length ?? 0); b++) if (!paired.has(b)) build(sb!.columns[b], bSum[b], undefined, 0, true);
  return out;
}
