#!/usr/bin/env node
// lode against its peers on large files: the same 2 x 512 MiB of
// incompressible data through add, push to a directory remote and pull into
// a fresh workspace, for lode, DVC, restic and Oxen (whichever are available:
// see bench/lib/peers.js for how each is found or installed once), in one run
// on one machine, RUNS times (default 3, fresh repository and remote each
// time; ranges are min–max over the runs, the ratio is of medians).
//
//   node bench/peers.js             2 x 512 MiB
//   node bench/peers.js --quick     2 x 64 MiB
// Options: --keep (leave the bench directory), --no-dvc-install (install no peer).
// Environment: LODE_BENCH_DIR (default <tmp>/lode-peers-<pid>), LODE_BENCH_RUNS (default 3),
// LODE_BENCH_BASELINE (another built lode tree, e.g. /work/main: run as "lode@base" beside
// this tree's, for before/after in one run), LODE_BENCH_SKIP (peers to leave out, comma-separated:
// dvc,restic,oxen), LODE_BENCH_STEPS (default add,push,pull; e.g. LODE_BENCH_STEPS=add runs only add).
//
// One table per step: time range per tool, the peer/lode ratio (> 1: lode is
// faster), the ceiling where there is one (add: the two-core SHA-256 rate,
// measured in the same run; lode's share of it), and each tool's peak RSS
// (/usr/bin/time %M, or /proc VmHWM polling). Page cache is warmed before
// every step. Other processes' CPU meanwhile is reported per step: on a
// shared machine read the ratios, not the absolute times.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DVC_INSTALL, KEEP, MiB, QUICK } from './lib/options.js';
import { fmib, fmt, fpct, fsec, log, table, warn } from './lib/report.js';
import { bestOf, hr, mbps, median, MEM_METHOD, msSince } from './lib/measure.js';
import { genB, warm } from './lib/workloads.js';
import { findPeers, makeDrivers } from './lib/peers.js';

const RUNS = Math.max(1, Number(process.env.LODE_BENCH_RUNS ?? 3) || 3);
const FILES = 2;
const FILE_SIZE = QUICK ? 64 * MiB : 512 * MiB;
const STEPS = (process.env.LODE_BENCH_STEPS ?? 'add,push,pull').split(',').map((x) => x.trim()).filter(Boolean);
if (STEPS.some((x) => !['add', 'push', 'pull'].includes(x)) || !STEPS.includes('add')) {
  console.error(`bench: LODE_BENCH_STEPS must list add, and may list push and pull (got ${process.env.LODE_BENCH_STEPS})`);
  process.exit(2);
}

/** sha256TwoThreads: wall ms for two worker threads hashing `bytes` each at once (the add ceiling). */
async function sha256TwoThreads(bytes) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash, randomBytes } = require('node:crypto');
    const buf = randomBytes(4 << 20);
    parentPort.postMessage('ready');
    parentPort.once('message', () => {
      const h = createHash('sha256');
      for (let done = 0; done < workerData; done += buf.length) h.update(buf);
      h.digest();
      parentPort.postMessage('done');
    });`;
  const ws = [0, 1].map(() => new Worker(code, { eval: true, workerData: bytes }));
  await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  const t0 = hr();
  await Promise.all(ws.map((w) => new Promise((r) => { w.once('message', r); w.postMessage('go'); })));
  const ms = msSince(t0);
  await Promise.all(ws.map((w) => w.terminate()));
  return ms;
}

/**
 * writePatterns writes a fresh copy of `src` in several ways (each into a new
 * file, deleted after) and returns { name, runs: [{ ms, cpuMs }] } per
 * pattern: how the cache copy of `lode add` could be written, on this machine now.
 */
function writePatterns(src, dir, rounds = 2) {
  const size = fs.statSync(src).size;
  const out = path.join(dir, 'pattern.bin');
  const readInto = (fd, buf, pos) => fs.readSync(fd, buf, 0, buf.length, pos);
  const copyLoop = (bs, { presize = false, sha = false } = {}) => () => {
    const buf = Buffer.allocUnsafe(bs);
    const i = fs.openSync(src, 'r');
    const o = fs.openSync(out, 'wx');
    if (presize) fs.ftruncateSync(o, size);
    const h = sha ? createHash('sha256') : null;
    for (let pos = 0; ; ) {
      const n = readInto(i, buf, pos);
      if (n === 0) break;
      if (h) h.update(buf.subarray(0, n));
      for (let w = 0; w < n; ) w += fs.writeSync(o, buf, w, n - w, presize ? pos + w : null);
      pos += n;
    }
    h?.digest();
    fs.closeSync(i);
    fs.closeSync(o);
  };
  const patterns = [
    ['append, 64 KiB writes (dd bs=64k)', copyLoop(64 << 10)],
    ['append, 1 MiB writes', copyLoop(1 << 20)],
    ['append, 8 MiB writes', copyLoop(8 << 20)],
    ['size set first (ftruncate), 8 MiB writes at offsets', copyLoop(8 << 20, { presize: true })],
    ['fs.copyFileSync (copy_file_range in the kernel)', () => fs.copyFileSync(src, out)],
    ['read + SHA-256 + append 8 MiB (no CDC)', copyLoop(8 << 20, { sha: true })],
    ['read + SHA-256 + size set first, 8 MiB at offsets (lode add before, no CDC)', copyLoop(8 << 20, { presize: true, sha: true })],
    ['read + SHA-256 + size set first, 512 KiB at offsets (lode add, no CDC)', copyLoop(512 << 10, { presize: true, sha: true })],
  ];
  const results = patterns.map(([name]) => ({ name, runs: [] }));
  for (let r = 0; r < rounds; r++) {
    patterns.forEach(([, fn], k) => {
      fs.rmSync(out, { force: true });
      const c0 = process.cpuUsage();
      const t0 = hr();
      fn();
      const ms = msSince(t0);
      const c = process.cpuUsage(c0);
      results[k].runs.push({ ms, cpuMs: (c.user + c.system) / 1000, MBps: mbps(size, ms) });
      fs.rmSync(out, { force: true });
    });
  }
  return { size, results };
}

function range(xs) {
  const ok = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x));
  if (ok.length === 0) return 'n/a';
  const lo = Math.min(...ok);
  const hi = Math.max(...ok);
  return ok.length === 1 || fsec(lo) === fsec(hi) ? fsec(lo) : `${fsec(lo)}–${fsec(hi).replace(/ s$/, '')} s`;
}

async function main() {
  const benchDir = path.resolve(process.env.LODE_BENCH_DIR || path.join(os.tmpdir(), `lode-peers-${process.pid}`));
  if (fs.existsSync(benchDir) && fs.readdirSync(benchDir).length > 0) {
    console.error(`bench: ${benchDir} exists and is not empty`);
    process.exit(2);
  }
  fs.mkdirSync(benchDir, { recursive: true });
  const cleanup = () => {
    if (!KEEP) fs.rmSync(benchDir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

  log(`peers bench in ${benchDir}: ${FILES} x ${FILE_SIZE / MiB} MiB, ${RUNS} runs`);
  const skip = (process.env.LODE_BENCH_SKIP ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const peers = findPeers({ install: DVC_INSTALL, log, skip });
  for (const [name, p] of Object.entries(peers)) if (p.reason) warn(`${name}: ${p.reason}`);
  const drivers = makeDrivers(peers, path.join(benchDir, 'scratch'), { baseline: process.env.LODE_BENCH_BASELINE ? path.resolve(process.env.LODE_BENCH_BASELINE) : undefined });

  const source = path.join(benchDir, 'source');
  fs.mkdirSync(source);
  for (let i = 0; i < FILES; i++) genB(path.join(source, `big${i}.bin`), FILE_SIZE);
  const bytes = FILES * FILE_SIZE;

  const sha2 = mbps(2 * 256 * MiB, await bestOf(3, () => sha256TwoThreads(256 * MiB)));
  log(`SHA-256 on two threads: ${fmt(sha2)} MB/s`);

  log('write patterns');
  warm([source]);
  const wp = writePatterns(path.join(source, 'big0.bin'), benchDir);
  table(`write patterns: a fresh copy of one ${FILE_SIZE / MiB} MiB file, one thread, ${wp.results[0].runs.length} rounds`, ['pattern', 'MB/s (each round)', 'CPU ms (each round)'], wp.results.map((r) => [
    r.name,
    r.runs.map((x) => fmt(x.MBps)).join(' / '),
    r.runs.map((x) => fmt(x.cpuMs)).join(' / '),
  ]), [
    'The first rounds meet fresh pages (memory the VM host may have taken back); later rounds reuse pages just freed.',
    'lode add writes the cache copy as the last row does (plus content-defined chunking), on one worker thread per big file:',
    '512 KiB blocks stay in the core\'s L2 cache from the read through the write and both hashes; 8 MiB writes cost more kernel time here (rows above).',
  ]);

  // results[tool][step] = [{ ms, rssKiB, otherCores } | { na } | { failed, why }]
  const results = Object.fromEntries(drivers.map((d) => [d.name, { add: [], push: [], pull: [] }]));
  const sha2Runs = [];
  for (let run = 1; run <= RUNS; run++) {
    // The ceiling again in each run: on a shared machine the load moves between runs.
    sha2Runs.push(mbps(2 * 128 * MiB, await bestOf(2, () => sha256TwoThreads(128 * MiB))));
    for (const d of drivers) {
      const dir = path.join(benchDir, `${d.name.toLowerCase()}-${run}`);
      const ws = path.join(dir, 'ws');
      const remote = path.join(dir, 'remote');
      const ws2 = path.join(dir, 'pulled');
      fs.mkdirSync(path.join(ws, 'data'), { recursive: true });
      // A copy per tool and run, not a hardlink: no tool may see another's inode or cache.
      for (const f of fs.readdirSync(source)) fs.copyFileSync(path.join(source, f), path.join(ws, 'data', f));
      warm([path.join(ws, 'data')]);
      log(`run ${run}: ${d.name} add`);
      const add = await d.add(ws);
      add.sha2 = sha2Runs[run - 1];
      results[d.name].add.push(add);
      if (add.failed) {
        warn(`${d.name} add: ${add.why}`);
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!STEPS.includes('push')) {
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      log(`run ${run}: ${d.name} push`);
      const push = await d.push(ws, remote);
      results[d.name].push.push(push);
      if (push.failed) warn(`${d.name} push: ${push.why}`);
      if (!push.na && !push.failed && STEPS.includes('pull')) {
        warm([remote]);
        log(`run ${run}: ${d.name} pull`);
        const pull = await d.pull(remote, ws2, ws);
        if (pull.failed) warn(`${d.name} pull: ${pull.why}`);
        results[d.name].pull.push(pull);
      } else if (STEPS.includes('pull')) results[d.name].pull.push(push.na ? push : { failed: true, why: 'push failed' });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const what = {
    add: { lode: 'lode add', 'lode@base': 'lode add', DVC: 'dvc add', restic: 'restic backup (local repo)', Oxen: 'repo.add' },
    push: { lode: 'lode push', 'lode@base': 'lode push', DVC: 'dvc push', restic: 'restic copy to a dir repo', Oxen: 'n/a' },
    pull: { lode: 'lode clone', 'lode@base': 'lode clone', DVC: 'dvc pull (git clone)', restic: 'restic restore', Oxen: 'n/a' },
  };
  const summary = {};
  for (const step of STEPS) {
    const lodeMs = median(results.lode[step].filter((r) => !r.failed && !r.na).map((r) => r.ms));
    const rows = [];
    summary[step] = {};
    let lodeCpu = null;
    for (const d of drivers) {
      const rs = results[d.name][step];
      const ok = rs.filter((r) => !r.failed && !r.na);
      const na = rs.find((r) => r.na);
      const failed = rs.find((r) => r.failed);
      const ms = ok.length ? median(ok.map((r) => r.ms)) : null;
      summary[step][d.name] = { runsMs: ok.map((r) => r.ms), rssKiB: ok.map((r) => r.rssKiB) };
      const ratio = d.name === 'lode' ? '-' : ms && lodeMs ? `${fmt(ms / lodeMs, 2)}x` : 'n/a';
      const shares = ok.filter((r) => r.sha2).map((r) => mbps(bytes, r.ms) / r.sha2);
      const ceiling = step === 'add' && shares.length ? `${fpct(Math.min(...shares))}–${fpct(Math.max(...shares))}` : '-';
      const rss = ok.map((r) => r.rssKiB).filter((x) => x !== null && x !== undefined);
      const other = ok.map((r) => r.otherCores).filter((x) => x !== null && x !== undefined);
      const cpu = ok.map((r) => r.cpuS).filter((x) => x !== null && x !== undefined);
      const cpuMed = cpu.length ? median(cpu) : null;
      summary[step][d.name].cpuS = cpu;
      if (d.name === 'lode') lodeCpu = cpuMed;
      rows.push([
        `${d.name} (${what[step][d.name]})`,
        na ? 'n/a' : ok.length ? range(ok.map((r) => r.ms)) : 'failed',
        ms ? fmt(mbps(bytes, ms)) : '-',
        ratio,
        cpuMed === null ? 'n/a' : fmt(cpuMed, 2),
        d.name === 'lode' ? '-' : cpuMed !== null && lodeCpu ? `${fmt(cpuMed / lodeCpu, 2)}x` : 'n/a',
        ceiling,
        rss.length ? `${fmib(Math.min(...rss))}–${fmib(Math.max(...rss))}` : 'n/a',
        other.length ? fmt(Math.max(...other), 2) : 'n/a',
        na ? na.na : failed ? failed.why.slice(0, 80) : '',
      ]);
    }
    table(`${step}: ${FILES} x ${FILE_SIZE / MiB} MiB (incompressible), ${RUNS} runs`, ['tool', 'time (min–max)', 'MB/s (median)', 'vs lode', 'CPU s (median)', 'CPU vs lode', 'of SHA-256 2 thr', 'peak RSS MiB', 'other CPU', 'note'], rows, [
      `vs lode = tool's median time / lode's (> 1: lode is faster). SHA-256 on two threads: ${fmt(sha2)} MB/s at the start, ${sha2Runs.map((x) => fmt(x)).join(' / ')} MB/s in each run (each add's share is of its own run's rate).`,
      step === 'add' ? 'lode add excludes the commit (lode commit of two files takes ~0.1 s); DVC add and restic backup include their snapshot.' : step === 'push' ? 'restic copy decrypts and re-encrypts every blob; lode and DVC copy bytes.' : 'pull = fetch + checkout into an empty workspace and cache.',
      `CPU s = user + system seconds of the tool's process tree (a steadier measure than wall time when other processes load the machine).`,
      `peak RSS by ${MEM_METHOD}; other CPU = cores other processes kept busy meanwhile (max over runs).`,
    ]);
  }
  const out = { date: new Date().toISOString(), files: FILES, fileSize: FILE_SIZE, runs: RUNS, sha2MBps: sha2, sha2RunsMBps: sha2Runs, writePatterns: wp, peers: Object.fromEntries(Object.entries(peers).map(([k, v]) => [k, v.version ?? v.reason])), summary };
  fs.mkdirSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'out'), { recursive: true });
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'out', `peers-${out.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  log(`results in ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
