#!/usr/bin/env node
// lode benchmark: generates its own workloads in a temp directory, runs the
// real CLI (bin/lode.js) as child processes, and prints tables plus ratios
// measured in the same run (so numbers from different machines stay
// comparable through their ceilings).
//
//   node bench/run.js            full sizes: A = 20,000 x 4 KiB, B = 2 x 512 MiB
//   node bench/run.js --quick    smoke test: A = 2,000 x 4 KiB, B = 2 x 64 MiB (~2 min;
//                                < 1 min with --no-remote)
//
// Options:
//   --quick        small sizes (also LODE_BENCH_QUICK=1)
//   --profile      also run `add` (A and B), `status`, and in section 8 `push`
//                  (A, B) and `clone` (A) under --cpu-prof and print the
//                  functions with the most self time, per thread
//   --keep         do not delete the bench directory at the end
//   --no-json      do not write bench/out/results-<date>.json
//   --no-xfs       skip the reflink rows on a loop-mounted XFS image (see below)
//   --no-remote    skip section 8 (push / clone / pull on a directory remote and
//                  on S3 served by moto, and the DVC comparison)
//   --no-dvc       run section 8 without the DVC comparison
//   --no-dvc-install  use DVC only if already installed (no pip attempt)
//   --no-diff      skip section 9 (data-aware diff: table files and diff --stat at scale)
//   --only-diff    run section 9 alone (about 2 minutes at full size)
//   --no-governance  skip section 10 (the data contract: `lode check` and commit cost;
//                  also alone: node bench/governance.js [--quick])
//   --scale        also run the scale section (heavy, off by default: about 6 GiB
//                  of small files and tens of minutes): 1,000,000 files x 64 B
//                  (add, commit, status, diff, checkout, push, peak RSS of each)
//                  and a metadata-only 10,000,000-file repository (status, diff, ls)
//   --only-scale   run the scale section alone
//   --no-chunkcache  skip section 11 (.lode growth for a 1 MiB edit of a 1 GiB file,
//                  checkout of the newest and the older version); it also runs
//                  alone: `node bench/sections/chunkcache.js [--quick] [--no-xfs]`
//   --no-compression  skip section 12 (compressed packs: remote bytes, push and
//                  clone of a CSV, JSON lines and random data with push.compress
//                  auto and off, and the codecs in-process); it also runs alone:
//                  `node bench/sections/compression.js [--quick]`
//   -h, --help
// Environment:
//   LODE_BENCH_DIR     where to work (default: <os.tmpdir()>/lode-bench-<pid>);
//                      must be absent or empty; removed again at the end
//   LODE_BENCH_QUICK=1 same as --quick
//   LODE_BENCH_SCALE_FILES=N  real files in the scale section (default 1000000; 0 skips)
//   LODE_BENCH_SCALE_META=N   metadata-only files in the scale section (default 10000000; 0 skips)
//   LODE_BENCH_SCALE_FOLDERS=N, LODE_BENCH_SCALE_META_FOLDERS=N  folders of each part (default 1000;
//                      fewer folders give each its full-size file count from fewer files)
//   LODE_BENCH_NO_TIME=1  do not use /usr/bin/time (poll /proc/<pid>/status VmHWM instead)
//   LODE_BENCH_IDLE_WAIT=S  before each section wait up to S seconds for other
//                      processes to leave the CPUs idle (default 30; 0 with --quick)
//
// Shared machines: every lode run also records the CPU that *other* processes
// used meanwhile ("other CPU", in cores, from /proc/stat minus the child's own
// user+sys time). Rows measured while others kept a core busy are pessimistic;
// the summary says how loaded the machine was. CPU ceilings are best of 3.
//
// What the environment charges, measured in the same run so lode's numbers can
// be read against it (all three matter on the Firecracker VMs this was built on):
//  - page cache: inputs are read once right before each section (the VM evicts
//    page cache idle for about a minute), so reads come from memory;
//  - fresh memory: writing new data touches pages the host may have taken back
//    (balloon free-page reporting), which can cost more than hashing them:
//    see the "write new file" ceilings;
//  - file creation: ext4 without a journal skips recently deleted inodes by
//    scanning for them, so creating files soon after deleting many costs up to
//    ~1 ms each: the "create µs" probe shows the cost at that moment.
//
// Reflink checkout: when the bench dir's filesystem has no reflink (ext4), and
// the bench runs as root on Linux with mkfs.xfs (xfsprogs), section 6 makes a
// sparse image beside the bench dir (<bench dir>-xfs/xfs.img, 4 GiB; 1 GiB with
// --quick), formats it XFS with reflink=1, loop-mounts it, and measures
// checkout with cache.type=reflink (and copy, for comparison) in a second lode
// workspace there; it is unmounted and deleted right after (also on failure,
// exit and SIGINT/SIGTERM; lazy unmount as a last resort). See test/helpers/xfs.js.
//
// Remotes (section 8): push, clone and a 1 MiB edit (push, then pull) of A and B
// on a directory remote in the bench dir and on S3 served by moto_server (from
// pip "moto[server]"), started on a free loopback port and stopped at the end
// (also on failure, exit and SIGINT/SIGTERM). moto's own request log is
// counted beside the requests lode reports. When DVC is available (PATH, or
// the bench's virtualenv: see bench/dvc.js; one `pip install dvc dvc-s3`
// attempt when missing), the same datasets go through `dvc add`, `dvc push`
// and `dvc pull` (in a git clone with an empty cache) on the same two kinds of
// remote, each DVC command capped at 5 minutes; DVC on B runs only while the
// bench is under 10 minutes. A's push and clone/pull run 3 times each (fresh
// remote and clone every time; the median counts; DVC on S3 once), B's once.
// Small files first (A: lode, then DVC), then B. ext4 without a journal skips
// inodes freed in the last 1-6 minutes one by one when it creates files, so the
// section starts with a sync and >= 60 s after the earlier sections' last mass
// delete, gives every workspace, clone and remote its own block group
// (chattr +T on its directory), and moves small-file trees aside until the A
// phase is over; the main repository of sections 3-7 and those trees are
// deleted before B, which keeps the bench under ~6 GiB of disk.
//
// Plain ESM JavaScript, no build step; section 8 also uses @aws-sdk/client-s3
// from node_modules (lode's own dependency) to create and empty the bucket.

// Layout: this file runs the sections in order and writes the summary;
// bench/lib/ holds what they share (options, report, measure, workloads,
// disk, profile), bench/sections/ one file per section. The moto and XFS
// helpers are test/helpers/moto.js and xfs.js, shared with the tests.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GiB, KEEP, KiB, MiB, NCPU, NO_CHUNKCACHE, NO_COMPRESSION, NO_DIFF, NO_REMOTE, ONLY_DIFF, ONLY_SCALE, PROFILE, SCALE, QUICK, ROOT, SIZES, TARGETS, WRITE_JSON } from './lib/options.js';
import { fmt, log, table, warn, warnings } from './lib/report.js';
import { hr, mbps, MEM_METHOD, msSince, otherLoad, runExitHooks, sh } from './lib/measure.js';
import { duKiB, genA, genB } from './lib/workloads.js';
import { ceilingsSection } from './sections/ceilings.js';
import { startupSection } from './sections/startup.js';
import { addSection } from './sections/add.js';
import { statusSection } from './sections/status.js';
import { commitSection } from './sections/commit.js';
import { checkoutSection } from './sections/checkout.js';
import { integritySection } from './sections/integrity.js';
import { profilesSection } from './sections/profiles.js';
import { remotesSection } from './sections/remotes.js';
import { diffSection } from './sections/diff.js';
import { governanceSection } from './sections/governance.js';
import { scaleSection } from './sections/scale.js';
import { targetsSection } from './sections/targets.js';
import { chunkCacheSection } from './sections/chunkcache.js';
import { compressionSection } from './sections/compression.js';

// ---------------------------------------------------------------- main

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    console.error('bench: dist/ is missing: run `npm run build` (or `npm run bench`) first');
    process.exit(2);
  }
  const staleness = newestMtime(path.join(ROOT, 'src')) - newestMtime(path.join(ROOT, 'dist'));
  if (staleness > 1000) warn('some file in src/ is newer than dist/: the bench runs the last build (`npm run build` to refresh)');

  // Bench directory.
  const benchDir = path.resolve(process.env.LODE_BENCH_DIR || path.join(os.tmpdir(), `lode-bench-${process.pid}`));
  const existed = fs.existsSync(benchDir);
  if (existed && fs.readdirSync(benchDir).length > 0) {
    console.error(`bench: ${benchDir} exists and is not empty; point LODE_BENCH_DIR at an empty or absent directory`);
    process.exit(2);
  }
  fs.mkdirSync(benchDir, { recursive: true });
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    runExitHooks(); // stop servers and time-limited commands before deleting their files
    // /usr/bin/time output files of runs cut short (SIGINT).
    try {
      const pre = `lode-bench-time-${process.pid}-`;
      for (const f of fs.readdirSync(os.tmpdir())) if (f.startsWith(pre)) fs.rmSync(path.join(os.tmpdir(), f), { force: true });
    } catch {
      // best effort
    }
    if (KEEP) {
      log(`kept ${benchDir}`);
      return;
    }
    try {
      if (existed) for (const e of fs.readdirSync(benchDir)) fs.rmSync(path.join(benchDir, e), { recursive: true, force: true });
      else fs.rmSync(benchDir, { recursive: true, force: true });
    } catch (e) {
      console.error(`bench: could not remove ${benchDir}: ${e.message}`);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  }

  try {
    if (ONLY_SCALE) await benchScaleOnly(benchDir);
    else if (ONLY_DIFF) await benchDiffOnly(benchDir);
    else await bench(benchDir);
  } finally {
    cleanup();
  }
}

/** benchScaleOnly is `--only-scale`: the scale section and its targets. */
async function benchScaleOnly(benchDir) {
  const tStart = hr();
  const res = { quick: QUICK, scale: await scaleSection(benchDir) };
  console.log(`\nbench took ${fmt(msSince(tStart) / 1000, 0)} s`);
  if (WRITE_JSON) {
    const outDir = path.join(ROOT, 'bench', 'out');
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `results-scale-${new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(res, null, 2)}\n`);
    console.log(`results written to ${path.relative(process.cwd(), file) || file}`);
  }
}

/** benchDiffOnly is `--only-diff`: section 9 and its targets. */
async function benchDiffOnly(benchDir) {
  const tStart = hr();
  const res = { sizes: SIZES, quick: QUICK, targets: TARGETS, diff: await diffSection(benchDir) };
  table('targets', ['metric', 'value', 'target', 'result'], res.diff.targets.map((r) => [r.metric, r.shown, r.target, r.pass ? 'pass' : 'FAIL']));
  console.log(`\nbench took ${fmt(msSince(tStart) / 1000, 0)} s`);
  if (WRITE_JSON) {
    const outDir = path.join(ROOT, 'bench', 'out');
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `results-diff-${new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '')}${QUICK ? '-quick' : ''}.json`);
    fs.writeFileSync(file, `${JSON.stringify(res, null, 2)}\n`);
    console.log(`results written to ${path.relative(process.cwd(), file) || file}`);
  }
}

function newestMtime(dir) {
  let newest = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  try {
    walk(dir);
  } catch {
    // missing
  }
  return newest;
}

async function bench(benchDir) {
  const tStart = hr();
  const res = { sizes: SIZES, quick: QUICK, targets: TARGETS };
  const free = fs.statfsSync(benchDir);
  const freeBytes = free.bavail * free.bsize;
  // Section 8 peaks at the main repository (~1.1 x B) plus a workspace, a remote and a clone of B (~5 x B).
  const need = Math.max(SIZES.bFiles * SIZES.bFileSize * 2.6 + SIZES.aFiles * 8 * KiB * 2 + (PROFILE ? SIZES.bFiles * SIZES.bFileSize * 1.1 : 0), NO_REMOTE ? 0 : SIZES.bFiles * SIZES.bFileSize * 6.3 + SIZES.aFiles * 8 * KiB * 8);
  if (freeBytes < need) throw new Error(`not enough free space in ${benchDir}: ${fmt(freeBytes / GiB, 1)} GiB free, about ${fmt(need / GiB, 1)} GiB needed`);

  // Machine facts.
  const cpus = os.cpus();
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const gitRev = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const gitDirty = sh('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no', '--', 'src']);
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    memTotalMiB: Math.round(os.totalmem() / MiB),
    benchDir,
    fsType: sh('stat', ['-f', '-c', '%T', benchDir]) ?? 'unknown',
    freeGiB: Number((freeBytes / GiB).toFixed(1)),
    lodeVersion: pkg.version,
    gitRev: gitRev ? `${gitRev}${gitDirty ? ' (+ uncommitted src changes)' : ''}` : 'n/a',
    memMethod: MEM_METHOD,
    mode: QUICK ? 'quick' : 'full',
  };
  res.meta = meta;
  console.log(`# lode bench (${meta.mode}) — ${meta.date}`);
  table('machine', ['fact', 'value'], [
    ['node', `${meta.node} (V8 ${meta.v8}, OpenSSL ${meta.openssl})`],
    ['os', meta.platform],
    ['cpus', `${meta.cpus} x ${meta.cpuModel} (availableParallelism ${meta.availableParallelism})`],
    ['memory', `${fmt(meta.memTotalMiB)} MiB`],
    ['bench dir', `${meta.benchDir} (${meta.fsType}, ${meta.freeGiB} GiB free)`],
    ['lode', `${meta.lodeVersion} @ ${meta.gitRev}`],
    ['peak memory via', meta.memMethod],
    ['workload A', `${fmt(SIZES.aFiles)} files x ${SIZES.aFileSize / KiB} KiB in ${SIZES.aDirs} dirs (${fmt((SIZES.aFiles * SIZES.aFileSize) / MiB)} MiB)`],
    ['workload B', `${SIZES.bFiles} files x ${SIZES.bFileSize / MiB} MiB (AES-CTR keystream, incompressible)`],
    ['page cache', 'warm: inputs are read once just before each section (this VM evicts idle page cache)'],
  ]);

  // Reflink probe.
  const probeA = path.join(benchDir, 'reflink-probe-a');
  const probeB = path.join(benchDir, 'reflink-probe-b');
  fs.writeFileSync(probeA, 'x');
  let reflink = false;
  try {
    fs.copyFileSync(probeA, probeB, fs.constants.COPYFILE_FICLONE_FORCE);
    reflink = true;
  } catch {
    reflink = false;
  }
  fs.rmSync(probeA, { force: true });
  fs.rmSync(probeB, { force: true });
  meta.reflink = reflink;

  // Workloads: one repository holding both datasets (a/ and b/).
  const repo = path.join(benchDir, 'repo');
  const aDir = path.join(repo, 'a');
  const bDir = path.join(repo, 'b');
  fs.mkdirSync(bDir, { recursive: true });
  log(`generating workload A (${SIZES.aFiles} files)`);
  const genAres = genA(aDir, SIZES.aFiles, SIZES.aFileSize, SIZES.aDirs);
  const aPaths = genAres.paths;
  const aBytes = SIZES.aFiles * SIZES.aFileSize;
  log(`generating workload B (${SIZES.bFiles} x ${SIZES.bFileSize / MiB} MiB)`);
  const bPaths = [];
  let genBms = 0;
  for (let i = 0; i < SIZES.bFiles; i++) {
    const p = path.join(bDir, `big${i}.bin`);
    genBms += genB(p, SIZES.bFileSize);
    bPaths.push(p);
  }
  const bBytes = SIZES.bFiles * SIZES.bFileSize;
  res.generate = { aMs: genAres.ms, bMs: genBms, bMBps: mbps(bBytes, genBms) };
  let peakDiskKiB = 0;
  const notePeakDiskKiB = (k) => {
    peakDiskKiB = Math.max(peakDiskKiB, k);
  };
  const noteDisk = () => {
    const k = duKiB(benchDir);
    if (k !== null) notePeakDiskKiB(k);
  };
  noteDisk();

  const ctx = { benchDir, tStart, res, meta, repo, aDir, bDir, aPaths, bPaths, aBytes, bBytes, reflink, noteDisk, notePeakDiskKiB };
  Object.assign(ctx, await ceilingsSection(ctx)); // 1
  await startupSection(ctx); // 2
  Object.assign(ctx, await addSection(ctx)); // 3
  await statusSection(ctx); // 4
  Object.assign(ctx, await commitSection(ctx)); // 5
  Object.assign(ctx, await checkoutSection(ctx)); // 6
  await integritySection(ctx); // 7
  await profilesSection(ctx);

  // 8. Remotes (after everything else: it needs the disk the earlier sections leave free).
  if (NO_REMOTE) res.remotes = { skipped: '--no-remote' };
  else {
    try {
      // The main repository is done with; section 8 deletes it between its small-file
      // and big-file phases (with B, ~5 GiB, it would push the bench past 8 GiB of disk).
      const dropMainRepo = () => {
        if (KEEP) return false;
        fs.rmSync(repo, { recursive: true, force: true });
        return true;
      };
      res.remotes = await remotesSection({ benchDir, tStart, noteDisk, dropMainRepo });
    } catch (e) {
      warn(`remotes section failed: ${e.stack ?? e}`);
      res.remotes = { error: e.message.split('\n')[0] };
    }
  }

  // 9. Data-aware diff.
  if (NO_DIFF) res.diff = { skipped: '--no-diff' };
  else {
    try {
      res.diff = await diffSection(benchDir);
    } catch (e) {
      warn(`diff section failed: ${e.stack ?? e}`);
      res.diff = { error: e.message.split('\n')[0] };
    }
  }

  // 10. The data contract's cost.
  if (process.argv.includes('--no-governance')) res.governance = { skipped: '--no-governance' };
  else {
    try {
      res.governance = await governanceSection(benchDir);
    } catch (e) {
      warn(`governance section failed: ${e.stack ?? e}`);
      res.governance = { error: e.message.split('\n')[0] };
    }
  }

  // Scale (opt-in).
  if (SCALE) {
    try {
      res.scale = await scaleSection(benchDir);
    } catch (e) {
      warn(`scale section failed: ${e.stack ?? e}`);
      res.scale = { error: e.message.split('\n')[0] };
    }
  }

  // 11. The local cache after a small edit of a big file.
  if (NO_CHUNKCACHE) res.chunkCache = { skipped: '--no-chunkcache' };
  else {
    try {
      res.chunkCache = await chunkCacheSection({ benchDir });
    } catch (e) {
      warn(`chunk cache section failed: ${e.stack ?? e}`);
      res.chunkCache = { error: e.message.split('\n')[0] };
    }
  }

  // 12. Compressed packs: what the remote stores, and what compressing costs.
  if (NO_COMPRESSION) res.compression = { skipped: '--no-compression' };
  else {
    try {
      const dir = path.join(benchDir, 'compression');
      fs.mkdirSync(dir, { recursive: true });
      res.compression = await compressionSection({ benchDir: dir });
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      warn(`compression section failed: ${e.stack ?? e}`);
      res.compression = { error: e.message.split('\n')[0] };
    }
  }

  targetsSection(ctx);

  const totalS = msSince(tStart) / 1000;
  res.totalSeconds = totalS;
  res.peakDiskMiB = Math.round(peakDiskKiB / 1024);
  res.warnings = warnings;
  const loadMs = otherLoad.reduce((a, x) => a + x.ms, 0);
  const meanOther = loadMs > 0 ? otherLoad.reduce((a, x) => a + x.ms * x.cores, 0) / loadMs : null;
  const loaded = otherLoad.filter((x) => x.cores >= 0.25).length;
  res.load = { meanOtherCores: meanOther, runsMeasured: otherLoad.length, runsUnderLoad: loaded, loadavg: os.loadavg() };
  console.log(`\nbench took ${fmt(totalS, 0)} s; peak disk use in the bench dir ${fmt(res.peakDiskMiB)} MiB (du at section ends).`);
  if (meanOther !== null) {
    console.log(`other processes used ${fmt(meanOther, 2)} of ${NCPU} cores on average during the measured lode runs; ${loaded} of ${otherLoad.length} runs had >= 0.25 cores of competition${loaded ? ' (those rows are pessimistic)' : ''}.`);
  }
  if (warnings.length) {
    console.log('\nwarnings:');
    for (const w of warnings) console.log(`  - ${w}`);
  }
  if (WRITE_JSON) {
    const outDir = path.join(ROOT, 'bench', 'out');
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `results-${meta.date.replace(/[:]/g, '-').replace(/\..*$/, '')}${QUICK ? '-quick' : ''}.json`);
    fs.writeFileSync(file, `${JSON.stringify(res, (k, v) => (typeof v === 'bigint' ? String(v) : v), 2)}\n`);
    console.log(`\nresults written to ${path.relative(process.cwd(), file) || file}`);
  }
}

main().catch((e) => {
  console.error(`bench failed: ${e.stack ?? e}`);
  process.exitCode = 1;
});
