// bench section 3: init + add of A and B (and their commits, reported in 5).

import { MiB, SIZES } from '../lib/options.js';
import { fmib, fms, fmt, fpct, log, table, warn } from '../lib/report.js';
import { cpuPct, fother, lode, mbps, waitIdle } from '../lib/measure.js';
import { createProbe, warm } from '../lib/workloads.js';

export async function addSection(ctx) {
  const { repo, aDir, bPaths, benchDir, aBytes, bBytes, noteDisk, res, sha1, sha2, ceil } = ctx;
  // 3. init + add, 5. commit.
  await waitIdle('add');
  log('init + add A');
  const init = await lode(repo, ['init']);
  warm([aDir]);
  const probeAddA = createProbe(benchDir);
  const addA = await lode(repo, ['add', 'a']);
  if (addA.json.added !== SIZES.aFiles) warn(`add A reported ${addA.json.added} added, expected ${SIZES.aFiles}`);
  log('commit A');
  const commitA = await lode(repo, ['commit', '-m', 'A']);
  await waitIdle('add B');
  log('add B');
  warm(bPaths);
  const addB = await lode(repo, ['add', 'b']);
  if (addB.json.added !== SIZES.bFiles) warn(`add B reported ${addB.json.added} added, expected ${SIZES.bFiles}`);
  log('commit B');
  const commitB = await lode(repo, ['commit', '-m', 'B']);
  const c1 = commitB.json.id;
  noteDisk();
  const bRatio = mbps(bBytes, addB.ms) / sha2;
  res.add = {
    initMs: init.ms,
    a: { ms: addA.ms, filesPerS: SIZES.aFiles / (addA.ms / 1000), MBps: mbps(aBytes, addA.ms), rssKiB: addA.rssKiB, cpuPct: cpuPct(addA), otherCores: addA.otherCores, createProbeUs: probeAddA },
    b: { ms: addB.ms, MBps: mbps(bBytes, addB.ms), ratioToSha2: bRatio, ratioToSha1: mbps(bBytes, addB.ms) / sha1, rssKiB: addB.rssKiB, cpuPct: cpuPct(addB), otherCores: addB.otherCores },
    commitA: { ms: commitA.ms, rssKiB: commitA.rssKiB, files: commitA.json.files },
    commitB: { ms: commitB.ms, rssKiB: commitB.rssKiB, files: commitB.json.files },
  };
  res.add.b.ratioToPipeline2 = res.add.b.MBps / ceil.addPipeline_2threads_MBps;
  table('3. add (init + add, cold repository, warm page cache)', ['step', 'ms', 'files/s', 'MB/s', 'vs SHA-256 2 thr', 'vs pipeline 2 thr', 'peak RSS MiB', 'CPU', 'other CPU'], [
    ['lode init', fms(init.ms), '-', '-', '-', '-', fmib(init.rssKiB), fpct(cpuPct(init)), fother(init)],
    [`add A (${fmt(SIZES.aFiles)} x 4 KiB)`, fms(addA.ms), fmt(res.add.a.filesPerS), fmt(res.add.a.MBps), fpct(res.add.a.MBps / sha2), '-', fmib(addA.rssKiB), fpct(cpuPct(addA)), fother(addA)],
    [`add B (${SIZES.bFiles} x ${SIZES.bFileSize / MiB} MiB)`, fms(addB.ms), fmt(SIZES.bFiles / (addB.ms / 1000), 1), fmt(res.add.b.MBps), fpct(bRatio), fpct(res.add.b.ratioToPipeline2), fmib(addB.rssKiB), fpct(cpuPct(addB)), fother(addB)],
  ], [
    'CPU = (user + sys) / wall of the lode process; 200% = both cores busy. other CPU = cores other processes used meanwhile.',
    '"pipeline 2 thr" = the 2-thread add estimate from section 1.',
    `fs create probe just before add A: ${fmt(probeAddA)} µs per new 4 KiB file (1 thread); add A creates ${fmt(SIZES.aFiles)} cache files.`,
  ]);
  return { addB, commitA, commitB, c1, bRatio };
}
