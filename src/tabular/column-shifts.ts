import type { ColumnSummary } from './column-stats.js';
import type { ScanResult } from './scan.js';
import type { Schema } from './schema-match.js';
import type { CategoryShare, ColumnShift, ColumnSide } from './types.js';
import { typeOfKinds } from './values.js';

/**
 * Column shifts for a table diff: per column, what changed between the
 * sides' statistics (type, nulls, numeric summary, category shares) and how
 * many of its cells changed.
 */

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
export function columnShifts(sb: ScanResult | null, sa: ScanResult | null, schema: Schema, changedCells: number[], limit: number): ColumnShift[] {
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
