#!/usr/bin/env node
// Small-files bench: push and clone of A (20,000 x 4 KiB in 100 folders) on a
// directory remote and on S3 (moto), lode against DVC in the same run, and
// no-op `lode status` (and status after touching one file). Interleaved runs
// (lode, the baseline lode, DVC, then again), so a load spike on this shared
// machine hits every tool alike; each table cell is the median with the range
// of the runs.
//
//   node bench/small-files.js
// Environment:
//   SF_RUNS=3          runs of each step (default 3)
//   SF_FILES=20000     files in A
//   LODE_BASE=PATH     a second lode (its bin/lode.js) measured beside this one,
//                      e.g. the main branch's build: before/after in one run
//   SF_NO_DVC=1        skip DVC;  SF_NO_S3=1  skip the S3 rows
//   LODE_BENCH_DIR     where to work (default: a temp dir, removed at the end)
// DVC comes from PATH or the bench's virtualenv (bench/dvc.js).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

process.argv.length = 2; // bench/lib/options.js reads the command line
const { runCmd } = await import('./lib/measure.js');
const { genA } = await import('./lib/workloads.js');
const { table, fmt } = await import('./lib/report.js');
const { dvcEnv: dvcEnvOf, findDvc } = await import('./dvc.js');
const { createBucket, MOTO_CREDENTIALS, motoUnavailable, startMoto } = await import('../test/helpers/moto.js');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.SF_RUNS ?? 3);
const FILES = Number(process.env.SF_FILES ?? 20000);
const work = process.env.LODE_BENCH_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lode-sf-'));
fs.mkdirSync(work, { recursive: true });
const tools = [{ name: 'lode', bin: path.join(ROOT, 'bin', 'lode.js') }];
if (process.env.LODE_BASE) tools.push({ name: 'lode (base)', bin: path.resolve(process.env.LODE_BASE) });
const dvcFound = process.env.SF_NO_DVC ? null : findDvc({ install: false });
const dvc = dvcFound?.bin ? dvcFound : null;
const env = { ...process.env, AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };
const dvcEnv = dvcEnvOf(work, env);
const log = (m) => process.stderr.write(`[sf] ${m}\n`);
const sh = async (cmd, args, cwd, e = env) => {
  const r = await runCmd(cmd, args, { cwd, env: e, allowFail: true });
  if (r.code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return r;
};
const lodeRun = (t, cwd, args) => sh(process.execPath, [t.bin, '-q', ...args], cwd);

let moto = null;
if (!process.env.SF_NO_S3 && !motoUnavailable()) {
  moto = await startMoto({ env: { TMPDIR: work } });
  await createBucket(moto.endpoint, 'lode-sf-bench');
}
const kinds = moto ? ['dir', 's3'] : ['dir'];
const remoteUrl = (kind, tag) => (kind === 'dir' ? path.join(work, 'remotes', tag) : `s3://lode-sf-bench/${tag}`);
const s3Opts = (kind) => (kind === 's3' ? ['--endpoint', moto.endpoint, '--path-style'] : []);

// Clones are moved aside, not deleted, until the end: ext4 here creates files
// slowly (up to ~1 ms each) for a minute or more after many were deleted, which
// would charge one tool's clone for the previous one's cleanup.
const trash = path.join(work, 'trash');
fs.mkdirSync(trash, { recursive: true });
const aside = (dir) => fs.renameSync(dir, path.join(trash, path.basename(dir)));
const results = {}; // step -> tool -> [ms]
const note = (step, tool, ms) => ((results[step] ??= {})[tool] ??= []).push(ms);
let seq = 0;
try {
  log(`work dir ${work}; generating ${FILES} files`);
  const data = path.join(work, 'data-src');
  genA(data, FILES, 4096, 100);
  // One workspace per lode (its own store), one DVC repo.
  for (const t of tools) {
    t.ws = path.join(work, `ws-${tools.indexOf(t)}`);
    fs.mkdirSync(t.ws);
    spawnSync('cp', ['-a', data, path.join(t.ws, 'a')]);
    await lodeRun(t, t.ws, ['init']);
    await lodeRun(t, t.ws, ['add', 'a']);
    await lodeRun(t, t.ws, ['commit', '-m', 'A']);
  }
  if (dvc) {
    dvc.repo = path.join(work, 'dvc');
    fs.mkdirSync(dvc.repo);
    spawnSync('cp', ['-a', data, path.join(dvc.repo, 'a')]);
    await sh('git', ['-c', 'init.defaultBranch=main', 'init', '-q'], dvc.repo, dvcEnv);
    await sh(dvc.bin, ['init', '-q'], dvc.repo, dvcEnv);
    await sh(dvc.bin, ['add', 'a'], dvc.repo, dvcEnv);
    await sh('git', ['add', '-A'], dvc.repo, dvcEnv);
    await sh('git', ['commit', '-q', '-m', 'A'], dvc.repo, dvcEnv);
  }
  for (let run = 1; run <= RUNS; run++) {
    for (const kind of kinds) {
      for (const t of tools) {
        const tag = `l${seq++}`;
        await lodeRun(t, t.ws, ['remote', 'add', tag, remoteUrl(kind, tag), ...s3Opts(kind)]);
        log(`run ${run} ${kind}: ${t.name} push`);
        note(`push (${kind})`, t.name, (await lodeRun(t, t.ws, ['push', tag])).ms);
        log(`run ${run} ${kind}: ${t.name} clone`);
        const dest = path.join(work, `clone-${tag}`);
        note(`clone (${kind})`, t.name, (await lodeRun(t, work, ['clone', remoteUrl(kind, tag), dest, ...s3Opts(kind)])).ms);
        const files = spawnSync('find', [path.join(dest, 'a'), '-type', 'f'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
        if (files !== FILES) throw new Error(`${t.name} clone has ${files} files, expected ${FILES}`);
        aside(dest);
      }
      // DVC on S3 once (20,000 PUTs and GETs against moto take minutes), on a directory every run.
      if (dvc && (kind === 'dir' || (dvc.s3 && run === 1))) {
        const tag = `d${seq++}`;
        await sh(dvc.bin, ['remote', 'add', tag, remoteUrl(kind, tag)], dvc.repo, dvcEnv);
        if (kind === 's3') await sh(dvc.bin, ['remote', 'modify', tag, 'endpointurl', moto.endpoint], dvc.repo, dvcEnv);
        await sh('git', ['commit', '-q', '-am', `remote ${tag}`], dvc.repo, dvcEnv); // the clone below needs it
        log(`run ${run} ${kind}: dvc push`);
        note(`push (${kind})`, 'dvc', (await sh(dvc.bin, ['push', '-q', '-r', tag], dvc.repo, dvcEnv)).ms);
        const dest = path.join(work, `clone-${tag}`);
        await sh('git', ['clone', '-q', dvc.repo, dest], work, dvcEnv);
        log(`run ${run} ${kind}: dvc pull`);
        note(`clone (${kind})`, 'dvc', (await sh(dvc.bin, ['pull', '-q', '-r', tag], dest, dvcEnv)).ms);
        aside(dest);
      }
    }
    // Status: no-op, then after touching one file (one hash), best of 5 within the run.
    for (const t of tools) {
      let best = Infinity;
      for (let i = 0; i < 5; i++) best = Math.min(best, (await lodeRun(t, t.ws, ['status'])).ms);
      note('status, no-op', t.name, best);
      if (process.env.NODE_EXTRA_CA_CERTS) {
        // As on a machine without the variable (this sandbox sets it): on Node 20 it is most of the gap to the target.
        const bare = { ...env };
        delete bare.NODE_EXTRA_CA_CERTS;
        let b2 = Infinity;
        for (let i = 0; i < 5; i++) b2 = Math.min(b2, (await sh(process.execPath, [t.bin, '-q', 'status'], t.ws, bare)).ms);
        note('status, no-op, without NODE_EXTRA_CA_CERTS', t.name, b2);
      }
      const f = path.join(t.ws, 'a', fs.readdirSync(path.join(t.ws, 'a'))[0]);
      const g = path.join(f, fs.readdirSync(f)[0]);
      fs.writeFileSync(g, fs.readFileSync(g)); // same bytes, new mtime
      const touched = (await lodeRun(t, t.ws, ['status'])).ms;
      note('status, 1 file touched', t.name, touched);
    }
    // The floor every lode command stands on: starting node itself, best of 5,
    // as the environment has it and (when set) without NODE_EXTRA_CA_CERTS,
    // which Node 20 reads and parses at every start (Node 22+ only on first TLS use).
    let start = Infinity;
    for (let i = 0; i < 5; i++) start = Math.min(start, (await sh(process.execPath, ['-e', '0'], work)).ms);
    note('node start (node -e 0), the floor', 'lode', start);
    if (process.env.NODE_EXTRA_CA_CERTS) {
      const bare = { ...process.env };
      delete bare.NODE_EXTRA_CA_CERTS;
      let s2 = Infinity;
      for (let i = 0; i < 5; i++) s2 = Math.min(s2, (await sh(process.execPath, ['-e', '0'], work, bare)).ms);
      note('node start without NODE_EXTRA_CA_CERTS', 'lode', s2);
    }
    printTable(run);
  }
} finally {
  if (moto) await moto.stop();
  if (!process.env.LODE_BENCH_DIR) fs.rmSync(work, { recursive: true, force: true });
}

function printTable(runsDone) {
const med = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
const cell = (xs) => (xs ? `${fmt(med(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '-');
const names = [...tools.map((t) => t.name), ...(dvc ? ['dvc'] : [])];
const rows = Object.entries(results).map(([step, by]) => [
  step,
  ...names.map((n) => cell(by[n])),
  ...(dvc ? [by.dvc && by.lode ? `${fmt(med(by.dvc) / med(by.lode), 1)}x` : '-'] : []),
  ...(tools.length > 1 ? [by[tools[1].name] && by.lode ? `${fmt(med(by[tools[1].name]) / med(by.lode), 2)}x` : '-'] : []),
]);
table(
  `small files: A = ${fmt(FILES)} x 4 KiB, ms, median (min–max) of ${runsDone} run(s) (DVC on S3: the first only); load ${os.loadavg()[0].toFixed(1)} (1 min) on ${os.cpus().length} cores`,
  ['step', ...names, ...(dvc ? ['dvc / lode'] : []), ...(tools.length > 1 ? ['base / lode'] : [])],
  rows,
  [dvc ? `DVC ${dvc.version}; dvc pull runs in a git clone of the DVC repo (empty cache), as lode clone starts empty` : `no DVC: ${dvcFound?.reason ?? 'skipped'}`],
);
}
