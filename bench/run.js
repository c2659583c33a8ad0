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
//   -h, --help
// Environment:
//   LODE_BENCH_DIR     where to work (default: <os.tmpdir()>/lode-bench-<pid>);
//                      must be absent or empty; removed again at the end
//   LODE_BENCH_QUICK=1 same as --quick
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

import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { mountXfs, reflinkSupported, xfsUnavailable } from '../test/helpers/xfs.js';
import { createBucket, emptyPrefix, MOTO_CREDENTIALS, motoUnavailable, startMoto } from '../test/helpers/moto.js';
import { findDvc } from './dvc.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'lode.js');
const NODE = process.execPath;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flags = new Set(argv);
if (flags.has('-h') || flags.has('--help')) {
  const text = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  const end = text.findIndex((l) => !l.startsWith('//') && !l.startsWith('#!'));
  console.log(text.slice(1, end).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
for (const a of argv) {
  if (!['--quick', '--profile', '--keep', '--no-json', '--no-xfs', '--no-remote', '--no-dvc', '--no-dvc-install', '--no-diff', '--only-diff'].includes(a)) {
    console.error(`bench: unknown option ${a} (try --help)`);
    process.exit(2);
  }
}
const QUICK = flags.has('--quick') || process.env.LODE_BENCH_QUICK === '1';
const PROFILE = flags.has('--profile');
const KEEP = flags.has('--keep');
const WRITE_JSON = !flags.has('--no-json');
const NO_XFS = flags.has('--no-xfs');
const NO_REMOTE = flags.has('--no-remote');
const NO_DVC = flags.has('--no-dvc');
const DVC_INSTALL = !flags.has('--no-dvc-install');
const NO_DIFF = flags.has('--no-diff');
const ONLY_DIFF = flags.has('--only-diff');

const SIZES = QUICK
  ? { aFiles: 2000, aFileSize: 4 * KiB, aDirs: 100, bFiles: 2, bFileSize: 64 * MiB, shaBytes: 256 * MiB, startupRuns: 10, statusRuns: 5 }
  : { aFiles: 20000, aFileSize: 4 * KiB, aDirs: 100, bFiles: 2, bFileSize: 512 * MiB, shaBytes: 1 * GiB, startupRuns: 10, statusRuns: 5 };

const IDLE_WAIT_S = Number(process.env.LODE_BENCH_IDLE_WAIT ?? (QUICK ? 0 : 30));
const NCPU = os.cpus().length;

const TARGETS = {
  statusNoopMs: 150,
  addBShaRatio: 0.4,
  addBRssMiB: 200,
  reflinkBToCopyB: 0.1,
  editPushRatio: 0.05,
  lodeVsDvc: 10,
  tableDiffMBps: 100,
  tableDiffRssMiB: 512,
};

/**
 * diffSection measures the data-aware diff: two versions of a big CSV and of
 * a Parquet file (1% of rows changed, keyed by id; bench/tabular.js), and
 * `lode diff --stat` on a million-file dataset against a thousand-file one
 * with the same 100 changes (bench/diffstat.js). Returns the results and
 * target rows.
 */
async function diffSection(benchDir) {
  const { benchTabular } = await import('./tabular.js');
  const { benchDiffStat } = await import('./diffstat.js');
  const tables = await benchTabular({ quick: QUICK, tmp: benchDir });
  table(
    '9. data-aware diff: table files (diffTable alone, both sides read from local files)',
    ['workload', 's', 'MB/s per side', 'peak RSS', 'rows before', 'added', 'removed', 'modified'],
    tables.map((r) => [r.workload, fmt(r.seconds, 2), fmt(r.mbPerSecPerSide, 1), `${r.peakRssMiB} MiB`, fmt(r.rows.before), fmt(r.rows.added), fmt(r.rows.removed), fmt(r.rows.modified)]),
    [`targets: >= ${TARGETS.tableDiffMBps} MB/s of input per side, peak memory < ${TARGETS.tableDiffRssMiB} MiB`],
  );
  const stat = await benchDiffStat({ quick: QUICK, tmp: benchDir });
  table(
    '9. data-aware diff: `lode diff v1 v2 --stat --json`, 100 changed files (CLI, median of 5)',
    ['dataset', 'ms', 'changes', 'directory rows'],
    stat.map((r) => [r.dataset, fms(r.medianMs), fmt(r.changes), fmt(r.dirs)]),
    [`${fmt(stat[1].files / stat[0].files)}x the files cost ${fmt(stat[1].medianMs / stat[0].medianMs, 2)}x the time: unchanged subtrees are skipped by ID`],
  );
  const targets = [];
  for (const r of tables) {
    targets.push({ metric: `table diff MB/s per side: ${r.workload}`, value: r.mbPerSecPerSide, shown: fmt(r.mbPerSecPerSide, 1), target: `>= ${TARGETS.tableDiffMBps}`, pass: r.mbPerSecPerSide >= TARGETS.tableDiffMBps });
    targets.push({ metric: `table diff peak RSS (MiB): ${r.workload}`, value: r.peakRssMiB, shown: String(r.peakRssMiB), target: `< ${TARGETS.tableDiffRssMiB}`, pass: r.peakRssMiB < TARGETS.tableDiffRssMiB });
  }
  return { tables, stat, targets };
}

// ---------------------------------------------------------------- helpers

const hr = () => process.hrtime.bigint();
const msSince = (t0) => Number(hr() - t0) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mbps = (bytes, ms) => (ms > 0 ? bytes / 1e6 / (ms / 1000) : NaN);

function fmt(v, digits = 0) {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const fms = (ms) => (ms === null || ms === undefined ? 'n/a' : ms < 100 ? fmt(ms, 1) : fmt(ms, 0));
const fmib = (kib) => (kib === null || kib === undefined ? 'n/a' : fmt(kib / 1024, 0));
const fpct = (r) => (r === null || r === undefined || !Number.isFinite(r) ? 'n/a' : `${fmt(r * 100, 0)}%`);

/** table prints aligned columns: numbers (and n/a) right-aligned, text left-aligned. */
function table(title, headers, rows, notes = []) {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? 'n/a' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((r) => /^[-+]?[\d,.]+(%|x| ms| s| files\/s)?$|^n\/a$|^-?$/.test(r[i] ?? '')));
  const line = (r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\n## ${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells) console.log(line(r));
  for (const n of notes) console.log(`   ${n}`);
}

function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

const warnings = [];
function warn(msg) {
  warnings.push(msg);
  log(`WARNING: ${msg}`);
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------- machine load

/** cpuSnap reads the machine-wide busy and total jiffies from /proc/stat (null if unavailable). */
function cpuSnap() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** busyCores is how many cores the whole machine kept busy between two snapshots. */
function busyCores(a, b) {
  if (!a || !b || b.total <= a.total) return null;
  return ((b.busy - a.busy) / (b.total - a.total)) * NCPU;
}

const otherLoad = []; // other CPU (cores) during each measured lode run
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * waitIdle waits (up to IDLE_WAIT_S) until other processes use less than a
 * quarter of a core over a 0.5 s window; returns that load (cores) or null.
 */
async function waitIdle(label) {
  const deadline = Date.now() + IDLE_WAIT_S * 1000;
  let said = false;
  while (true) {
    const a = cpuSnap();
    const u0 = process.cpuUsage();
    await sleep(500);
    const b = cpuSnap();
    const u = process.cpuUsage(u0);
    const machine = busyCores(a, b);
    if (machine === null) return null;
    const other = Math.max(0, machine - (u.user + u.system) / 1e6 / 0.5);
    if (other < 0.25 || Date.now() >= deadline) {
      if (said || other >= 0.25) log(`${label}: other processes use ${fmt(other, 2)} cores${other >= 0.25 ? ' (gave up waiting; numbers below are pessimistic)' : ''}`);
      return other;
    }
    if (!said) log(`${label}: waiting for other processes to go idle (${fmt(other, 2)} cores busy)`);
    said = true;
  }
}

// ---------------------------------------------------------------- child processes

const TIME_BIN = process.env.LODE_BENCH_NO_TIME === '1' ? null : findTime();
function findTime() {
  const p = '/usr/bin/time';
  if (!fs.existsSync(p)) return null;
  // GNU time supports -f and -o; BusyBox/BSD variants may not.
  const r = spawnSync(p, ['-f', '%M', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  return r.status === 0 ? p : null;
}
const CLK_TCK = Number(sh('getconf', ['CLK_TCK']) ?? 100) || 100;
const MEM_METHOD = TIME_BIN ? '/usr/bin/time -f %M' : fs.existsSync('/proc/self/status') ? '/proc/<pid>/status VmHWM polling every 5 ms (CPU time from /proc/<pid>/stat: a lower bound)' : 'n/a';

let timeSeq = 0;
/** Process groups of running commands with a time limit (ended by cleanup on exit or a signal). */
const liveGroups = new Set();
function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}
/** Synchronous clean-up steps for exit, failure and signals (a moto server, say). */
const exitHooks = new Set();
function runExitHooks() {
  for (const g of liveGroups) killGroup(g, 'SIGKILL');
  liveGroups.clear();
  for (const h of exitHooks) {
    try {
      h();
    } catch {
      // best effort
    }
  }
  exitHooks.clear();
}
process.on('exit', runExitHooks);
/**
 * runCmd runs `cmd args` as a child process and measures its wall time
 * (process.hrtime from spawn to exit), peak RSS (KiB) and CPU seconds.
 */
function runCmd(cmd, args, { cwd, measureMem = true, allowFail = false, env, timeoutMs } = {}) {
  return new Promise((resolve, reject) => {
    let file = cmd;
    let fargs = args;
    let timeOut;
    const useTime = measureMem && TIME_BIN;
    if (useTime) {
      timeOut = path.join(os.tmpdir(), `lode-bench-time-${process.pid}-${timeSeq++}`);
      file = TIME_BIN;
      fargs = ['-f', '%M %e %U %S', '-o', timeOut, cmd, ...args];
    }
    const stdout = [];
    const stderr = [];
    let hwmKiB = null;
    let ticks = null; // utime + stime from /proc/<pid>/stat (fallback CPU time)
    let poll;
    const snap0 = cpuSnap();
    const t0 = hr();
    let wallMs;
    let snap1;
    // With a time limit the child gets its own process group, so the whole group
    // (time, a shim, the command and anything it started) can be ended at once.
    const child = spawn(file, fargs, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: !!timeoutMs });
    let timedOut = false;
    let killTimer;
    let killTimer2;
    const group = timeoutMs && child.pid ? child.pid : null;
    if (group) {
      liveGroups.add(group);
      killTimer = setTimeout(() => {
        timedOut = true;
        killGroup(group, 'SIGTERM');
        killTimer2 = setTimeout(() => killGroup(group, 'SIGKILL'), 5000);
      }, timeoutMs);
    }
    if (measureMem && !useTime && MEM_METHOD !== 'n/a') {
      const read = () => {
        try {
          const s = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const m = /VmHWM:\s+(\d+) kB/.exec(s);
          if (m) hwmKiB = Math.max(hwmKiB ?? 0, Number(m[1]));
          const st = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
          const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
          ticks = Number(f[11]) + Number(f[12]); // fields 14 and 15 of stat(5)
        } catch {
          // exited
        }
      };
      poll = setInterval(read, 5);
    }
    child.stdout.on('data', (d) => stdout.push(d));
    child.stderr.on('data', (d) => stderr.push(d));
    child.on('exit', () => {
      wallMs = msSince(t0);
      snap1 = cpuSnap();
      if (poll) clearInterval(poll);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      wallMs ??= msSince(t0);
      if (group) {
        clearTimeout(killTimer);
        clearTimeout(killTimer2);
        killGroup(group, 'SIGKILL'); // leftovers of a finished or timed-out command
        liveGroups.delete(group);
      }
      const res = {
        code,
        timedOut,
        ms: wallMs,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        rssKiB: hwmKiB,
        cpuS: ticks === null ? null : ticks / CLK_TCK, // lower bound: last poll before exit
        otherCores: null,
      };
      if (timeOut) {
        try {
          const lines = fs.readFileSync(timeOut, 'utf8').trim().split('\n');
          const [m, , u, s] = lines[lines.length - 1].trim().split(/\s+/).map(Number);
          res.rssKiB = m;
          res.cpuS = u + s;
        } catch {
          // leave n/a
        }
        fs.rmSync(timeOut, { force: true });
      }
      const machine = busyCores(snap0, snap1 ?? cpuSnap());
      if (machine !== null && res.cpuS !== null) {
        res.otherCores = Math.max(0, machine - res.cpuS / (wallMs / 1000));
        if (wallMs > 150) otherLoad.push({ ms: wallMs, cores: res.otherCores });
      }
      if (code !== 0 && !allowFail && !timedOut) {
        const e = new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code}\n${res.stderr.trim()}\n${res.stdout.trim()}`.trim());
        e.result = res;
        reject(e);
        return;
      }
      resolve(res);
    });
  });
}

/** lode runs the real CLI; with `json` it adds --json and parses stdout. */
async function lode(cwd, args, { json = true, quiet = true, ...opts } = {}) {
  const full = [...(quiet ? ['-q'] : []), ...args, ...(json ? ['--json'] : [])];
  const r = await runCmd(NODE, [BIN, ...full], { cwd, ...opts });
  if (json && r.code === 0) {
    try {
      r.json = JSON.parse(r.stdout);
    } catch {
      throw new Error(`lode ${full.join(' ')}: stdout is not JSON:\n${r.stdout.slice(0, 500)}`);
    }
  }
  return r;
}

const cpuPct = (r) => (r.cpuS === null ? null : (r.cpuS * 1000) / r.ms);
const fother = (r) => (r.otherCores === null || r.otherCores === undefined ? 'n/a' : fmt(r.otherCores, 2));

/** bestOf runs an in-process measurement `n` times and keeps the fastest (a ceiling). */
async function bestOf(n, f) {
  let best = null;
  for (let i = 0; i < n; i++) {
    const ms = await f();
    if (ms !== null && (best === null || ms < best)) best = ms;
  }
  return best;
}

// ---------------------------------------------------------------- workloads

function genA(dir, n, size, dirs) {
  const t0 = hr();
  const all = randomBytes(n * size);
  const paths = [];
  for (let d = 0; d < dirs; d++) fs.mkdirSync(path.join(dir, `d${String(d).padStart(3, '0')}`), { recursive: true });
  for (let i = 0; i < n; i++) {
    const p = path.join(dir, `d${String(i % dirs).padStart(3, '0')}`, `f${String(i).padStart(5, '0')}.bin`);
    fs.writeFileSync(p, all.subarray(i * size, (i + 1) * size));
    paths.push(p);
  }
  return { paths, ms: msSince(t0) };
}

/**
 * genB writes `size` bytes of AES-128-CTR keystream (random key per file):
 * incompressible, and no 4 MiB block repeats within or across files, so
 * content-defined chunking cannot dedupe any of it. Several GB/s with AES-NI.
 */
function genB(file, size) {
  const t0 = hr();
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(4 * MiB);
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < size; off += zeros.length) {
      const n = Math.min(zeros.length, size - off);
      const block = cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
      let w = 0;
      while (w < block.length) w += fs.writeSync(fd, block, w, block.length - w);
    }
  } finally {
    fs.closeSync(fd);
  }
  return msSince(t0);
}

/**
 * createProbe measures what the filesystem charges per new small file right
 * now: open(O_CREAT|O_EXCL) + 4 KiB write + close + rename, `n` times (the
 * least add and copy-checkout must do per file). The files are kept until the
 * end: deleting them would itself slow later creates on ext4 without a
 * journal, which skips recently deleted inodes by scanning for them.
 */
let probeSeq = 0;
function createProbe(benchDir, n = 500) {
  const dir = path.join(benchDir, 'probes', String(probeSeq++));
  fs.mkdirSync(dir, { recursive: true });
  const buf = randomBytes(4 * KiB);
  const t0 = hr();
  for (let i = 0; i < n; i++) {
    const tmp = path.join(dir, `.tmp-${i}`);
    const fd = fs.openSync(tmp, 'wx', 0o444);
    fs.writeSync(fd, buf);
    fs.closeSync(fd);
    fs.renameSync(tmp, path.join(dir, `f${i}`));
  }
  return (msSince(t0) * 1000) / n; // µs per file
}

/** warm reads files (or every file under directories) so they are in the page cache; returns MB/s. */
function warm(paths) {
  const buf = Buffer.allocUnsafe(4 * MiB);
  let bytes = 0;
  const t0 = hr();
  const one = (p) => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) one(path.join(p, e));
      return;
    }
    if (!st.isFile()) return;
    const fd = fs.openSync(p, 'r');
    try {
      let n;
      while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) bytes += n;
    } finally {
      fs.closeSync(fd);
    }
  };
  for (const p of paths) one(p);
  return mbps(bytes, msSince(t0));
}

function countFiles(dir) {
  let n = 0;
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory()) n += countFiles(path.join(dir, d.name));
    else if (d.isFile()) n++;
  }
  return n;
}

function duKiB(dir) {
  const out = sh('du', ['-sk', dir]);
  return out ? Number(out.split(/\s+/)[0]) : null;
}

// ---------------------------------------------------------------- ceilings (in-process)

function sha256Single(bytes) {
  const buf = randomBytes(4 * MiB);
  const h = createHash('sha256');
  const t0 = hr();
  for (let done = 0; done < bytes; done += buf.length) h.update(buf);
  h.digest();
  return msSince(t0);
}

/**
 * inThreads runs `body` (CommonJS source using `workerData` and `buf`, a
 * random 4 MiB buffer) on `n` worker threads at once, started together once
 * all are ready; returns the wall ms until the last one finishes.
 */
async function inThreads(n, body, data) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const { createHash, randomBytes } = require('node:crypto');
    const buf = randomBytes(4 << 20);
    parentPort.postMessage('ready');
    parentPort.once('message', () => {
      ${body}
      parentPort.postMessage('done');
    });`;
  const workers = Array.from({ length: n }, (_, i) => new Worker(code, { eval: true, workerData: data(i) }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const t0 = hr();
  await Promise.all(workers.map((w) => {
    const p = new Promise((r) => w.once('message', r));
    w.postMessage('go');
    return p;
  }));
  const ms = msSince(t0);
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

/** sha256Threads hashes `bytes` on each of `n` worker threads at once; returns wall ms. */
function sha256Threads(n, bytes) {
  return inThreads(n, `
      const h = createHash('sha256');
      for (let done = 0; done < workerData; done += buf.length) h.update(buf);
      h.digest();`, () => bytes);
}

/** writeThreads writes a new file of `bytes` on each of `n` threads at once; returns wall ms. */
async function writeThreads(n, dir, bytes) {
  const files = Array.from({ length: n }, (_, i) => path.join(dir, `scratch-${i}.bin`));
  const ms = await inThreads(n, `
      const fd = fs.openSync(workerData.file, 'w');
      for (let off = 0; off < workerData.bytes; off += buf.length) {
        let w = 0;
        while (w < buf.length) w += fs.writeSync(fd, buf, w, buf.length - w);
      }
      fs.closeSync(fd);`, (i) => ({ file: files[i], bytes }));
  for (const f of files) fs.rmSync(f, { force: true });
  return ms;
}

async function xxh64Single(bytes) {
  try {
    const { default: xxhash } = await import('xxhash-wasm');
    const api = await xxhash();
    const buf = randomBytes(4 * MiB);
    const h = api.create64();
    const t0 = hr();
    for (let done = 0; done < bytes; done += buf.length) {
      for (let off = 0; off < buf.length; off += MiB) h.update(buf.subarray(off, off + MiB));
    }
    h.digest();
    return msSince(t0);
  } catch (e) {
    warn(`xxh64 ceiling skipped: ${e.message}`);
    return null;
  }
}

/** fastcdcSingle runs lode's own cutPoint (from dist/) over `bytes` of random data. */
async function fastcdcSingle(bytes) {
  try {
    const mod = await import(pathToFileURL(path.join(ROOT, 'dist', 'core', 'chunker.js')).href);
    const params = mod.DEFAULT_CHUNKING;
    const buf = randomBytes(64 * MiB);
    let chunks = 0;
    const t0 = hr();
    for (let done = 0; done < bytes; done += buf.length) {
      let start = 0;
      while (start < buf.length) {
        start += mod.cutPoint(buf, start, buf.length, params);
        chunks++;
      }
    }
    return { ms: msSince(t0), avgChunk: bytes / chunks };
  } catch (e) {
    warn(`FastCDC ceiling skipped: ${e.message}`);
    return null;
  }
}

function readFilesMs(files) {
  const buf = Buffer.allocUnsafe(4 * MiB);
  const t0 = hr();
  for (const f of files) {
    const fd = fs.openSync(f, 'r');
    try {
      let pos = 0;
      while (true) {
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        pos += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return msSince(t0);
}

function writeFileMs(file, bytes) {
  const buf = randomBytes(4 * MiB);
  const t0 = hr();
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < bytes; off += buf.length) {
      let w = 0;
      while (w < buf.length) w += fs.writeSync(fd, buf, w, buf.length - w);
    }
  } finally {
    fs.closeSync(fd);
  }
  return msSince(t0);
}

// ---------------------------------------------------------------- profiling

/**
 * summariseProfiles aggregates self time by function over the .cpuprofile
 * files in `dir` (one per thread) and returns the top entries of each.
 */
function summariseProfiles(dir, top = 12) {
  const out = [];
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const prof = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    const totalMs = (prof.endTime - prof.startTime) / 1000;
    const selfMs = new Map();
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    // Time deltas give per-sample durations; attribute each to its sampled node.
    const perNode = new Map();
    for (let i = 0; i < prof.samples.length; i++) {
      const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
      perNode.set(prof.samples[i], (perNode.get(prof.samples[i]) ?? 0) + dt);
    }
    for (const [id, ms] of perNode) {
      const n = byId.get(id);
      const cf = n.callFrame;
      const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/^.*node_modules\//, 'nm/')}:${cf.lineNumber + 1}` : '';
      const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
      selfMs.set(key, (selfMs.get(key) ?? 0) + ms);
    }
    const rows = [...selfMs].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, ms]) => ({ fn, ms, pct: ms / totalMs }));
    // CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile
    const tid = name.split('.')[4];
    out.push({ file: name, thread: tid === '0' ? 'main' : `worker ${tid}`, totalMs, top: rows });
  }
  return out;
}

async function profiled(label, cwd, args, profDir, env) {
  fs.rmSync(profDir, { recursive: true, force: true });
  fs.mkdirSync(profDir, { recursive: true });
  const r = await runCmd(NODE, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, BIN, '-q', ...args], { cwd, env });
  return { label, ms: r.ms, threads: summariseProfiles(profDir) };
}

// ---------------------------------------------------------------- remotes (section 8)

const S3_BUCKET = 'lode-bench';
const DVC_CAP_MS = 5 * 60 * 1000;
const DVC_B_BEFORE_S = 10 * 60; // start DVC on B only while the bench is younger than this
const DVC_LATE_S = 12.5 * 60; // and skip its S3 half past this
const EDIT_BYTES = 1 * MiB;
const REPEAT_A = 3; // push and clone (pull) runs of A per remote, lode and DVC (DVC on S3: once)

/** medianRun picks the run with the median wall time from [{ r: runCmd result, ... }]. */
function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.r.ms - b.r.ms);
  return sorted[(sorted.length - 1) >> 1];
}
const runsNote = (runs) => (runs.length > 1 ? `; median of ${runs.length}: ${runs.map((x) => fms(x.r.ms)).join(', ')} ms` : '');

/**
 * ext4 without a journal will not reuse an inode freed in the last 60 s (6 min
 * while its inode table block is dirty): it scans past each such inode, so
 * creating many files soon after deleting many costs up to ~1 ms per file.
 * The bench notes when it deletes a small-file tree on the bench dir's
 * filesystem, and section 8 starts with a sync and waits out the 60 s, so its
 * clone and pull rows measure lode and DVC rather than that scan.
 */
const massDeletes = new Map(); // filesystem device -> time of the last mass delete (ms)
function markMassDelete(p) {
  let dev = 'bench';
  try {
    dev = String(fs.statSync(path.dirname(p)).dev);
  } catch {
    // unknown
  }
  massDeletes.set(dev, Date.now());
}
const RECENTLY_DELETED_MS = 60_000;

/** settleDeletes syncs the bench dir's filesystem and waits until its last mass delete is over 60 s old; returns ms waited. */
async function settleDeletes(dir) {
  const t0 = hr();
  spawnSync('sync', ['-f', dir], { stdio: 'ignore' });
  let dev = 'bench';
  try {
    dev = String(fs.statSync(dir).dev);
  } catch {
    // unknown
  }
  const last = massDeletes.get(dev);
  const wait = last === undefined ? 0 : last + RECENTLY_DELETED_MS + 2000 - Date.now();
  if (wait > 0) {
    log(`waiting ${fmt(wait / 1000, 0)} s for inodes deleted by earlier sections to age past ext4's 60 s reuse delay`);
    await sleep(wait);
  }
  return msSince(t0);
}

/** spreadDirs sets ext4's top-directory flag (chattr +T) on `dir`, so its subdirectories are spread over block groups; true if it took. */
function spreadDirs(dir) {
  if (spawnSync('chattr', ['+T', dir], { stdio: 'ignore' }).status !== 0) return false;
  const attrs = sh('lsattr', ['-d', dir]);
  return !!attrs && /T/.test(attrs.split(/\s+/)[0]);
}

function syncMs(dir) {
  const t0 = hr();
  spawnSync('sync', ['-f', dir], { stdio: 'ignore' });
  return msSince(t0);
}

/** fsUsedBytes is the used space of the filesystem holding `dir` (catches moto's unlinked spool files too). */
function fsUsedBytes(dir) {
  try {
    const s = fs.statfsSync(dir);
    return (s.blocks - s.bfree) * s.bsize;
  } catch {
    return null;
  }
}

/** treeStats counts the files and bytes under `dir` (0 if it is missing). */
function treeStats(dir) {
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    let ents;
    try {
      ents = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

const fsec = (ms) => (ms === null || ms === undefined ? 'n/a' : `${fmt(ms / 1000, ms < 10_000 ? 2 : 1)} s`);
const fbytes = (b) => (b === null || b === undefined ? 'n/a' : b < 10 * MiB ? `${fmt(b / KiB, 0)} KiB` : `${fmt(b / MiB, 1)} MiB`);
const fx = (r, lowerBound = false) => (r === null || r === undefined || !Number.isFinite(r) ? 'n/a' : `${lowerBound ? '> ' : ''}${fmt(r, r < 10 ? 1 : 0)}x`);

/**
 * remotesSection measures push, clone and an incremental push/pull of A and B
 * on a directory remote and on S3 (moto), and the same with DVC when it is
 * available; it prints tables 8a-8d and returns the results (res.remotes).
 */
async function remotesSection({ benchDir, tStart, noteDisk, dropMainRepo = () => false }) {
  const root = path.join(benchDir, 'remotes');
  const trash = path.join(root, 'trash');
  fs.mkdirSync(trash, { recursive: true });
  let trashSeq = 0;
  // Small-file trees are moved aside, not deleted, until the section ends (see the header).
  const discard = (dir, manyFiles) => {
    if (!fs.existsSync(dir)) return;
    if (manyFiles) fs.renameSync(dir, path.join(trash, `${trashSeq++}-${path.basename(dir)}`));
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  const out = { kinds: {}, edit: {}, dvc: null, moto: null, motoReason: null, profiles: [] };
  const elapsedS = () => msSince(tStart) / 1000;
  const used0 = fsUsedBytes(benchDir);
  // Each directory made directly in root gets a block group of its own (ext4 "top
  // directory" placement), away from the inodes earlier sections freed; where
  // that is not possible, wait out ext4's reuse delay instead.
  out.spreadDirs = spreadDirs(root);
  out.settleMs = await settleDeletes(benchDir);
  out.fsGrowthMiB = {}; // growth of the filesystem's used space since the section started, by step
  const noteFs = (label) => {
    noteDisk();
    const u = fsUsedBytes(benchDir);
    if (u === null || used0 === null) return;
    const g = Math.round((u - used0) / MiB);
    out.peakFsGrowthMiB = Math.max(out.peakFsGrowthMiB ?? 0, g);
    if (label) out.fsGrowthMiB[label] = g;
  };
  const env = { ...process.env, AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };
  for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3']) delete env[k];
  const aBytes = SIZES.aFiles * SIZES.aFileSize;
  const bBytes = SIZES.bFiles * SIZES.bFileSize;
  const wl = {
    A: { dir: 'a', n: SIZES.aFiles, bytes: aBytes, many: true, desc: `A (${fmt(SIZES.aFiles)} x 4 KiB)` },
    B: { dir: 'b', n: SIZES.bFiles, bytes: bBytes, many: false, desc: `B (${SIZES.bFiles} x ${SIZES.bFileSize / MiB} MiB)` },
  };
  const gen = (dir, label) => {
    if (label === 'A') return genA(dir, SIZES.aFiles, SIZES.aFileSize, SIZES.aDirs).paths;
    fs.mkdirSync(dir, { recursive: true });
    const paths = [];
    for (let i = 0; i < SIZES.bFiles; i++) {
      const p = path.join(dir, `big${i}.bin`);
      genB(p, SIZES.bFileSize);
      paths.push(p);
    }
    return paths;
  };

  // moto on a free loopback port.
  let moto = null;
  out.motoReason = motoUnavailable();
  if (!out.motoReason) {
    try {
      const motoTmp = path.join(root, 'moto-tmp');
      fs.mkdirSync(motoTmp, { recursive: true });
      log('remotes: starting moto_server');
      moto = await startMoto({ env: { TMPDIR: motoTmp } });
      exitHooks.add(moto.killSync);
      await createBucket(moto.endpoint, S3_BUCKET);
      log(`remotes: moto on ${moto.endpoint} (pid ${moto.pid}), bucket ${S3_BUCKET}`);
    } catch (e) {
      out.motoReason = e.message.split('\n')[0];
      warn(`moto: ${e.message}`);
      if (moto) {
        await moto.stop();
        exitHooks.delete(moto.killSync);
      }
      moto = null;
    }
  }
  const kinds = ['dir', 's3'];
  const remoteOf = (kind, tag, many = false) => {
    if (kind === 'dir') {
      const dir = path.join(root, `remote-${tag}`);
      return { url: dir, opts: [], stats: async () => treeStats(dir), clear: async () => discard(dir, many) };
    }
    const prefix = `${tag}/`;
    return {
      url: `s3://${S3_BUCKET}/${tag}`,
      opts: ['--endpoint', moto.endpoint, '--path-style'],
      stats: async () => {
        const st = await emptyPrefix(moto.endpoint, S3_BUCKET, prefix, { dryRun: true });
        return { files: st.objects, bytes: st.bytes };
      },
      clear: async () => {
        await emptyPrefix(moto.endpoint, S3_BUCKET, prefix);
      },
    };
  };
  const motoCount = (kind) => (moto && kind === 's3' ? moto.requests : null);
  const motoSince = (m0) => (moto && m0 !== null ? moto.requests - m0 : null);
  const profDir = path.join(root, 'prof');

  const rows = [];
  const editRows = [];
  const notes = [];
  try {
    // ---- lode: push and clone of one dataset on one kind of remote (and the edit, for B)
    const lodeSteps = async (kind, label) => {
      const K = (out.kinds[kind] ??= {});
      if (kind === 's3' && !moto) {
        K.reason = `no S3 server: ${out.motoReason}`;
        rows.push([kind, label, 'n/a', '-', '-', '-', '-', '-', '-', '-', '-', '-', K.reason]);
        return;
      }
      {
        const W = wl[label];
        const ws = path.join(root, `ws-${kind}-${label}`);
        log(`remotes (${kind}): workspace with ${W.desc}: generate, init, add, commit`);
        fs.mkdirSync(ws, { recursive: true });
        const paths = gen(path.join(ws, W.dir), label);
        await lode(ws, ['init']);
        const add = await lode(ws, ['add', W.dir]);
        const commit = await lode(ws, ['commit', '-m', label]);
        // A is measured REPEAT_A times (fresh remote, fresh clone each; the median
        // counts): creating 20,000 files is what its clone mostly does, and that
        // cost swings from one ext4 block group to the next. B once.
        const reps = label === 'A' ? REPEAT_A : 1;
        const remotes = [];
        for (let i = 1; i <= reps; i++) {
          const r = remoteOf(kind, `lode-${label}${reps > 1 ? i : ''}`);
          r.name = i === 1 ? 'origin' : `r${i}`;
          await lode(ws, ['remote', 'add', r.name, r.url, ...r.opts], { env });
          remotes.push(r);
        }
        const remote = remotes[0];

        // push
        const pushes = [];
        for (const r of remotes) {
          warm([path.join(ws, '.lode')]);
          await waitIdle(`push ${label} (${kind})`);
          log(`remotes (${kind}): push ${label}${reps > 1 ? ` to ${r.name}` : ''}`);
          const m0 = motoCount(kind);
          const push = await lode(ws, ['push', r.name], { env });
          pushes.push({ r: push, p: push.json.pushed[0], server: motoSince(m0) });
        }
        const { r: push, p, server: pushServer } = medianRun(pushes);
        const rs = await remote.stats();
        K[`push${label}`] = { ms: push.ms, runsMs: pushes.map((x) => x.r.ms), objects: p.objects, bytes: p.bytes, packs: p.packs, requests: p.requests, serverRequests: pushServer, objectsPerS: p.objects / (push.ms / 1000), MBps: mbps(p.bytes, push.ms), rssKiB: push.rssKiB, cpuPct: cpuPct(push), otherCores: push.otherCores, remoteFiles: rs.files, remoteBytes: rs.bytes, addMs: add.ms, commitMs: commit.ms };
        rows.push([kind, `push ${W.desc}`, fms(push.ms), fmt(p.objects / (push.ms / 1000)), '-', fmt(mbps(p.bytes, push.ms)), fmt(p.requests), pushServer === null ? '-' : fmt(pushServer), fmt(p.packs), fmib(push.rssKiB), fpct(cpuPct(push)), fother(push), `${fmt(p.objects)} objects, ${fbytes(p.bytes)}; remote ${fmt(rs.files)} files, ${fbytes(rs.bytes)}${runsNote(pushes)}`]);
        noteFs(`push ${label} (${kind})`);

        // clone
        const clones = [];
        for (let i = 0; i < reps; i++) {
          const r = remotes[i];
          const dir = path.join(root, `clone-${kind}-${label}${reps > 1 ? i + 1 : ''}`);
          if (kind === 'dir') warm([r.url]);
          await waitIdle(`clone ${label} (${kind})`);
          const probe = label === 'A' ? createProbe(root, 200) : null;
          log(`remotes (${kind}): clone ${label}${reps > 1 ? ` (${i + 1} of ${reps})` : ''}`);
          const m0 = motoCount(kind);
          const cl = await lode(root, ['clone', r.url, dir, ...r.opts], { env });
          const server = motoSince(m0);
          const got = countFiles(path.join(dir, W.dir));
          if (got !== W.n) warn(`clone ${label} (${kind}) has ${got} files in ${W.dir}/, expected ${W.n}`);
          clones.push({ r: cl, dir, probe, server });
        }
        const { r: cl, probe, server: cloneServer } = medianRun(clones);
        const clone = clones[0].dir; // B: the one the edit is pulled into
        for (const c of clones.slice(1)) discard(c.dir, W.many);
        for (const r of remotes.slice(1)) await r.clear();
        const f = cl.json.fetched;
        K[`clone${label}`] = { ms: cl.ms, runsMs: clones.map((x) => x.r.ms), createProbesUs: clones.map((x) => x.probe), files: f.files, objects: f.objects, bytes: f.bytes, reused: f.reused, requests: f.requests, serverRequests: cloneServer, filesPerS: W.n / (cl.ms / 1000), MBps: mbps(W.bytes, cl.ms), rssKiB: cl.rssKiB, cpuPct: cpuPct(cl), otherCores: cl.otherCores, written: cl.json.checkout.written, createProbeUs: probe };
        rows.push([kind, `clone ${W.desc}`, fms(cl.ms), '-', fmt(W.n / (cl.ms / 1000), W.n < 100 ? 1 : 0), fmt(mbps(W.bytes, cl.ms)), fmt(f.requests), cloneServer === null ? '-' : fmt(cloneServer), '-', fmib(cl.rssKiB), fpct(cpuPct(cl)), fother(cl), `fetched ${fmt(f.files)} files + ${fmt(f.objects)} objects, ${fbytes(f.bytes)}; wrote ${fmt(cl.json.checkout.written)}${probe === null ? '' : `; create probe ${clones.map((x) => fmt(x.probe)).join(' / ')} µs/file`}${runsNote(clones)}`]);
        noteFs(`clone ${label} (${kind})`);

        // CPU profiles of push and clone (A, and push B), on a second remote.
        if (PROFILE && (label === 'A' || kind === 'dir')) {
          const pr = remoteOf(kind, `prof-${label}`);
          await lode(ws, ['remote', 'add', 'prof', pr.url, ...pr.opts], { env });
          warm([path.join(ws, '.lode')]);
          log(`remotes (${kind}): profiling push ${label}`);
          out.profiles.push(await profiled(`push ${label} (${kind})`, ws, ['push', 'prof'], profDir, env));
          if (label === 'A') {
            const pc = path.join(root, `prof-clone-${kind}`);
            log(`remotes (${kind}): profiling clone ${label}`);
            out.profiles.push(await profiled(`clone ${label} (${kind})`, root, ['clone', pr.url, pc, ...pr.opts], profDir, env));
            discard(pc, true);
          }
          await pr.clear();
        }

        // B: overwrite 1 MiB in the middle of one file, commit -a, push; pull in the clone.
        if (label === 'B') {
          const file = paths[0];
          const off = Math.floor(SIZES.bFileSize / 2) - EDIT_BYTES / 2;
          const patch = randomBytes(EDIT_BYTES);
          const fd = fs.openSync(file, 'r+');
          try {
            fs.writeSync(fd, patch, 0, patch.length, off);
          } finally {
            fs.closeSync(fd);
          }
          warm([file]);
          log(`remotes (${kind}): 1 MiB edit: commit -a, push, pull`);
          const ec = await lode(ws, ['commit', '-a', '-m', 'edit']);
          warm([path.join(ws, '.lode')]);
          await waitIdle(`edit push (${kind})`);
          let m0 = motoCount(kind);
          const ep = await lode(ws, ['push'], { env });
          const epServer = motoSince(m0);
          const e = ep.json.pushed[0];
          warm([path.join(clone, '.lode')]);
          await waitIdle(`pull (${kind})`);
          m0 = motoCount(kind);
          const pl = await lode(clone, ['pull'], { env });
          const plServer = motoSince(m0);
          const pf = pl.json.fetched;
          // Check the clone got the edit.
          const back = Buffer.alloc(EDIT_BYTES);
          const cfile = path.join(clone, W.dir, path.basename(file));
          const cfd = fs.openSync(cfile, 'r');
          try {
            fs.readSync(cfd, back, 0, EDIT_BYTES, off);
          } finally {
            fs.closeSync(cfd);
          }
          const ok = back.equals(patch) && fs.statSync(cfile).size === SIZES.bFileSize;
          if (!ok) warn(`pull (${kind}): the clone's ${path.basename(file)} does not hold the edit`);
          if (pl.json.outcome !== 'fastForward') warn(`pull (${kind}) outcome ${pl.json.outcome}, expected fastForward`);
          const ratio = e.bytes / SIZES.bFileSize;
          out.edit[kind] = {
            commitMs: ec.ms,
            push: { ms: ep.ms, objects: e.objects, bytes: e.bytes, packs: e.packs, requests: e.requests, serverRequests: epServer, ratioToFile: ratio },
            pull: { ms: pl.ms, bytes: pf.bytes, reused: pf.reused, files: pf.files, objects: pf.objects, requests: pf.requests, serverRequests: plServer, written: pl.json.checkout?.written ?? null, rssKiB: pl.rssKiB, verified: ok },
          };
          editRows.push([kind, fms(ec.ms), fms(ep.ms), fbytes(e.bytes), `${fmt(ratio * 100, 2)}%`, fmt(e.objects), fmt(e.requests), fms(pl.ms), fbytes(pf.bytes), fbytes(pf.reused), fmt(pf.requests), epServer === null ? '-' : `${fmt(epServer)} / ${fmt(plServer)}`, ok ? 'yes' : 'NO']);
          noteFs(`pull ${label} (${kind})`);
        }
        discard(clone, W.many);
        discard(ws, W.many);
        await remote.clear();
        noteFs(`after clearing ${label} (${kind})`);
      }
    };

    let found = null;
    if (NO_DVC) out.dvc = { reason: 'skipped (--no-dvc)' };
    else {
      log('remotes: looking for dvc');
      found = findDvc({ install: DVC_INSTALL, log });
      out.dvc = found.bin ? { version: found.version, how: found.how, s3: found.s3, runs: {} } : { reason: found.reason };
      if (!found.bin) found = null;
    }
    const dvcArgs = { found, root, env, moto, remoteOf, discard, gen, wl, out, noteFs, elapsedS, motoCount, motoSince };

    // Phase A (small files) first, for lode and DVC: nothing is deleted meanwhile
    // (trees are moved aside); then the trash goes, and phase B (two big files,
    // where creating a file costs nothing worth measuring) runs.
    for (const kind of kinds) await lodeSteps(kind, 'A');
    if (found) await dvcCompare({ ...dvcArgs, label: 'A' });
    fs.rmSync(trash, { recursive: true, force: true });
    fs.mkdirSync(trash, { recursive: true });
    out.mainRepoDropped = dropMainRepo();
    noteFs('after emptying the trash');
    for (const kind of kinds) await lodeSteps(kind, 'B');
    if (found) await dvcCompare({ ...dvcArgs, label: 'B' });
  } finally {
    if (moto) {
      out.moto = { endpoint: moto.endpoint, requests: moto.requests, byMethod: moto.byMethod, rssKiB: moto.rssKiB() };
      await moto.stop();
      exitHooks.delete(moto.killSync);
      log('remotes: moto stopped');
    }
    noteFs();
    fs.rmSync(root, { recursive: true, force: true });
  }

  // ---- tables
  table('8a. remotes: push and clone with lode (fresh workspace each; directory remote on the bench dir, S3 on moto)', ['remote', 'step', 'ms', 'objects/s', 'files/s', 'MB/s', 'requests', 'moto requests', 'packs', 'peak RSS MiB', 'CPU', 'other CPU', 'note'], rows, [
    'requests = what lode reports (--json); moto requests = requests moto logged meanwhile (S3 only). other CPU = cores other processes (moto included) used meanwhile.',
    'clone = init + remote add + fetch + checkout (copy) into a new directory; files/s and MB/s over the dataset.',
    `ext4 without a journal skips, one by one, inodes freed in the last 1-6 min: the section starts with a sync and ${(out.settleMs ?? 0) > 1500 ? `waited ${fmt(out.settleMs / 1000, 0)} s` : 'no wait'} for the earlier sections' deletions to age past 60 s, ${out.spreadDirs ? 'each workspace, clone and remote gets its own block group (chattr +T on the section dir), ' : ''}and small-file trees are moved aside, not deleted, until the small-file phase (A, lode then DVC) is over.`,
    'create probe = µs per new 4 KiB file (open wx + write + rename) in a fresh directory of the section just before the step.',
    `disk: the filesystem's used space grew by at most ${fmt(out.peakFsGrowthMiB ?? null)} MiB during this section (workspaces, clones, remotes, and moto's spooled objects, which du does not see)${out.mainRepoDropped ? '; the main repository of sections 3-7 was deleted before the B phase' : ''}.`,
    ...notes,
  ]);
  if (editRows.length) {
    table(`8b. a 1 MiB edit in the middle of one ${SIZES.bFileSize / MiB} MiB file: commit -a, push, then pull in the clone`, ['remote', 'commit ms', 'push ms', 'sent', `of ${SIZES.bFileSize / MiB} MiB`, 'objects', 'push req', 'pull ms', 'fetched', 'reused', 'pull req', 'moto req push / pull', 'clone has the edit'], editRows, [
      'sent = pushed[0].bytes; fetched / reused = pull fetched.bytes / fetched.reused (chunks copied from the previous version in the local cache).',
    ]);
  }
  const d = out.dvc;
  if (d?.reason) {
    console.log(d.reason.startsWith('skipped') ? `\ndvc: ${d.reason}` : `\ndvc: not installed (${d.reason})`);
  } else if (d) {
    const dRows = [];
    const cmp = [];
    for (const label of ['A', 'B']) {
      const run = d.runs[label];
      if (!run) {
        dRows.push(['-', wl[label].desc, 'all', 'n/a', '-', '-', '-', d.skipB ?? 'not run']);
        continue;
      }
      if (run.error) {
        dRows.push(['-', wl[label].desc, 'all', 'n/a', '-', '-', '-', run.error]);
      }
      if (run.add) {
        dRows.push(['-', wl[label].desc, 'dvc add', run.add.timedOut ? '> 300 s' : fsec(run.add.ms), fmib(run.add.rssKiB), '-', '-', '']);
        const lodeAdd = out.kinds.dir?.[`push${label}`];
        if (lodeAdd) cmp.push(['local', wl[label].desc, 'add (lode add + commit / dvc add)', fsec(lodeAdd.addMs + lodeAdd.commitMs), run.add.timedOut ? '> 300 s' : fsec(run.add.ms), fx(run.add.ms / (lodeAdd.addMs + lodeAdd.commitMs), run.add.timedOut)]);
      }
      for (const kind of kinds) {
        const r = run[kind];
        if (!r) continue;
        if (r.reason) {
          dRows.push([kind, wl[label].desc, 'push / pull', 'n/a', '-', '-', '-', r.reason]);
          continue;
        }
        const L = out.kinds[kind] ?? {};
        for (const [step, lodeStep, lodeName] of [['push', `push${label}`, 'push'], ['pull', `clone${label}`, 'clone']]) {
          const x = r[step];
          if (!x) continue;
          dRows.push([kind, wl[label].desc, `dvc ${step}`, x.timedOut ? '> 300 s' : x.failed ? (x.ms === undefined ? 'n/a' : 'failed') : fsec(x.ms), fmib(x.rssKiB), x.serverRequests === null || x.serverRequests === undefined ? '-' : fmt(x.serverRequests), x.remoteFiles === undefined ? '-' : `${fmt(x.remoteFiles)} / ${fbytes(x.remoteBytes)}`, x.note ?? '']);
          const l = L[lodeStep];
          if (l && !x.failed) cmp.push([kind, wl[label].desc, `${step} (lode ${lodeName} / dvc ${step})`, fsec(l.ms), x.timedOut ? '> 300 s' : fsec(x.ms), fx(x.ms / l.ms, x.timedOut)]);
        }
      }
    }
    table(`8c. DVC ${d.version} (${d.how}; s3 plugin ${d.s3 ? 'yes' : 'NO'}): same data, same kinds of remote`, ['remote', 'data', 'step', 'time', 'peak RSS MiB', 'moto requests', 'remote files / size', 'note'], dRows, [
      'dvc pull runs in a git clone of the DVC repo (.dvc files and config, empty cache): fetch + checkout, like lode clone.',
      `each DVC command capped at ${DVC_CAP_MS / 60000} min; DVC on B only while the bench is under ${DVC_B_BEFORE_S / 60} min.`,
    ]);
    table('8d. lode vs DVC (ratio = DVC time / lode time; > 1 means lode is faster)', ['remote', 'data', 'step', 'lode', 'dvc', 'ratio'], cmp);
  }
  if (out.profiles.length) {
    for (const p of out.profiles) {
      for (const t of p.threads) {
        table(`profile: ${p.label} — ${t.thread} (${fms(t.totalMs)} ms profiled, wall ${fms(p.ms)} ms)`, ['self ms', 'share', 'function'], t.top.map((r) => [fms(r.ms), fpct(r.pct), r.fn]));
      }
    }
  }
  return out;
}

/** dvcCompare runs dvc add / push / pull on A (and B while time allows) on both kinds of remote. */
async function dvcCompare({ found, root, env, moto, remoteOf, discard, gen, wl, out, noteFs, elapsedS, motoCount, motoSince, label: only }) {
  const d = out.dvc;
  const dvcEnv = {
    ...env,
    PATH: `${found.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    DVC_NO_ANALYTICS: '1',
    DVC_GLOBAL_CONFIG_DIR: path.join(root, 'dvc-config', 'global'),
    DVC_SYSTEM_CONFIG_DIR: path.join(root, 'dvc-config', 'system'),
    DVC_SITE_CACHE_DIR: path.join(root, 'dvc-site-cache'),
    GIT_AUTHOR_NAME: 'lode bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'lode bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
  const dvc = async (cwd, args, { cap = true } = {}) => {
    const r = await runCmd(found.bin, args, { cwd, env: dvcEnv, timeoutMs: cap ? DVC_CAP_MS : undefined, allowFail: true });
    if (r.timedOut) {
      warn(`dvc ${args.join(' ')} timed out after ${DVC_CAP_MS / 1000} s`);
      r.ms = DVC_CAP_MS;
    } else if (r.code !== 0) {
      r.failed = true;
      r.why = (r.stderr.trim() || r.stdout.trim()).split('\n').filter(Boolean).slice(-2).join(' | ').slice(0, 300);
      warn(`dvc ${args.join(' ')} failed (${r.code}): ${r.why}`);
    }
    return r;
  };
  const git = async (cwd, args) => runCmd('git', args, { cwd, env: dvcEnv, measureMem: false });
  for (const label of [only]) {
    if (label === 'B' && !QUICK && elapsedS() > DVC_B_BEFORE_S) {
      d.skipB = `skipped: the bench had run ${fmt(elapsedS() / 60, 1)} min (DVC on B starts only under ${DVC_B_BEFORE_S / 60} min)`;
      log(`remotes: DVC on B ${d.skipB}`);
      continue;
    }
    const W = wl[label];
    const run = (d.runs[label] = {});
    const repo = path.join(root, `dvc-${label}`);
    try {
      log(`remotes (dvc): repo with ${W.desc}: git init, dvc init, dvc add`);
      fs.mkdirSync(repo, { recursive: true });
      await git(repo, ['-c', 'init.defaultBranch=main', 'init', '-q']);
      const init = await dvc(repo, ['init', '-q']);
      if (init.failed || init.timedOut) throw new Error(`dvc init: ${init.why ?? 'timed out'}`);
      await dvc(repo, ['config', 'core.analytics', 'false']);
      await dvc(repo, ['config', 'core.check_update', 'false']);
      gen(path.join(repo, 'data'), label);
      warm([path.join(repo, 'data')]);
      await waitIdle(`dvc add ${label}`);
      const add = await dvc(repo, ['add', 'data']);
      run.add = { ms: add.ms, timedOut: add.timedOut, rssKiB: add.rssKiB, cpuPct: cpuPct(add) };
      if (add.failed || add.timedOut) throw new Error(`dvc add: ${add.why ?? 'timed out'}`);
      noteFs(`dvc add ${label}`);
      // A on the directory remote: REPEAT_A pushes (each to a fresh remote) and pulls
      // (each in a fresh git clone), as for lode; S3 (moto-bound, ~1 min) and B once.
      const remotes = {};
      for (const kind of ['dir', 's3']) {
        if (kind === 's3' && (!moto || !found.s3)) continue;
        const reps = label === 'A' && kind === 'dir' ? REPEAT_A : 1;
        remotes[kind] = [];
        for (let i = 1; i <= reps; i++) {
          const rem = remoteOf(kind, `dvc-${label}${reps > 1 ? i : ''}`, W.many);
          rem.name = `${kind === 'dir' ? 'r' : 's3r'}${reps > 1 ? i : ''}`;
          await dvc(repo, ['remote', 'add', ...(kind === 'dir' && i === 1 ? ['-d'] : []), rem.name, rem.url]);
          if (kind === 's3') await dvc(repo, ['remote', 'modify', rem.name, 'endpointurl', moto.endpoint]);
          remotes[kind].push(rem);
        }
      }
      await git(repo, ['add', '-A']);
      await git(repo, ['commit', '-q', '-m', `data ${label}`]);

      for (const kind of ['dir', 's3']) {
        if (!remotes[kind]) {
          run[kind] = { reason: !moto ? `no S3 server: ${out.motoReason}` : 'dvc has no s3 support (pip install dvc-s3)' };
          continue;
        }
        if (label === 'B' && kind === 's3' && !QUICK && elapsedS() > DVC_LATE_S) {
          run[kind] = { reason: `skipped: the bench had run ${fmt(elapsedS() / 60, 1)} min` };
          continue;
        }
        const R = (run[kind] = {});
        const pushes = [];
        const pulls = [];
        for (const rem of remotes[kind]) {
          warm([path.join(repo, '.dvc', 'cache')]);
          await waitIdle(`dvc push ${label} (${kind})`);
          log(`remotes (dvc, ${kind}): push ${label} to ${rem.name}`);
          let m0 = motoCount(kind);
          const push = await dvc(repo, ['push', '-r', rem.name]);
          const pushServer = motoSince(m0);
          const rs = await rem.stats();
          pushes.push({ r: push, server: pushServer, rs });
          noteFs(`dvc push ${label} (${kind})`);
          if (push.failed || push.timedOut) break;
          const clone = path.join(root, `dvc-${label}-clone-${rem.name}`);
          await git(root, ['clone', '-q', repo, clone]);
          if (kind === 'dir') warm([rem.url]);
          await waitIdle(`dvc pull ${label} (${kind})`);
          const probe = label === 'A' ? createProbe(root, 200) : null;
          log(`remotes (dvc, ${kind}): pull ${label} from ${rem.name}`);
          m0 = motoCount(kind);
          const pull = await dvc(clone, ['pull', '-r', rem.name]);
          const pullServer = motoSince(m0);
          const got = countFiles(path.join(clone, 'data'));
          if (!pull.failed && !pull.timedOut && got !== W.n) warn(`dvc pull ${label} (${kind}) left ${got} files, expected ${W.n}`);
          pulls.push({ r: pull, server: pullServer, probe, got });
          noteFs(`dvc pull ${label} (${kind})`);
          discard(clone, W.many);
          await rem.clear();
          if (pull.failed || pull.timedOut) break;
        }
        // A failed or timed-out run decides the row (it is the last one); otherwise the median.
        const last = (xs) => xs[xs.length - 1];
        const pick = (xs) => (xs.length && (last(xs).r.failed || last(xs).r.timedOut) ? last(xs) : medianRun(xs));
        const pu = pick(pushes);
        R.push = { ms: pu.r.ms, runsMs: pushes.map((x) => x.r.ms), timedOut: pu.r.timedOut, failed: pu.r.failed, note: pu.r.why ?? runsNote(pushes).replace(/^; /, ''), rssKiB: pu.r.rssKiB, cpuPct: cpuPct(pu.r), serverRequests: pu.server, remoteFiles: pu.rs.files, remoteBytes: pu.rs.bytes };
        if (pulls.length) {
          const pl = pick(pulls);
          const probes = pulls.map((x) => x.probe).filter((x) => x !== null);
          R.pull = { ms: pl.r.ms, runsMs: pulls.map((x) => x.r.ms), timedOut: pl.r.timedOut, failed: pl.r.failed, note: pl.r.why ?? [runsNote(pulls).replace(/^; /, ''), probes.length ? `create probe ${probes.map((x) => fmt(x)).join(' / ')} µs/file` : ''].filter(Boolean).join('; '), rssKiB: pl.r.rssKiB, cpuPct: cpuPct(pl.r), serverRequests: pl.server, files: pl.got, createProbeUs: pl.probe };
        } else {
          R.pull = { failed: true, note: 'not run: push did not finish' };
        }
      }
    } catch (e) {
      run.error = e.message.split('\n')[0];
      warn(`DVC ${label}: ${e.message}`);
    } finally {
      discard(repo, W.many);
    }
  }
}

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
    if (ONLY_DIFF) await benchDiffOnly(benchDir);
    else await bench(benchDir);
  } finally {
    cleanup();
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
  const noteDisk = () => {
    const k = duKiB(benchDir);
    if (k !== null) peakDiskKiB = Math.max(peakDiskKiB, k);
  };
  noteDisk();

  // 1. Ceilings.
  log('ceilings: SHA-256, xxh64, FastCDC, read, write');
  const shaBytes = SIZES.shaBytes;
  await waitIdle('ceilings');
  const ceilSnap = cpuSnap();
  const ceilT0 = hr();
  const ceilU0 = process.cpuUsage();
  const sha1ms = await bestOf(3, () => sha256Single(shaBytes));
  const sha2ms = await bestOf(3, () => sha256Threads(2, shaBytes));
  const sha1 = mbps(shaBytes, sha1ms);
  const sha2 = mbps(2 * shaBytes, sha2ms);
  const xxhMs = await bestOf(3, () => xxh64Single(shaBytes));
  let cdc = null;
  for (let i = 0; i < 3; i++) {
    const c = await fastcdcSingle(shaBytes);
    if (c && (!cdc || c.ms < cdc.ms)) cdc = c;
  }
  readFilesMs(bPaths); // make sure they are in page cache
  const readMs = await bestOf(3, () => readFilesMs(bPaths));
  const scratch = path.join(benchDir, 'scratch.bin');
  // Writes allocate new page-cache pages. On VMs whose free memory goes back to
  // the host (balloon free-page reporting), the first touch of a page is far
  // dearer than reusing one just freed: measure both, the first is what a
  // command writing fresh data usually meets.
  const writeMs = writeFileMs(scratch, SIZES.bFileSize);
  fs.rmSync(scratch, { force: true });
  const writeRecycledMs = writeFileMs(scratch, SIZES.bFileSize);
  fs.rmSync(scratch, { force: true });
  const write2Ms = await writeThreads(2, benchDir, SIZES.bFileSize);
  const copyMs = await bestOf(2, () => {
    const t0copy = hr();
    fs.copyFileSync(bPaths[0], scratch);
    const ms = msSince(t0copy);
    fs.rmSync(scratch, { force: true });
    return ms;
  });
  const createUs = createProbe(benchDir);
  const ceilWall = msSince(ceilT0) / 1000;
  const ceilU = process.cpuUsage(ceilU0);
  const ceilMachine = busyCores(ceilSnap, cpuSnap());
  const ceilOther = ceilMachine === null ? null : Math.max(0, ceilMachine - (ceilU.user + ceilU.system) / 1e6 / ceilWall);
  const ceil = {
    sha256_1core_MBps: sha1,
    sha256_2threads_MBps: sha2,
    xxh64_1core_MBps: xxhMs === null ? null : mbps(shaBytes, xxhMs),
    fastcdc_1core_MBps: cdc === null ? null : mbps(shaBytes, cdc.ms),
    fastcdc_avgChunkKiB: cdc === null ? null : cdc.avgChunk / KiB,
    readB_MBps: mbps(bBytes, readMs),
    write_MBps: mbps(SIZES.bFileSize, writeMs),
    write_recycled_MBps: mbps(SIZES.bFileSize, writeRecycledMs),
    write_2threads_MBps: mbps(2 * SIZES.bFileSize, write2Ms),
    copyFile_MBps: mbps(SIZES.bFileSize, copyMs),
    generateB_MBps: res.generate.bMBps,
    otherCores: ceilOther,
    create4k_filesPerS: 1e6 / createUs,
    create4k_us: createUs,
  };
  // What one thread could reach doing read + SHA-256 + FastCDC + xxh64 + write in sequence.
  const perByte = [ceil.readB_MBps, sha1, ceil.xxh64_1core_MBps, ceil.fastcdc_1core_MBps, ceil.write_MBps].filter((x) => x && Number.isFinite(x)).reduce((s, x) => s + 1 / x, 0);
  ceil.addPipeline_1thread_MBps = 1 / perByte;
  // Two threads, one big file each: each thread gets half the measured 2-thread write rate.
  const perByte2 = perByte - 1 / ceil.write_MBps + 2 / ceil.write_2threads_MBps;
  ceil.addPipeline_2threads_MBps = 2 / perByte2;
  res.ceilings = ceil;
  table(`1. ceilings (in-process, same run, CPU ones best of 3; other processes used ${fmt(ceilOther, 2)} cores meanwhile)`, ['measure', 'MB/s', 'note'], [
    ['SHA-256, 1 core', fmt(sha1), `${fmt(shaBytes / MiB)} MiB from one 4 MiB buffer`],
    ['SHA-256, 2 threads (total)', fmt(sha2), `2 worker_threads x ${fmt(shaBytes / MiB)} MiB concurrently`],
    ['xxh64 (xxhash-wasm), 1 core', fmt(ceil.xxh64_1core_MBps), 'streaming create64(), 1 MiB slices'],
    ['FastCDC cutPoint (dist/), 1 core', fmt(ceil.fastcdc_1core_MBps), cdc ? `lode defaults, avg chunk ${fmt(cdc.avgChunk / KiB)} KiB` : ''],
    ['read B (page cache)', fmt(ceil.readB_MBps), 'readSync loop, 4 MiB buffer'],
    ['write new file, 1 thread', fmt(ceil.write_MBps), `writeSync loop, 4 MiB buffer, ${fmt(SIZES.bFileSize / MiB)} MiB (first run: fresh pages)`],
    ['  again, into pages just freed', fmt(ceil.write_recycled_MBps), 'same, right after deleting the first file (for contrast)'],
    ['write new files, 2 threads (total)', fmt(ceil.write_2threads_MBps), `2 worker_threads x ${fmt(SIZES.bFileSize / MiB)} MiB concurrently (first run)`],
    ['copyFileSync B file', fmt(ceil.copyFile_MBps), 'copy_file_range in the kernel'],
    ['generate B (AES-CTR)', fmt(ceil.generateB_MBps), 'workload generation, for reference'],
    ['create 4 KiB files, 1 thread', `${fmt(ceil.create4k_filesPerS)} files/s`, `open(wx) + write + close + rename: ${fmt(createUs)} µs/file now`],
    ['add pipeline estimate, 1 thread', fmt(ceil.addPipeline_1thread_MBps), 'read+SHA+CDC+xxh64+write in series (sum of per-byte costs)'],
    ['add pipeline estimate, 2 threads', fmt(ceil.addPipeline_2threads_MBps), 'same, one big file per thread, 2-thread write rate'],
  ]);

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

  // 6. checkout per link type.
  /**
   * measureCheckout empties `dir` (rm -rf, or moved aside), restores it with
   * `lode checkout` in `wsRepo` and returns the result entry and its table row.
   */
  const measureCheckout = async ({ wsRepo, type, label, dir, n, bytes, how = 'rm', probeBase = benchDir, method = type }) => {
    let trash;
    if (how === 'rm') {
      fs.rmSync(dir, { recursive: true, force: true });
      if (label === 'A') markMassDelete(dir);
    }
    else {
      trash = path.join(probeBase, `trash-${type}-${label}`);
      fs.renameSync(dir, trash);
    }
    warm([path.join(wsRepo, '.lode', 'cache')]);
    await waitIdle(`checkout ${label} ${method}`);
    const probe = label === 'A' ? createProbe(probeBase) : null;
    log(`checkout ${label} with cache.type=${type}${method !== type ? ` [${method}]` : ''} (${how === 'rm' ? 'after rm -rf' : 'dir moved aside'})`);
    let r = await lode(wsRepo, ['checkout'], { allowFail: true });
    let forced = false;
    if (r.code === 7) {
      forced = true;
      r = await lode(wsRepo, ['checkout', '--force']);
    } else if (r.code !== 0) throw new Error(`lode checkout failed (${r.code}): ${r.stderr}`);
    const got = countFiles(dir);
    if (got !== n) warn(`checkout ${label} (${method}) left ${got} files, expected ${n}`);
    const methods = r.json.methods;
    if (methods[type] !== n) warn(`checkout ${label} (${method}) asked for ${type} but placed ${JSON.stringify(methods)}`);
    const entry = { ms: r.ms, filesPerS: n / (r.ms / 1000), MBps: mbps(bytes, r.ms), rssKiB: r.rssKiB, cpuPct: cpuPct(r), otherCores: r.otherCores, methods, forced, createProbeUs: probe };
    const row = [method, how === 'rm' ? label : `${label} (moved aside)`, fms(r.ms), fmt(n / (r.ms / 1000), n < 100 ? 1 : 0), fmt(mbps(bytes, r.ms)), fmib(r.rssKiB), fpct(cpuPct(r)), fother(r), probe === null ? '-' : fmt(probe), Object.entries(methods).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') + (forced ? ' (--force)' : '')];
    noteDisk();
    if (trash) {
      fs.rmSync(trash, { recursive: true, force: true });
      if (label === 'A') markMassDelete(trash);
    }
    return { entry, row };
  };

  const co = {};
  const coRows = [];
  const coNotes = [];
  for (const type of ['copy', 'hardlink', 'reflink']) {
    if (type === 'reflink' && !reflink) continue; // measured on XFS below, if it can be
    await lode(repo, ['config', 'cache.type', type]);
    co[type] = {};
    const runs = [['A', aDir, SIZES.aFiles, aBytes, 'rm'], ['B', bDir, SIZES.bFiles, bBytes, 'rm']];
    // ext4 without a journal scans past inodes deleted in the last minutes when it
    // allocates new ones, so "rm -rf, then create 20k files" is slower there than
    // on journaled filesystems; measure copy A once more with the directory moved aside.
    if (type === 'copy') runs.push(['A', aDir, SIZES.aFiles, aBytes, 'moved']);
    for (const [label, dir, n, bytes, how] of runs) {
      const { entry, row } = await measureCheckout({ wsRepo: repo, type, label, dir, n, bytes, how });
      co[type][how === 'rm' ? label : `${label}_movedAside`] = entry;
      coRows.push(row);
    }
  }
  await lode(repo, ['config', 'cache.type', 'copy']);

  // 6 (reflink). The bench dir has no reflink: a second workspace on a loop-mounted XFS.
  let xfs = null;
  if (!reflink) {
    xfs = { reason: null };
    res.xfs = xfs;
    const sizeMiB = QUICK ? 1024 : 4096;
    const needMiB = Math.ceil((2 * (bBytes + SIZES.aFiles * Math.max(SIZES.aFileSize, 4 * KiB))) / MiB) + 256;
    const xfsRoot = `${benchDir}-xfs`;
    const parentFree = (() => {
      try {
        const s = fs.statfsSync(path.dirname(xfsRoot));
        return (s.bavail * s.bsize) / MiB;
      } catch {
        return null;
      }
    })();
    if (NO_XFS) xfs.reason = 'skipped (--no-xfs)';
    else xfs.reason = xfsUnavailable();
    if (!xfs.reason && needMiB > sizeMiB) xfs.reason = `a ${sizeMiB} MiB image is too small for A + B twice (${needMiB} MiB)`;
    if (!xfs.reason && parentFree !== null && parentFree < needMiB + 512) xfs.reason = `not enough free space for the XFS image (${fmt(parentFree)} MiB free, ~${fmt(needMiB + 512)} MiB needed)`;
    if (!xfs.reason && fs.existsSync(xfsRoot)) xfs.reason = `${xfsRoot} already exists`;
    let m = null;
    if (!xfs.reason) {
      log(`reflink: mkfs.xfs -m reflink=1 on a ${sizeMiB} MiB sparse image, loop mount`);
      try {
        m = mountXfs(xfsRoot, sizeMiB);
      } catch (e) {
        xfs.reason = `could not mount XFS: ${e.message}`;
      }
    }
    if (m) {
      const xfsDisk = () => duKiB(m.img) ?? 0;
      const noteDiskXfs = () => {
        const k = duKiB(benchDir);
        if (k !== null) peakDiskKiB = Math.max(peakDiskKiB, k + xfsDisk());
      };
      try {
        xfs.sizeMiB = sizeMiB;
        xfs.setupMs = m.setupMs;
        xfs.mount = m.dir;
        xfs.reflinkProbe = reflinkSupported(m.dir);
        if (!xfs.reflinkProbe) warn(`reflink probe failed inside the XFS mount ${m.dir}`);
        const ws = path.join(m.dir, 'ws');
        const xa = path.join(ws, 'a');
        const xb = path.join(ws, 'b');
        // Same bytes as A and B, as plain 0644 files (the main a/ may be hard links to the cache now).
        log('reflink: copying A and B into the XFS workspace');
        const tCopy = hr();
        for (const p of aPaths) {
          const dest = path.join(xa, path.relative(aDir, p));
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          fs.writeFileSync(dest, fs.readFileSync(p));
        }
        fs.mkdirSync(xb, { recursive: true });
        for (const p of bPaths) {
          const dest = path.join(xb, path.basename(p));
          fs.copyFileSync(p, dest);
          fs.chmodSync(dest, 0o644);
        }
        xfs.populateMs = msSince(tCopy);
        const xInit = await lode(ws, ['init']);
        warm([xa]);
        await waitIdle('add A (XFS)');
        log('reflink: add A, add B, commit on XFS');
        const xAddA = await lode(ws, ['add', 'a']);
        if (xAddA.json.added !== SIZES.aFiles) warn(`add A on XFS reported ${xAddA.json.added} added, expected ${SIZES.aFiles}`);
        warm([xb]);
        await waitIdle('add B (XFS)');
        const xAddB = await lode(ws, ['add', 'b']);
        if (xAddB.json.added !== SIZES.bFiles) warn(`add B on XFS reported ${xAddB.json.added} added, expected ${SIZES.bFiles}`);
        const xCommit = await lode(ws, ['commit', '-m', 'A + B']);
        noteDiskXfs();
        // XFS flushes a file's dirty pages before cloning it: write the fresh cache back
        // now, so the checkout rows measure the clone, not add's deferred writeback.
        const tSync = hr();
        const synced = spawnSync('sync', ['-f', m.dir], { stdio: 'ignore' }).status === 0;
        xfs.syncMs = msSince(tSync);
        if (!synced) warn('sync -f on the XFS mount failed; reflink rows may include writeback');
        // Fixed cost of any checkout here (start-up, workspace scan, index write), nothing to place.
        const xNoop = await lode(ws, ['checkout']);
        const step = (r, bytes) => ({ ms: r.ms, MBps: bytes ? mbps(bytes, r.ms) : null, rssKiB: r.rssKiB, cpuPct: cpuPct(r), otherCores: r.otherCores });
        xfs.init = step(xInit);
        xfs.addA = { ...step(xAddA, aBytes), filesPerS: SIZES.aFiles / (xAddA.ms / 1000) };
        xfs.addB = { ...step(xAddB, bBytes), ratioToSha2: mbps(bBytes, xAddB.ms) / sha2 };
        xfs.commit = step(xCommit);
        xfs.rows = [
          ['mkfs.xfs + loop mount', fms(m.setupMs), '-', '-', '-', '-', '-', `${fmt(sizeMiB)} MiB sparse image, reflink probe ${xfs.reflinkProbe ? 'ok' : 'FAILED'}`],
          ['copy A + B into the workspace', fms(xfs.populateMs), fmt(mbps(aBytes + bBytes, xfs.populateMs)), '-', '-', '-', '-', 'bench itself (not lode)'],
          ['lode init', fms(xInit.ms), '-', '-', fmib(xInit.rssKiB), fpct(cpuPct(xInit)), fother(xInit), ''],
          [`add A (${fmt(SIZES.aFiles)} x 4 KiB)`, fms(xAddA.ms), fmt(xfs.addA.MBps), fpct(xfs.addA.MBps / sha2), fmib(xAddA.rssKiB), fpct(cpuPct(xAddA)), fother(xAddA), `${fmt(xfs.addA.filesPerS)} files/s`],
          [`add B (${SIZES.bFiles} x ${SIZES.bFileSize / MiB} MiB)`, fms(xAddB.ms), fmt(xfs.addB.MBps), fpct(xfs.addB.ratioToSha2), fmib(xAddB.rssKiB), fpct(cpuPct(xAddB)), fother(xAddB), 'cache written with ordinary writes'],
          ['commit A + B', fms(xCommit.ms), '-', '-', fmib(xCommit.rssKiB), fpct(cpuPct(xCommit)), fother(xCommit), ''],
          ['sync -f (write back the new cache)', fms(xfs.syncMs), '-', '-', '-', '-', '-', 'XFS writes back dirty data before cloning it'],
          ['checkout with nothing to restore', fms(xNoop.ms), '-', '-', fmib(xNoop.rssKiB), fpct(cpuPct(xNoop)), fother(xNoop), `fixed cost of a checkout here (written ${xNoop.json.written})`],
        ];
        xfs.noopCheckout = step(xNoop);

        co.reflink = { fs: 'xfs (loop-mounted image, reflink=1)' };
        xfs.copy = {};
        // reflink first (what this section is for), then copy on the same filesystem for comparison.
        for (const type of ['reflink', 'copy']) {
          await lode(ws, ['config', 'cache.type', type]);
          for (const [label, dir, n, bytes] of [['A', xa, SIZES.aFiles, aBytes], ['B', xb, SIZES.bFiles, bBytes]]) {
            const { entry, row } = await measureCheckout({ wsRepo: ws, type, label, dir, n, bytes, probeBase: m.dir, method: `${type} (XFS)` });
            noteDiskXfs();
            (type === 'reflink' ? co.reflink : xfs.copy)[label] = entry;
            coRows.push(row);
          }
        }
        const used = ['A', 'B'].map((l) => {
          const e = co.reflink[l];
          const n = l === 'A' ? SIZES.aFiles : SIZES.bFiles;
          return { l, n, k: e.methods.reflink ?? 0 };
        });
        xfs.reflinkUsed = used.every((u) => u.k === u.n);
        coNotes.push(`reflink really used on XFS: ${xfs.reflinkUsed ? 'yes' : 'NO'} (${used.map((u) => `${u.l}: methods.reflink ${fmt(u.k)} of ${fmt(u.n)}`).join('; ')}).`);
      } catch (e) {
        // Keep the rest of the bench: the reflink rows become n/a with the reason.
        xfs.reason = `failed: ${e.message.split('\n')[0]}`;
        warn(`XFS reflink section failed: ${e.stack ?? e}`);
      } finally {
        const tU = hr();
        try {
          xfs.cleanup = m.cleanup();
        } catch (e) {
          xfs.cleanup = `failed: ${e.message}`;
          warn(`XFS cleanup: ${e.message}`);
        }
        xfs.cleanupMs = msSince(tU);
        if (xfs.rows) xfs.rows.push(['unmount + delete image', fms(xfs.cleanupMs), '-', '-', '-', '-', '-', String(xfs.cleanup)]);
        log(`reflink: XFS ${xfs.cleanup} and image deleted`);
      }
    }
    if (xfs.reason) {
      co.reflink = null;
      coRows.push(['reflink', 'A', 'n/a', '-', '-', '-', '-', '-', '-', `n/a (bench dir has no reflink; XFS: ${xfs.reason})`]);
      coRows.push(['reflink', 'B', 'n/a', '-', '-', '-', '-', '-', '-', `n/a (bench dir has no reflink; XFS: ${xfs.reason})`]);
    }
  }
  coRows.push(['switch', `c2 -> c1`, fms(swBack.ms), '-', '-', fmib(swBack.rssKiB), fpct(cpuPct(swBack)), fother(swBack), '-', `1 file of A differs; wrote ${swBack.json.written}`]);
  coRows.push(['switch', `c1 -> main`, fms(swFwd.ms), '-', '-', fmib(swFwd.rssKiB), fpct(cpuPct(swFwd)), fother(swFwd), '-', `wrote ${swFwd.json.written}`]);
  res.checkout = co;
  table('6. checkout (restore a deleted dataset from HEAD; then a 1-file switch)', ['method', 'data', 'ms', 'files/s', 'MB/s', 'peak RSS MiB', 'CPU', 'other CPU', 'create µs', 'placed'], coRows, [
    'create µs = fs create probe (open wx + 4 KiB write + rename, 1 thread) just before the run: what the filesystem charges per new file at that moment.',
    'moved aside = the data dir renamed out of the workspace instead of deleted (no recently-deleted inodes for ext4 to skip).',
    ...(xfs?.rows ? [`(XFS) rows: a second workspace with the same A and B on a loop-mounted XFS image (reflink=1), ${fmt(xfs.sizeMiB)} MiB sparse, itself a file on the bench dir's ${meta.fsType}.`] : []),
    ...coNotes,
  ]);
  if (xfs?.rows) {
    table('6x. the XFS workspace behind the (XFS) rows: setup, add, commit', ['step', 'ms', 'MB/s', 'vs SHA-256 2 thr', 'peak RSS MiB', 'CPU', 'other CPU', 'note'], xfs.rows, [
      'add on XFS: lode writes its cache with ordinary writes (no reflink from workspace to cache), so compare with section 3.',
    ]);
  }

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
    for (const p of profiles) {
      for (const t of p.threads) {
        table(`profile: ${p.label} — ${t.thread} (${fms(t.totalMs)} ms profiled, wall ${fms(p.ms)} ms)`, ['self ms', 'share', 'function'], t.top.map((r) => [fms(r.ms), fpct(r.pct), r.fn]));
      }
    }
  }

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
