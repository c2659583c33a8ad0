// bench section 10: the cost of the data contract (`lode check`, and a commit that touches no table).

import { QUICK } from '../lib/options.js';
import { fmt, table } from '../lib/report.js';

/**
 * governanceSection profiles the bench CSV as `lode check` does (beside the
 * keyed diff of two versions of it, in the same run) and measures the added
 * cost of a commit that touches no table under a contract covering a big
 * one (bench/governance.js). Returns the results and target rows.
 */
export async function governanceSection(benchDir) {
  const { benchGovernance } = await import('../governance.js');
  const r = await benchGovernance({ quick: QUICK, tmp: benchDir });
  const mb = fmt(r.csvBytes / 1e6, 0);
  table(
    `10. data contract: table profile of a ${mb} MB CSV (child processes, peak RSS each)`,
    ['work', 's', 'MB/s', 'peak RSS'],
    [
      ['diff of two versions, key id (per side)', fmt(r.diff.seconds, 2), fmt(r.diff.mbPerSecPerSide, 1), `${r.diff.peakRssMiB} MiB`],
      ['check: types, nulls, ranges, labels, unique id', fmt(r.check.seconds, 2), fmt(r.check.mbPerSec, 1), `${r.check.peakRssMiB} MiB`],
      ['check + numeric sample (PSI/KS)', fmt(r.checkWithSample.seconds, 2), fmt(r.checkWithSample.mbPerSec, 1), `${r.checkWithSample.peakRssMiB} MiB`],
    ],
  );
  const c = r.commit;
  table(
    '10. data contract: commit that touches no table (contract over a 100 MB table)',
    ['measure', 'ms'],
    [
      ['first commit (profiles the table)', fmt(c.firstMs, 0)],
      ['commit, contract present (CLI median of 5)', fmt(c.withMs, 0)],
      ['commit, no contract (CLI median of 5)', fmt(c.withoutMs, 0)],
      ['contract evaluation alone, warm cache (median of 20)', fmt(c.evaluateMs, 2)],
      ['the same in a fresh process, modules loaded (median of 3)', fmt(c.coldMs, 1)],
    ],
  );
  const targets = [{ metric: 'contract cost of a commit touching no table (ms, fresh process)', value: c.coldMs, shown: fmt(c.coldMs, 1), target: '< 10', pass: c.coldMs < 10 }];
  return { ...r, targets };
}
