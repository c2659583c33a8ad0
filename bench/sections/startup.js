// bench section 2: start-up of node and of `lode --version`.

import { BIN, NODE, SIZES } from '../lib/options.js';
import { fmib, fms, log, table } from '../lib/report.js';
import { median, runCmd, waitIdle } from '../lib/measure.js';

export async function startupSection(ctx) {
  const { res } = ctx;
  // 2. Start-up.
  await waitIdle('start-up');
  log('start-up: node -e 0 and lode --version');
  await runCmd(NODE, ['-e', '0'], { measureMem: false });
  await runCmd(NODE, [BIN, '--version'], { measureMem: false });
  const nodeMs = [];
  const verMs = [];
  for (let i = 0; i < SIZES.startupRuns; i++) {
    nodeMs.push((await runCmd(NODE, ['-e', '0'], { measureMem: false })).ms);
    verMs.push((await runCmd(NODE, [BIN, '--version'], { measureMem: false })).ms);
  }
  const verRss = (await runCmd(NODE, [BIN, '--version'])).rssKiB;
  res.startup = { nodeMedianMs: median(nodeMs), nodeMinMs: Math.min(...nodeMs), versionMedianMs: median(verMs), versionMinMs: Math.min(...verMs), versionRssKiB: verRss };
  table(`2. start-up (median of ${SIZES.startupRuns})`, ['command', 'median ms', 'min ms', 'peak RSS MiB'], [
    ['node -e 0 (floor)', fms(res.startup.nodeMedianMs), fms(res.startup.nodeMinMs), '-'],
    ['lode --version', fms(res.startup.versionMedianMs), fms(res.startup.versionMinMs), fmib(verRss)],
    ['lode --version minus floor', fms(res.startup.versionMedianMs - res.startup.nodeMedianMs), '-', '-'],
  ]);
}
