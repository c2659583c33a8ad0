// bench/lib/options.js: the command line (flags, --help from run.js's header),
// workload sizes and targets, and where lode is.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'lode.js');
export const NODE = process.execPath;
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

// ---------------------------------------------------------------- options

export const argv = process.argv.slice(2);
export const flags = new Set(argv);
if (flags.has('-h') || flags.has('--help')) {
  const text = fs.readFileSync(path.join(ROOT, 'bench', 'run.js'), 'utf8').split('\n');
  const end = text.findIndex((l) => !l.startsWith('//') && !l.startsWith('#!'));
  console.log(text.slice(1, end).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
for (const a of argv) {
  if (!['--quick', '--profile', '--keep', '--no-json', '--no-xfs', '--no-remote', '--no-dvc', '--no-dvc-install', '--no-diff', '--only-diff', '--no-governance', '--scale', '--only-scale', '--no-chunkcache', '--no-compression'].includes(a)) {
    console.error(`bench: unknown option ${a} (try --help)`);
    process.exit(2);
  }
}
export const QUICK = flags.has('--quick') || process.env.LODE_BENCH_QUICK === '1';
export const PROFILE = flags.has('--profile');
export const KEEP = flags.has('--keep');
export const WRITE_JSON = !flags.has('--no-json');
export const NO_XFS = flags.has('--no-xfs');
export const NO_REMOTE = flags.has('--no-remote');
export const NO_DVC = flags.has('--no-dvc');
export const DVC_INSTALL = !flags.has('--no-dvc-install');
export const NO_DIFF = flags.has('--no-diff');
export const ONLY_DIFF = flags.has('--only-diff');
export const SCALE = flags.has('--scale');
export const ONLY_SCALE = flags.has('--only-scale');
export const NO_CHUNKCACHE = flags.has('--no-chunkcache');
export const NO_COMPRESSION = flags.has('--no-compression');

export const SIZES = QUICK
  ? { aFiles: 2000, aFileSize: 4 * KiB, aDirs: 100, bFiles: 2, bFileSize: 64 * MiB, shaBytes: 256 * MiB, startupRuns: 10, statusRuns: 5 }
  : { aFiles: 20000, aFileSize: 4 * KiB, aDirs: 100, bFiles: 2, bFileSize: 512 * MiB, shaBytes: 1 * GiB, startupRuns: 10, statusRuns: 5 };

export const IDLE_WAIT_S = Number(process.env.LODE_BENCH_IDLE_WAIT ?? (QUICK ? 0 : 30));
export const NCPU = os.cpus().length;

export const TARGETS = {
  statusNoopMs: 150,
  addBShaRatio: 0.4,
  addBRssMiB: 200,
  reflinkBToCopyB: 0.1,
  editPushRatio: 0.05,
  lodeVsDvc: 10,
  tableDiffMBps: 100,
  tableDiffRssMiB: 512,
};
