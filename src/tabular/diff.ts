import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../core/errors.js';
import { columnShifts } from './column-shifts.js';
import { KEY_HINT, TableError } from './errors.js';
import { capabilitiesOf, openReader } from './formats.js';
import { ENTRY_WORDS, ROW_ENTRY_WORDS, removePartitions, type IndexLayout } from './partitions.js';
import type { TableReader } from './reader.js';
import { compareSides, type SidesContext } from './row-compare.js';
import type { ScanConfig } from './scan.js';
import { runScans, workersAvailable } from './scan-threads.js';
import { matchColumns } from './schema-match.js';
import { keyCandidate } from './key-choice.js';
import type { TableDiff, TableDiffOptions, TableFormat, TableInput } from './types.js';

/**
 * The data-aware diff of one table file: plans the passes (how rows are
 * hashed, partition sizes, worker threads, cell hash files), runs the scans
 * of both sides (scan.ts), matches their columns (schema-match.ts), compares
 * their rows (row-compare.ts) and reports column shifts (column-shifts.ts).
 */

const MiB = 1 << 20;
const DEFAULT_BUDGET = 64 * MiB;
const DEFAULT_LIMIT = 20;
const DEFAULT_CATEGORY_LIMIT = 20;
/** Below this much input the scans run inline: starting workers costs more than it saves. */
const PARALLEL_MIN_BYTES = 32 * MiB;
/** Entries (both sides) of a partition whose comparison stays mostly in the CPU caches. */
const CACHED_ENTRIES = 256 * 1024;

/**
 * diffTable computes the data-aware diff of one table file between two sides.
 * `before === null` means the file was added (every row is added), `after ===
 * null` that it was deleted. Each side is read as a stream, twice at most,
 * plus reads of the changed rows; memory stays near `memoryBudget` whatever
 * the file size, with spill files under `options.tmpDir`, which the caller
 * creates and removes (this function removes what it put there).
 *
 * Without `options.key`, when rows matched by content come out as both
 * removed and added rows, one candidate key column (keyCandidate: on both
 * sides, never null, not a category) is tried with a second, keyed diff; it
 * is used (`keySource: 'auto'`) when its values are unique on both sides and
 * it pairs some rows as modified, else the content-matched diff is returned
 * with a `keyHint`. That second diff costs as much as the first.
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
  const read = new ReadProgress(options.progress, [before?.size ?? 0, after?.size ?? 0]);
  const first = await diffOnce(filePath, format, before, after, options, key, read);
  if (key) return { ...first.diff, keySource: 'option' };
  const d = first.diff;
  const pairs = d.rows.added > 0 && d.rows.removed > 0;
  if (!pairs || options.autoKey === false || first.candidate === null) return withHint(d);
  // Verify the candidate: the keyed diff refuses a key that is not unique on
  // either side. It is kept only when it pairs rows (some come out modified).
  try {
    const keyed = await diffOnce(filePath, format, before, after, options, [first.candidate], read);
    if (keyed.diff.rows.modified > 0) return { ...keyed.diff, keySource: 'auto' };
  } catch (e) {
    if (!(e instanceof TableError)) throw e;
  }
  return withHint(d);
}

/**
 * ReadProgress turns the progress of each pass of the scans (side, rows and
 * bytes read in that pass) into the diff's (TableDiffOptions.progress): rows
 * summed over every pass, bytes the most read of each side so far.
 */
class ReadProgress {
  private earlier = 0;
  private readonly pass = [0, 0];
  private readonly bytes = [0, 0];

  constructor(
    private readonly out: TableDiffOptions['progress'],
    private readonly sizes: [number, number],
  ) {}

  /** side is runScans' progress listener. */
  readonly side = (side: number, rows: number, read: number): void => {
    this.pass[side] = rows;
    this.bytes[side] = Math.max(this.bytes[side], Math.min(read, this.sizes[side]));
    if (!this.out) return;
    try {
      this.out({ rows: this.earlier + this.pass[0] + this.pass[1], bytes: this.bytes[0] + this.bytes[1] });
    } catch {
      // Progress is best effort.
    }
  };

  /** endPass keeps the rows of the pass that ended; the next starts from none. */
  endPass(): void {
    this.earlier += this.pass[0] + this.pass[1];
    this.pass[0] = 0;
    this.pass[1] = 0;
  }
}

/** withHint adds the hint to a content-matched diff whose removed and added rows may be edits of the same rows. */
function withHint(d: TableDiff): TableDiff {
  if (d.key !== null || d.rows.added === 0 || d.rows.removed === 0) return d;
  return { ...d, keyHint: 'rows are matched by content, so an edited row counts as removed and added: --key COLUMN matches rows by a column that identifies them' };
}

async function diffOnce(
  filePath: string,
  format: TableFormat,
  before: TableInput | null,
  after: TableInput | null,
  options: TableDiffOptions,
  key: string[] | null,
  read: ReadProgress,
): Promise<{ diff: TableDiff; candidate: string | null }> {
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

    const rowPositions = can.rowIndexPositions;
    const layout = (tag: string): IndexLayout => ({ parts, capacity, dir: work, tag, rowPositions });
    const entryBytes = 4 * (rowPositions ? ROW_ENTRY_WORDS : ENTRY_WORDS);
    const estimate = (rb?.estimateRows() ?? 0) + (ra?.estimateRows() ?? 0);
    // The comparison holds one partition of both sides plus its hash tables:
    // about 3 x its entries. Smaller partitions than the budget needs keep
    // its random lookups in the CPU caches (up to 256 partitions, as each
    // spill reopens its partition's file).
    const parts = clampPow2(Math.max(Math.ceil((estimate * entryBytes * 3) / budget), Math.min(256, Math.ceil(estimate / CACHED_ENTRIES))), 1, 4096);
    const capacity = Math.max(16, Math.floor(budget / 4 / parts / entryBytes));
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
      read.side,
    );
    read.endPass();
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
          read.side,
        );
        read.endPass();
        if (again[0]) sb = { ...sb, index: again[0].index };
        if (again[1]) sa = { ...sa, index: again[1].index };
      }
    }

    const sides: SidesContext = { format, inputs: [before, after], scans: [sb, sa], parallel };
    const limit = options.rows ? (options.limit ?? DEFAULT_LIMIT) : 0;
    const compared = await compareSides(sb, sa, rb, ra, key, schema.pairs, limit, budget, layout('empty'), sides);
    const candidate = key === null && sb && sa ? keyCandidate(schema.pairs, sb, sa, categoryLimit) : null;
    const common = schema.change.added.length + schema.change.removed.length > 0 && sb && sa ? { matchedOn: schema.pairs.map((p) => p.after) } : {};
    const diff: TableDiff = {
      path: filePath,
      format,
      key,
      ...(key === null ? common : {}),
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
    return { diff, candidate };
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
