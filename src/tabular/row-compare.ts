import { readCellHashes, type CellJob } from './cell-hashes.js';
import { KEY_HINT, TableError } from './errors.js';
import { comparePartition, entryPosition, entryWords, loadPartition, type IndexLayout, type IndexSnapshot } from './partitions.js';
import type { TableReader, WantedRow } from './reader.js';
import type { ScanResult } from './scan.js';
import { runCellJobs } from './scan-threads.js';
import type { ColumnPair } from './schema-match.js';
import type { RowChange, TableFormat, TableInput } from './types.js';
import { canonicalText, isEmpty, jsonSafe } from './values.js';

/**
 * Row comparison for a table diff: the row indexes of both sides compared
 * partition by partition (rows added, removed, modified, unchanged), changed
 * cells counted per column pair, and the first changes read back for the
 * listing.
 */

/** Change is one row change found by the comparison, before its values are read. */
export interface Change {
  kind: 'added' | 'removed' | 'modified';
  rowB: number;
  posB: number;
  rowA: number;
  posA: number;
}

/** Compared is what compareSides found. */
export interface Compared {
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
 * changed cells per column, and reads the first `limit` changes' rows (none
 * when 0). Throws TableError (USAGE) when a side's keys are not unique.
 */
export async function compareSides(
  sb: ScanResult | null,
  sa: ScanResult | null,
  rb: TableReader | null,
  ra: TableReader | null,
  key: string[] | null,
  pairs: ColumnPair[],
  limit: number,
  budget: number,
  emptyLayout: IndexLayout,
  sides: SidesContext,
): Promise<Compared> {
  const ib = sb?.index ?? emptySnapshot(sa ? sa.index.layout : emptyLayout);
  const ia = sa?.index ?? emptySnapshot(sb ? sb.index.layout : emptyLayout);
  const out: Compared = { added: 0, removed: 0, modified: 0, unchanged: 0, changedCells: pairs.map(() => 0), rowChanges: [], truncated: false };
  const listed = new ListedChanges(limit);
  const modifiedBatch = new ModifiedBatch(Math.max(1024, Math.floor(budget / 4 / (48 + pairs.length * 8))));
  const dups: { before: [number, number, number, number] | null; after: [number, number, number, number] | null } = { before: null, after: null };
  // Both sides' indexes share one layout.
  const W = entryWords(ib.layout);
  for (let p = 0; p < ib.layout.parts; p++) {
    const eb = loadPartition(ib, p);
    const ea = loadPartition(ia, p);
    if (eb.length === 0 && ea.length === 0) continue;
    comparePartition(eb, ea, key !== null, {
      added(a) {
        out.added++;
        listed.offer('added', 0, 0, ea[a * W + 4], entryPosition(ea, a, W));
      },
      removed(b) {
        out.removed++;
        listed.offer('removed', eb[b * W + 4], entryPosition(eb, b, W), 0, 0);
      },
      modified(b, a) {
        out.modified++;
        const rowB = eb[b * W + 4];
        const posB = entryPosition(eb, b, W);
        const rowA = ea[a * W + 4];
        const posA = entryPosition(ea, a, W);
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
          const posLo = r1 < r2 ? entryPosition(e, first, W) : entryPosition(e, second, W);
          const posHi = r1 < r2 ? entryPosition(e, second, W) : entryPosition(e, first, W);
          dups[side] = [lo, hi, posLo, posHi];
        }
      },
    }, W);
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
export interface SidesContext {
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
