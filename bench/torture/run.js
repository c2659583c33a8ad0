#!/usr/bin/env node
// lode torture suite: crashes, faults, forged remotes and races, through the
// built binary (bin/lode.js -> dist/). `npm run torture` builds, then runs
// this with the default trials. Not part of `npm test`: it takes minutes.
//
//   node bench/torture/run.js [options]
//
// Options:
//   --trials N        kill -9 trials per command (default 20)
//   --fault-trials N  trials per command through the fault proxy (default 8)
//   --race-trials N   double-win race trials (default 5)
//   --erase-trials N  kill -9 trials of `lode forget --rows --push` (default 20)
//   --erase-rows N    rows of the erased CSV's first version (default 40000, ~3 MB; 9 versions)
//   --fault-rate P    share of proxied requests faulted (default 0.15)
//   --seed S          RNG seed (default: time-based; printed, so a run reproduces)
//   --only LIST       scenarios to run, comma-separated: kill,faults,forged,race,erase
//   --commands LIST   kill -9 only these commands (add,commit,checkout,switch,merge,push,fetch,pull,clone,gc,rm)
//   --small N         small files per version in the kill -9 workspace (default 200)
//   --big-mib N       size of the largest files in MiB (default 4)
//   --out FILE        JSON results (default bench/out/torture-<date>.json)
//   --jobs N          trials run side by side (default 2)
//   --keep            keep the work directory
// Environment:
//   LODE_TORTURE_DIR  work directory (default <tmpdir>/lode-torture-<pid>), removed at the end
//
// Output: a markdown table (scenario, trials, outcomes) on stdout, JSON with
// every trial's notable details in --out, and one JSON file per violation in
// <out dir>/torture-logs-<date>/. Exit status 1 when any violation was seen.
// Scenarios are described in docs/architecture.md ("Torture suite").

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rng } from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

function parseArgs(argv) {
  const o = { trials: 20, faultTrials: 8, raceTrials: 5, eraseTrials: 20, eraseRows: 40_000, faultRate: 0.15, seed: Date.now() % 1_000_000, only: ['kill', 'faults', 'forged', 'race', 'erase'], commands: [], small: 200, bigMiB: 4, jobs: 2, out: undefined, keep: false };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = () => {
      const v = Number(val());
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--trials') o.trials = num();
    else if (a === '--fault-trials') o.faultTrials = num();
    else if (a === '--race-trials') o.raceTrials = num();
    else if (a === '--erase-trials') o.eraseTrials = num();
    else if (a === '--erase-rows') o.eraseRows = num();
    else if (a === '--fault-rate') o.faultRate = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--only') o.only = val().split(',');
    else if (a === '--commands') o.commands = val().split(',');
    else if (a === '--small') o.small = num();
    else if (a === '--big-mib') o.bigMiB = num();
    else if (a === '--out') o.out = val();
    else if (a === '--jobs') o.jobs = Math.max(1, num());
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') {
      const text = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8');
      process.stdout.write(`${text.split('\n').slice(1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  return o;
}

function mainCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** table renders the tallies as markdown: scenario, trials, outcomes (and notes). */
export function table(tallies) {
  const rows = ['| scenario | trials | outcomes | notes |', '|---|---:|---|---|'];
  for (const t of tallies) {
    const outcomes = Object.entries(t.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    const notes = Object.entries(t.notes).map(([k, v]) => `${k}: ${v}`).join('; ');
    rows.push(`| ${t.scenario} | ${t.trials} | ${outcomes} | ${notes} |`);
  }
  return rows.join('\n');
}

async function main() {
  const o = parseArgs(process.argv);
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (or `npm run torture`)');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const outFile = o.out ?? path.join(repoRoot, 'bench', 'out', `torture-${stamp}.json`);
  const logDir = path.join(path.dirname(outFile), `torture-logs-${stamp}`);
  const root = process.env.LODE_TORTURE_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lode-torture-'));
  fs.mkdirSync(root, { recursive: true });
  const say = (s) => process.stderr.write(`${s}\n`);
  const commit = mainCommit();
  say(`lode torture suite on ${commit}, seed ${o.seed}, work dir ${root}`);
  const rand = rng(o.seed);
  const tallies = [];
  const t0 = Date.now();
  const cleanups = [];
  const onSignal = () => {
    for (const c of cleanups) c();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (o.only.includes('kill')) {
      const { runKillScenario } = await import('./kill.js');
      tallies.push(...(await runKillScenario({ root: path.join(root, 'kill'), trials: o.trials, rand, logDir, only: o.commands, small: o.small, bigMiB: o.bigMiB, jobs: o.jobs, say })));
    }
    if (o.only.includes('faults')) {
      const { runFaultScenario } = await import('./faults.js');
      tallies.push(...(await runFaultScenario({ root: path.join(root, 'faults'), trials: o.faultTrials, rate: o.faultRate, seed: o.seed, rand, logDir, say, cleanups })));
    }
    if (o.only.includes('forged')) {
      const { runForgedScenario } = await import('./forged.js');
      tallies.push(...(await runForgedScenario({ root: path.join(root, 'forged'), logDir, say })));
    }
    if (o.only.includes('race')) {
      const { runRaceScenario } = await import('./race.js');
      tallies.push(...(await runRaceScenario({ root: path.join(root, 'race'), trials: o.raceTrials, logDir, say, cleanups })));
    }
    if (o.only.includes('erase')) {
      const { runEraseScenario } = await import('./erase.js');
      tallies.push(...(await runEraseScenario({ root: path.join(root, 'erase'), trials: o.eraseTrials, rows: o.eraseRows, rand, logDir, jobs: o.jobs, say })));
    }
  } finally {
    for (const c of cleanups) c();
    if (!o.keep) fs.rmSync(root, { recursive: true, force: true });
  }
  const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
  const md = table(tallies);
  process.stdout.write(`\nlode torture suite: commit ${commit}, seed ${o.seed}, ${minutes} min, node ${process.version}\n\n${md}\n`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify({ commit, seed: o.seed, minutes: Number(minutes), node: process.version, options: o, scenarios: tallies.map((t) => t.toJSON()) }, null, 2));
  const violations = tallies.reduce((n, t) => n + Object.entries(t.outcomes).filter(([k]) => k.startsWith('violation')).reduce((m, [, v]) => m + v, 0), 0);
  process.stdout.write(`\nJSON: ${path.relative(process.cwd(), outFile)}${violations ? `; ${violations} violations, details in ${path.relative(process.cwd(), logDir)}` : ''}\n`);
  process.exitCode = violations > 0 ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`torture: ${e.stack ?? e}\n`);
  process.exitCode = 2;
});
