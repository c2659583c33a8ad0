import type { ColumnSummary } from './column-stats.js';
import type { ScanResult } from './scan.js';
import type { ColumnType, SchemaChange } from './types.js';
import { typeOfKinds } from './values.js';

/**
 * Schema matching for a table diff: which columns of the two sides are the
 * same column (by name, or renamed), and which were added, removed or
 * retyped.
 */

/** ColumnPair is a column present on both sides (a renamed column is one pair with two names). */
export interface ColumnPair {
  before: string;
  after: string;
  b: number;
  a: number;
}

/** Schema is how the sides' columns match: the pairs, and the change for the report. */
export interface Schema {
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
export function matchColumns(sb: ScanResult | null, sa: ScanResult | null, keyed: boolean, categoryLimit: number): Schema {
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
