// bench section 2: start-up of node, of `lode --version`, and of `lode --help`
// (the listing of every command, from the command table: no command module loads).

import { BIN, NODE, SIZES } from '../lib/options.js';
import { fmib, fms, log, table } from '../lib/report.js';
import { median, runCmd, waitIdle } from '../lib/measure.js';

export async function startupSection(ctx) {
  const { res } = ctx;
  // 2. Start-up.
  await waitIdle('start-up');
  log('start-up: node -e 0, lode --version, lode --help');
  await runCmd(NODE, ['-e', '0'], { measureMem: false });
  await runCmd(NODE, [BIN, '--version'], { measureMem: false });
  await runCmd(NODE, [BIN, '--help'], { measureMem: false });
  const nodeMs = [];
  const verMs = [];
  const helpMs = [];
  for (let i = 0; i < SIZES.startupRuns; i++) {
    nodeMs.push((await runCmd(NODE, ['-e', '0'], { measureMem: false })).ms);
    verMs.push((await runCmd(NODE, [BIN, '--version'], { measureMem: false })).ms);
    helpMs.push((await runCmd(NODE, [BIN, '--help'], { measureMem: false })).ms);
  }
  const verRss = (await runCmd(NODE, [BIN, '--version'])).rssKiB;
  const helpRss = (await runCmd(NODE, [BIN, '--help'])).rssKiB;
  res.startup = { nodeMedianMs: median(nodeMs), nodeMinMs: Math.min(...nodeMs), versionMedianMs: median(verMs), versionMinMs: Math.min(...verMs), versionRssKiB: verRss, helpMedianMs: median(helpMs), helpMinMs: Math.min(...helpMs), helpRssKiB: helpRss };
  table(`2. start-up (median of ${SIZES.startupRuns})`, ['command', 'median ms', 'min ms', 'peak RSS MiB'], [
    ['node -e 0 (floor)', fms(res.startup.nodeMedianMs), fms(res.startup.nodeMinMs), '-'],
    ['lode --version', fms(res.startup.versionMedianMs), fms(res.startup.versionMinMs), fmib(verRss)],
    ['lode --version minus floor', fms(res.startup.versionMedianMs - res.startup.nodeMedianMs), '-', '-'],
    ['lode --help (every command listed)', fms(res.startup.helpMedianMs), fms(res.startup.helpMinMs), fmib(helpRss)],
  ]);
}
