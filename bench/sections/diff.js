// bench section 9: the data-aware diff (table files, and diff --stat at scale).

import { QUICK, TARGETS } from '../lib/options.js';
import { fms, fmt, table } from '../lib/report.js';

/**
 * diffSection measures the data-aware diff: two versions of a big CSV and of
 * a Parquet file (1% of rows changed, keyed by id; bench/tabular.js), and
 * `lode diff --stat` on a million-file dataset against a thousand-file one
 * with the same 100 changes (bench/diffstat.js). Returns the results and
 * target rows.
 */
export async function diffSection(benchDir) {
  const { benchTabular } = await import('../tabular.js');
  const { benchDiffStat } = await import('../diffstat.js');
  const tables = await benchTabular({ quick: QUICK, tmp: benchDir });
  table(
    '9. data-aware diff: table files (diffTable alone, both sides read from local files)',
    ['workload', 's', 'MB/s per side', 'peak RSS', 'rows before', 'added', 'removed', 'modified'],
    tables.map((r) => [r.workload, fmt(r.seconds, 2), fmt(r.mbPerSecPerSide, 1), `${r.peakRssMiB} MiB`, fmt(r.rows.before), fmt(r.rows.added), fmt(r.rows.removed), fmt(r.rows.modified)]),
    [`targets: >= ${TARGETS.tableDiffMBps} MB/s of input per side, peak memory < ${TARGETS.tableDiffRssMiB} MiB`],
  );
  const stat = await benchDiffStat({ quick: QUICK, tmp: benchDir });
  table(
    '9. data-aware diff: `lode diff v1 v2 --stat --json`, 100 changed files (CLI, median of 5)',
    ['dataset', 'ms', 'changes', 'directory rows'],
    stat.map((r) => [r.dataset, fms(r.medianMs), fmt(r.changes), fmt(r.dirs)]),
    [`${fmt(stat[1].files / stat[0].files)}x the files cost ${fmt(stat[1].medianMs / stat[0].medianMs, 2)}x the time: unchanged subtrees are skipped by ID`],
  );
  const targets = [];
  for (const r of tables) {
    targets.push({ metric: `table diff MB/s per side: ${r.workload}`, value: r.mbPerSecPerSide, shown: fmt(r.mbPerSecPerSide, 1), target: `>= ${TARGETS.tableDiffMBps}`, pass: r.mbPerSecPerSide >= TARGETS.tableDiffMBps });
    targets.push({ metric: `table diff peak RSS (MiB): ${r.workload}`, value: r.peakRssMiB, shown: String(r.peakRssMiB), target: `< ${TARGETS.tableDiffRssMiB}`, pass: r.peakRssMiB < TARGETS.tableDiffRssMiB });
  }
  return { tables, stat, targets };
}
