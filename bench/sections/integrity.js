// bench section 7: fsck (and gc --dry-run for reference).

import * as path from 'node:path';
import { MiB } from '../lib/options.js';
import { fmib, fms, fmt, fpct, log, table, warn } from '../lib/report.js';
import { cpuPct, fother, lode, mbps, waitIdle } from '../lib/measure.js';
import { warm } from '../lib/workloads.js';

export async function integritySection(ctx) {
  const { repo, res, sha1 } = ctx;
  // 7. fsck (+ gc --dry-run for reference).
  warm([path.join(repo, '.lode', 'cache')]);
  await waitIdle('fsck');
  log('fsck');
  const fsck = await lode(repo, ['fsck']);
  if (!fsck.json.ok) warn(`fsck found problems: ${JSON.stringify(fsck.json.problems).slice(0, 300)}`);
  const gcDry = await lode(repo, ['gc', '--dry-run']);
  res.fsck = { ms: fsck.ms, bytes: fsck.json.bytes, files: fsck.json.files, objects: fsck.json.objects, MBps: mbps(fsck.json.bytes, fsck.ms), rssKiB: fsck.rssKiB, cpuPct: cpuPct(fsck), otherCores: fsck.otherCores, ok: fsck.json.ok };
  res.gcDryRun = { ms: gcDry.ms, rssKiB: gcDry.rssKiB };
  table('7. integrity (A + B)', ['command', 'ms', 'MB/s', 'vs SHA-256 1 core', 'peak RSS MiB', 'CPU', 'other CPU', 'note'], [
    ['fsck', fms(fsck.ms), fmt(res.fsck.MBps), fpct(res.fsck.MBps / sha1), fmib(fsck.rssKiB), fpct(cpuPct(fsck)), fother(fsck), `${fmt(fsck.json.files)} cached files, ${fmt(fsck.json.objects)} objects, ${fmt(fsck.json.bytes / MiB)} MiB, ok=${fsck.json.ok}`],
    ['gc --dry-run', fms(gcDry.ms), '-', '-', fmib(gcDry.rssKiB), fpct(cpuPct(gcDry)), fother(gcDry), `would remove ${gcDry.json.filesRemoved} files, ${gcDry.json.objectsRemoved} objects`],
  ]);
}
