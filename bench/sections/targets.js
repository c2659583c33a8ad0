// bench targets: each measured value against its target, pass / FAIL / n/a.

import { NO_REMOTE, SIZES, TARGETS } from '../lib/options.js';
import { fmib, fms, fmt, fpct, fx, table } from '../lib/report.js';

export async function targetsSection(ctx) {
  const { res, bRatio, addB, co, xfs } = ctx;
  // Targets.
  const t = [...(res.diff?.targets ?? [])];
  const row = (metric, value, shown, target, pass) => t.push({ metric, value, shown, target, pass });
  row('no-op status, median (ms)', res.status.noopMedianMs, fms(res.status.noopMedianMs), `< ${TARGETS.statusNoopMs} ms`, res.status.noopMedianMs < TARGETS.statusNoopMs);
  row('no-op status after the touch re-validation (ms)', res.status.nextNoopMs, fms(res.status.nextNoopMs), `< ${TARGETS.statusNoopMs} ms`, res.status.nextNoopMs < TARGETS.statusNoopMs);
  row('add B / SHA-256 2-thread ceiling', bRatio, fpct(bRatio), `>= ${TARGETS.addBShaRatio * 100}%`, bRatio >= TARGETS.addBShaRatio);
  row('add B peak RSS (MiB)', addB.rssKiB === null ? null : addB.rssKiB / 1024, fmib(addB.rssKiB), `< ${TARGETS.addBRssMiB} MiB`, addB.rssKiB === null ? null : addB.rssKiB / 1024 < TARGETS.addBRssMiB);
  // Reflink B against copy B on the same filesystem (the XFS copy rows when reflink ran there).
  const targetNotes = [];
  {
    const rB = co.reflink?.B ?? null;
    const cB = xfs?.copy?.B ?? co.copy?.B ?? null;
    const where = xfs?.copy?.B ? 'copy B on XFS' : 'copy B';
    const limit = TARGETS.reflinkBToCopyB;
    const target = `< ${fmt(limit * 100)}% of ${where}${cB ? ` (< ${fms(cB.ms * limit)} ms)` : ''}`;
    if (!rB || !cB) {
      row('checkout B by reflink (ms)', null, 'n/a', target, null);
      targetNotes.push(`checkout B by reflink: n/a: ${xfs?.reason ?? 'not measured'}`);
    } else {
      const allReflink = (rB.methods.reflink ?? 0) === SIZES.bFiles;
      row('checkout B by reflink (ms)', rB.ms, `${fms(rB.ms)} (${fpct(rB.ms / cB.ms)})`, target, allReflink && rB.ms < cB.ms * limit);
      if (!allReflink) targetNotes.push(`checkout B by reflink: FAIL because it placed ${JSON.stringify(rB.methods)}, not ${SIZES.bFiles} reflinks`);
    }
  }
  {
    const R = res.remotes ?? {};
    const why = NO_REMOTE ? 'skipped (--no-remote)' : R.error ? `section failed: ${R.error}` : null;
    const eds = Object.entries(R.edit ?? {});
    const worst = eds.length ? Math.max(...eds.map(([, e]) => e.push.ratioToFile)) : null;
    row('1 MiB edit push / file size', worst, eds.length ? eds.map(([k, e]) => `${fmt(e.push.ratioToFile * 100, 2)}% (${k})`).join(', ') : 'n/a', `< ${TARGETS.editPushRatio * 100}%`, worst === null ? null : worst < TARGETS.editPushRatio);
    if (!eds.length) targetNotes.push(`1 MiB edit push: n/a: ${why ?? 'not measured'}`);
    const dvcWhy = why ?? R.dvc?.reason ?? (R.dvc?.runs?.A?.error ? `DVC failed: ${R.dvc.runs.A.error}` : null);
    for (const kind of ['dir', 's3']) {
      for (const [step, lodeKey] of [['push', 'pushA'], ['pull', 'cloneA']]) {
        const l = R.kinds?.[kind]?.[lodeKey];
        const x = R.dvc?.runs?.A?.[kind]?.[step];
        let value = null;
        let shown = 'n/a';
        let pass = null;
        if (l && x && !x.failed) {
          value = x.ms / l.ms;
          shown = fx(value, x.timedOut);
          pass = value >= TARGETS.lodeVsDvc ? true : x.timedOut ? null : false;
        } else {
          const reason = dvcWhy ?? R.kinds?.[kind]?.reason ?? R.dvc?.runs?.A?.[kind]?.reason ?? x?.note ?? 'not measured';
          targetNotes.push(`${step} A: lode vs dvc (${kind}): n/a: ${reason}`);
        }
        row(`${step} A: lode vs dvc (${kind})`, value, shown, `>= ${TARGETS.lodeVsDvc}x`, pass);
      }
    }
  }
  res.targets = t;
  table('targets', ['metric', 'value', 'target', 'result'], t.map((r) => [r.metric, r.shown, r.target, r.pass === null ? 'n/a' : r.pass ? 'pass' : 'FAIL']), targetNotes);
}
