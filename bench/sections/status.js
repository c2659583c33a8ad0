// bench section 4: status, no-op and after touching every file of A.

import * as fs from 'node:fs';
import { MiB, SIZES } from '../lib/options.js';
import { fmib, fms, fmt, fpct, log, table, warn } from '../lib/report.js';
import { cpuPct, fother, hr, lode, median, msSince, waitIdle } from '../lib/measure.js';
import { warm } from '../lib/workloads.js';

export async function statusSection(ctx) {
  const { repo, aDir, aPaths, aBytes, res } = ctx;
  // 4. status.
  await waitIdle('status');
  log('status');
  const statusFirst = await lode(repo, ['status']);
  if (!statusFirst.json.clean) warn('status after commit is not clean');
  const stMs = [];
  const stOther = [];
  let stRss = 0;
  for (let i = 0; i < SIZES.statusRuns; i++) {
    const r = await lode(repo, ['status']);
    if (!r.json.clean) warn('no-op status is not clean');
    stMs.push(r.ms);
    if (r.otherCores !== null) stOther.push(r.otherCores);
    stRss = Math.max(stRss, r.rssKiB ?? 0);
  }
  const tTouch = hr();
  warm([aDir]);
  // Like `touch`: mtime = now (a future mtime would make every entry racy, and rightly re-checked each time).
  const now = new Date();
  for (const p of aPaths) fs.utimesSync(p, now, now);
  const touchMs = msSince(tTouch);
  const statusTouched = await lode(repo, ['status']);
  if (!statusTouched.json.clean) warn('status after touch is not clean (bytes did not change)');
  const statusAfter = await lode(repo, ['status']);
  const statusAfter2 = await lode(repo, ['status']);
  res.status = {
    firstMs: statusFirst.ms,
    noopMedianMs: median(stMs),
    noopRunsMs: stMs,
    noopRssKiB: stRss || null,
    noopOtherCores: stOther.length ? median(stOther) : null,
    touchAllMs: touchMs,
    afterTouchMs: statusTouched.ms,
    afterTouchRssKiB: statusTouched.rssKiB,
    nextNoopMs: statusAfter.ms,
    nextNoop2Ms: statusAfter2.ms,
  };
  table(`4. status on A + B (${fmt(SIZES.aFiles + SIZES.bFiles)} tracked files)`, ['run', 'ms', 'peak RSS MiB', 'CPU', 'other CPU', 'note'], [
    ['first status after commit', fms(statusFirst.ms), fmib(statusFirst.rssKiB), fpct(cpuPct(statusFirst)), fother(statusFirst), ''],
    [`no-op status, median of ${SIZES.statusRuns}`, fms(res.status.noopMedianMs), fmib(res.status.noopRssKiB), '-', fother({ otherCores: res.status.noopOtherCores }), `runs: ${stMs.map(fms).join(', ')}`],
    [`status after touching all ${fmt(SIZES.aFiles)} A files`, fms(statusTouched.ms), fmib(statusTouched.rssKiB), fpct(cpuPct(statusTouched)), fother(statusTouched), `xxh64 re-validation of ${fmt(aBytes / MiB)} MiB`],
    ['next no-op status', fms(statusAfter.ms), fmib(statusAfter.rssKiB), fpct(cpuPct(statusAfter)), fother(statusAfter), 'should be as fast as a no-op again'],
    ['and the one after', fms(statusAfter2.ms), fmib(statusAfter2.rssKiB), fpct(cpuPct(statusAfter2)), fother(statusAfter2), ''],
  ]);
}
