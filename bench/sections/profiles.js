// bench --profile: CPU profiles of add B, add A and a no-op status.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROFILE } from '../lib/options.js';
import { log } from '../lib/report.js';
import { lode } from '../lib/measure.js';
import { markMassDelete } from '../lib/disk.js';
import { printProfiles, profiled } from '../lib/profile.js';

export async function profilesSection(ctx) {
  const { benchDir, repo, aDir, aPaths, bPaths, noteDisk, res } = ctx;
  // Optional CPU profiles.
  if (PROFILE) {
    log('profiling add B, add A, status');
    const repo2 = path.join(benchDir, 'repo2');
    fs.mkdirSync(path.join(repo2, 'b'), { recursive: true });
    // Hard links: the same bytes without another copy on disk.
    for (const p of bPaths) fs.linkSync(p, path.join(repo2, 'b', path.basename(p)));
    for (const p of aPaths) {
      const dest = path.join(repo2, 'a', path.relative(aDir, p));
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.linkSync(p, dest);
    }
    await lode(repo2, ['init']);
    const profDir = path.join(benchDir, 'prof');
    const profiles = [];
    profiles.push(await profiled('add B', repo2, ['add', 'b'], profDir));
    profiles.push(await profiled('add A', repo2, ['add', 'a'], profDir));
    profiles.push(await profiled('no-op status (repo with A + B)', repo, ['status'], profDir));
    noteDisk();
    fs.rmSync(repo2, { recursive: true, force: true });
    markMassDelete(repo2);
    res.profiles = profiles;
    printProfiles(profiles);
  }
}
