// bench section 5: commits, and the one-file change that section 6 switches across.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { SIZES } from '../lib/options.js';
import { fmib, fms, fmt, log, table, warn } from '../lib/report.js';
import { fother, lode, waitIdle } from '../lib/measure.js';

export async function commitSection(ctx) {
  const { repo, aPaths, c1, commitA, commitB, res } = ctx;
  // 5. commit (A), plus an incremental add/commit that 6. switches across.
  await waitIdle('switch');
  log('one-file change: add + commit, then switch');
  const changed = aPaths[Math.floor(aPaths.length / 2)];
  fs.writeFileSync(changed, randomBytes(SIZES.aFileSize));
  const addOne = await lode(repo, ['add', 'a']);
  if (addOne.json.modified !== 1) warn(`incremental add reported ${addOne.json.modified} modified, expected 1`);
  const commitOne = await lode(repo, ['commit', '-m', 'one file']);
  const c2 = commitOne.json.id;
  const swBack = await lode(repo, ['checkout', c1]);
  if (swBack.json.written !== 1) warn(`switch to v1 wrote ${swBack.json.written} files, expected 1`);
  const swFwd = await lode(repo, ['checkout', 'main']);
  if (swFwd.json.written !== 1) warn(`switch to main wrote ${swFwd.json.written} files, expected 1`);
  res.commit = {
    commitAms: commitA.ms,
    commitBms: commitB.ms,
    addOneMs: addOne.ms,
    commitOneMs: commitOne.ms,
  };
  res.switch = { toV1Ms: swBack.ms, toMainMs: swFwd.ms, written: [swBack.json.written, swFwd.json.written], c1, c2 };
  table('5. commit', ['step', 'ms', 'peak RSS MiB', 'other CPU', 'note'], [
    [`commit A (${fmt(SIZES.aFiles)} files)`, fms(commitA.ms), fmib(commitA.rssKiB), fother(commitA), 'first commit: builds and stores all trees'],
    [`commit B (+${SIZES.bFiles} files)`, fms(commitB.ms), fmib(commitB.rssKiB), fother(commitB), ''],
    ['add a/ after a 1-file edit', fms(addOne.ms), fmib(addOne.rssKiB), fother(addOne), `re-stage: ${addOne.json.modified} modified, ${fmt(addOne.json.unchanged)} unchanged`],
    ['commit of the 1-file edit', fms(commitOne.ms), fmib(commitOne.rssKiB), fother(commitOne), ''],
  ]);
  return { swBack, swFwd };
}
