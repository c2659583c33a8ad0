import type { ColumnSummary } from './column-stats.js';
import type { ColumnPair } from './schema-match.js';

/**
 * Choosing a key for a table diff run without `--key`: when rows matched by
 * content come out as removed-and-added pairs, a column that identifies rows
 * on both sides turns them into modified rows.
 */

/** KeySide is what the scan of one side tells about its columns. */
export interface KeySide {
  rows: number;
  summaries: ColumnSummary[] | null;
}

/**
 * keyCandidate names the one column worth trying as a key, or null. It must
 * be on both sides under the same name, never null on either side, and not a
 * category (more distinct values than `categoryLimit` whenever a side has more
 * rows than that). Among those, a column named like an identifier (`id`, then
 * `…_id`/`…id`/`key`/`uuid`) is preferred, then the first column. The caller
 * still verifies that its values are unique on both sides (the keyed diff
 * refuses duplicate keys): these statistics can only rule a column out.
 */
export function keyCandidate(pairs: readonly ColumnPair[], sb: KeySide, sa: KeySide, categoryLimit: number): string | null {
  if (!sb.summaries || !sa.summaries || sb.rows === 0 || sa.rows === 0) return null;
  const ok = (s: ColumnSummary | undefined, rows: number) => s !== undefined && s.nonNull === rows && (s.categories === null || rows <= categoryLimit);
  const usable = pairs.filter((p) => p.before === p.after && ok(sb.summaries![p.b], sb.rows) && ok(sa.summaries![p.a], sa.rows));
  if (usable.length === 0) return null;
  const rank = (name: string): number => {
    const n = name.toLowerCase();
    if (n === 'id') return 0;
    if (/(^|[_\-. ])(id|uuid|key)$/.test(n) || /[a-z]Id$/.test(name) || n === 'uuid' || n === 'key') return 1;
    return 2;
  };
  const ordered = [...usable].sort((x, y) => rank(x.after) - rank(y.after) || x.b - y.b);
  // Without an identifier-like name only the first column is a plausible key.
  const best = ordered[0];
  if (rank(best.after) === 2 && best.b !== 0) return null;
  return best.after;
}
