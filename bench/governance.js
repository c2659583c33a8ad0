#!/usr/bin/env node
// lode bench, governance section: the cost of the data contract.
//  1. `lode check`'s table profile (one scan: types, nulls, ranges, labels,
//     duplicate keys; plus a numeric sample for drift) of the bench CSV,
//     beside the keyed table diff of two versions of it, each in a child
//     process reporting its peak RSS;
//  2. the added cost of a commit that touches no table, with a contract that
//     covers a big table: `lode commit` with and without the contract (CLI,
//     median of 5), and the contract's evaluation alone in process (warm
//     profile cache, median of 20).
//
//   node bench/governance.js            1 GB CSV per side
//   node bench/governance.js --quick    100 MB
//
// Needs the build (`npx tsc -p .`). LODE_BENCH_DIR (default <os.tmpdir()>/lode-bench-gov-<pid>) is removed at the end.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LODE = path.join(ROOT, 'bin', 'lode.js');
const MB = 1e6;
const LABELS = ['cat', 'dog', 'bird', 'fish', 'horse', 'cow', 'sheep'];

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}

/** writeCsvPair writes two versions (the second with 1% of rows relabelled, removed or added), as bench/tabular.js does. */
function writeCsvPair(dir, bytes) {
  const before = path.join(dir, 'before.csv');
  const after = path.join(dir, 'after.csv');
  const fb = fs.openSync(before, 'w');
  const fa = fs.openSync(after, 'w');
  const header = 'id,label,f1,f2,f3,f4,note,date\n';
  fs.writeSync(fb, header);
  fs.writeSync(fa, header);
  const r = rng(42);
  let id = 0;
  let newId = 1e10;
  let written = header.length;
  while (written < bytes) {
    let sb = '';
    let sa = '';
    for (let i = 0; i < 20000; i++) {
      id++;
      const label = LABELS[(r() * LABELS.length) | 0];
      const rest = `${(r() * 100).toFixed(4)},${(r() * 1000) | 0},${(r() - 0.5).toFixed(6)},${(r() * 1e6).toFixed(2)},note ${id % 977},2024-0${1 + ((r() * 9) | 0)}-1${(r() * 9) | 0}\n`;
      const row = `${id},${label},${rest}`;
      sb += row;
      const x = r();
      if (x < 0.006) sa += `${id},${LABELS[(LABELS.indexOf(label) + 1) % LABELS.length]},${rest}`;
      else if (x < 0.008) continue;
      else if (x < 0.01) sa += row + `${newId++},cat,1.0000,1,0.000000,1.00,new,2024-01-01\n`;
      else sa += row;
    }
    fs.writeSync(fb, sb);
    fs.writeSync(fa, sa);
    written += sb.length;
  }
  fs.closeSync(fb);
  fs.closeSync(fa);
  return { before, after };
}

function child(script, args, dir) {
  const file = path.join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  fs.writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited with ${code}`))));
  });
}

const dist = (p) => JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', p)).href);

function timeDiff(files, tmp) {
  return child(
    `import * as fs from 'node:fs';
    const { diffTable } = await import(${dist('tabular/index.js')});
    const [before, after, tmp] = process.argv.slice(2);
    const side = (file) => ({ file, size: fs.statSync(file).size, label: file });
    const t0 = performance.now();
    await diffTable('bench', 'csv', side(before), side(after), { key: ['id'], tmpDir: tmp });
    process.stdout.write(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssKiB: process.resourceUsage().maxRSS }));`,
    [files.before, files.after, tmp],
    tmp,
  );
}

function timeProfile(file, tmp, sample) {
  return child(
    `import * as fs from 'node:fs';
    const { profileTable } = await import(${dist('tabular/profile.js')});
    const [file, tmp, sample] = process.argv.slice(2);
    const t0 = performance.now();
    const p = await profileTable('csv', { file, size: fs.statSync(file).size, label: file }, { unique: ["id"], categoryLimit: 64, ...(sample === "1" ? { sample: ["f1"] } : {}), tmpDir: tmp });
    process.stdout.write(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssKiB: process.resourceUsage().maxRSS, rows: p.rows, dups: p.duplicateKeys }));`,
    [file, tmp, sample ? '1' : '0'],
    tmp,
  );
}

function lode(args, cwd) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [LODE, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '1' } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`lode ${args.join(' ')}: ${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const CONTRACT = `[[table]]
path = "data/*.csv"
columns = { id = "integer", label = "string", f1 = "number", f2 = "integer" }
unique = ["id"]
labels = { label = ["cat", "dog", "bird", "fish", "horse", "cow", "sheep"] }
range = { f1 = [0, 100] }
[table.drift]
max_share_shift_pp = { label = 5 }
max_psi = { f1 = 0.2 }
`;

/** commitOverhead times commits that touch only a small file, with and without a contract over a big table. */
async function commitOverhead(dir, table) {
  const ws = path.join(dir, 'ws');
  fs.mkdirSync(path.join(ws, 'data', 'notes'), { recursive: true });
  fs.copyFileSync(table, path.join(ws, 'data', 'table.csv'));
  fs.writeFileSync(path.join(ws, 'data', 'notes', 'n.txt'), 'n0\n');
  lode(['init'], ws);
  fs.writeFileSync(path.join(ws, 'lode.checks.toml'), CONTRACT);
  lode(['add', 'data'], ws);
  const firstMs = lode(['commit', '-m', 'first (profiles the table)'], ws);
  const times = { with: [], without: [] };
  for (let i = 0; i < 10; i++) {
    const mode = i % 2 === 0 ? 'with' : 'without';
    if (mode === 'without') fs.renameSync(path.join(ws, 'lode.checks.toml'), path.join(dir, 'aside.toml'));
    fs.writeFileSync(path.join(ws, 'data', 'notes', 'n.txt'), `n${i + 1}\n`);
    lode(['add', 'data/notes'], ws);
    times[mode].push(lode(['commit', '-m', `note ${i}`], ws));
    if (mode === 'without') fs.renameSync(path.join(dir, 'aside.toml'), path.join(ws, 'lode.checks.toml'));
  }
  const inProcess = await child(
    `const { Repository } = await import(${dist('repo/repository.js')});
    const { evaluateContract, readContract } = await import(${dist('repo/checks.js')});
    const { TreePool } = await import(${dist('graph/trees.js')});
    const { resolveRevision } = await import(${dist('graph/commits.js')});
    const repo = Repository.open(process.argv[2]);
    const c = resolveRevision(repo.store, repo.refs, 'HEAD');
    const p = resolveRevision(repo.store, repo.refs, 'HEAD~1');
    const ms = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const contract = readContract(repo);
      const r = await evaluateContract(repo, contract, new TreePool(repo.store), c.commit.tree, p.commit.tree);
      ms.push(performance.now() - t0);
      if (r.tables.scanned !== 0) throw new Error('the table was scanned again');
    }
    ms.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({ medianMs: ms[10], maxMs: ms[19] }));`,
    [ws],
    dir,
  );
  // What a commit process pays: loading the contract machinery (table readers, the TOML parser) once, then one evaluation.
  const cold = [];
  for (let i = 0; i < 3; i++) {
    cold.push(
      (
        await child(
          `const { Repository } = await import(${dist('repo/repository.js')});
          const { TreePool } = await import(${dist('graph/trees.js')});
          const { resolveRevision } = await import(${dist('graph/commits.js')});
          const repo = Repository.open(process.argv[2]);
          const c = resolveRevision(repo.store, repo.refs, 'HEAD');
          const p = resolveRevision(repo.store, repo.refs, 'HEAD~1');
          const t0 = performance.now();
          const { evaluateContract, readContract } = await import(${dist('repo/checks.js')});
          const r = await evaluateContract(repo, readContract(repo), new TreePool(repo.store), c.commit.tree, p.commit.tree);
          if (r.tables.scanned !== 0) throw new Error('the table was scanned again');
          process.stdout.write(JSON.stringify({ ms: performance.now() - t0 }));`,
          [ws],
          dir,
        )
      ).ms,
    );
  }
  return { firstMs, withMs: median(times.with), withoutMs: median(times.without), evaluateMs: inProcess.medianMs, evaluateMaxMs: inProcess.maxMs, coldMs: median(cold) };
}

export async function benchGovernance({ quick = false, tmp } = {}) {
  const dir = fs.mkdtempSync(path.join(tmp ?? os.tmpdir(), 'gov-'));
  try {
    const files = writeCsvPair(dir, (quick ? 100 : 1000) * MB);
    const size = fs.statSync(files.before).size;
    const diff = await timeDiff(files, dir);
    const check = await timeProfile(files.before, dir, false);
    const checkDrift = await timeProfile(files.before, dir, true);
    const overhead = await commitOverhead(dir, quick ? files.before : await smallTable(dir));
    return {
      csvBytes: size,
      diff: { seconds: diff.seconds, mbPerSecPerSide: size / MB / diff.seconds, peakRssMiB: Math.round(diff.maxRssKiB / 1024) },
      check: { seconds: check.seconds, mbPerSec: size / MB / check.seconds, peakRssMiB: Math.round(check.maxRssKiB / 1024), rows: check.rows },
      checkWithSample: { seconds: checkDrift.seconds, mbPerSec: size / MB / checkDrift.seconds, peakRssMiB: Math.round(checkDrift.maxRssKiB / 1024) },
      commit: overhead,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** smallTable: the commit measurement does not need the 1 GB file in a workspace (adding it is section 3's business). */
async function smallTable(dir) {
  const d = path.join(dir, 'small');
  fs.mkdirSync(d);
  return writeCsvPair(d, 100 * MB).before;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const tmp = process.env.LODE_BENCH_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), `lode-bench-gov-${process.pid}-`));
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const r = await benchGovernance({ quick, tmp });
    const mb = (r.csvBytes / MB).toFixed(0);
    console.log(`governance: data contract cost (CSV ${mb} MB per side, 8 columns)`);
    console.log(`  diff, key id (2 sides)         ${r.diff.seconds.toFixed(2)} s  ${r.diff.mbPerSecPerSide.toFixed(1)} MB/s per side  peak RSS ${r.diff.peakRssMiB} MiB`);
    console.log(`  check profile (unique id)      ${r.check.seconds.toFixed(2)} s  ${r.check.mbPerSec.toFixed(1)} MB/s           peak RSS ${r.check.peakRssMiB} MiB`);
    console.log(`  check profile + PSI sample     ${r.checkWithSample.seconds.toFixed(2)} s  ${r.checkWithSample.mbPerSec.toFixed(1)} MB/s           peak RSS ${r.checkWithSample.peakRssMiB} MiB`);
    const c = r.commit;
    console.log(`  first commit with contract (profiles the table): ${c.firstMs.toFixed(0)} ms`);
    console.log(`  commit touching no table: ${c.withMs.toFixed(0)} ms with contract, ${c.withoutMs.toFixed(0)} ms without (CLI medians of 5)`);
    console.log(`  contract evaluation alone, warm cache: median ${c.evaluateMs.toFixed(2)} ms, max ${c.evaluateMaxMs.toFixed(2)} ms (target < 10 ms)`);
    console.log(`  in a fresh process (module loading + TOML parse + evaluation): median of 3 ${c.coldMs.toFixed(1)} ms`);
    console.log(JSON.stringify(r));
  } finally {
    if (!process.env.LODE_BENCH_DIR) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
