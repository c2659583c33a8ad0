#!/usr/bin/env node
// Push of a 1% change, lode against DVC: N files x 64 B in N/1000 folders
// (default 200,000), tracked, committed and pushed to a directory remote;
// then every 100th file (1%, spread over every folder) rewritten, staged,
// committed and pushed again. Reported: the bytes each push adds to the
// remote (file sizes under it, counted alike for both tools), each step's
// time and peak RSS, and the ratios. The scale section (bench/run.js
// --only-scale) runs lode alone at 1,000,000 files; DVC takes minutes per
// step at that size, hence this smaller run.
//
//   node bench/change-push.js
// Environment:
//   CP_FILES=200000   files (a multiple of 1000 keeps folders at 1000 files)
//   CP_NO_DVC=1       lode alone
//   LODE_BENCH_DIR    where to work (default: a temp dir, removed at the end)
// DVC comes from PATH or the bench's virtualenv (bench/dvc.js); none is installed here.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

process.argv.length = 2; // bench/lib/options.js reads the command line
const { runCmd } = await import('./lib/measure.js');
const { treeStats } = await import('./lib/disk.js');
const { table, fmt } = await import('./lib/report.js');
const { dvcEnv, findDvc } = await import('./dvc.js');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'lode.js');
const FILES = Number(process.env.CP_FILES ?? 200_000);
const FOLDERS = Math.max(1, Math.round(FILES / 1000));
const work = process.env.LODE_BENCH_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lode-cp-'));
fs.mkdirSync(work, { recursive: true });
const found = process.env.CP_NO_DVC ? null : findDvc({ install: false });
const dvc = found?.bin ? found : null;
const env = dvcEnv(work);
const log = (m) => process.stderr.write(`[change-push ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const run = async (cmd, args, cwd) => {
  const r = await runCmd(cmd, args, { cwd, env, allowFail: true });
  if (r.code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return r;
};
const lode = (cwd, ...args) => run(process.execPath, [BIN, '-q', ...args], cwd);

const folder = (d) => `d${String(d).padStart(4, '0')}`;
const file = (i) => `f${String(i).padStart(8, '0')}.bin`;
/** writeData writes the FILES files (file i in folder i % FOLDERS); with `changed`, every 100th file of each folder, with new bytes. */
function writeData(dir, changed) {
  for (let d = 0; d < FOLDERS; d++) {
    fs.mkdirSync(path.join(dir, folder(d)), { recursive: true });
    for (let k = 0, i = d; i < FILES; k++, i += FOLDERS) {
      if (changed && k % 100 !== 0) continue;
      fs.writeFileSync(path.join(dir, folder(d), file(i)), `${changed ? 'changed' : 'file'} ${i} `.padEnd(64, '.'));
    }
  }
}

const rows = [];
const result = {};
try {
  log(`work dir ${work}: ${fmt(FILES)} files in ${FOLDERS} folders`);
  const tools = [{ name: 'lode', dir: path.join(work, 'lode'), remote: path.join(work, 'remote-lode') }];
  if (dvc) tools.push({ name: `DVC ${dvc.version}`, dir: path.join(work, 'dvc'), remote: path.join(work, 'remote-dvc'), dvc: true });
  for (const t of tools) {
    writeData(path.join(t.dir, 's'), false);
    const steps = {};
    const step = async (name, f) => {
      log(`${t.name}: ${name}`);
      steps[name] = await f();
    };
    if (t.dvc) {
      await run('git', ['-c', 'init.defaultBranch=main', 'init', '-q'], t.dir);
      await run(dvc.bin, ['init', '-q'], t.dir);
      await run(dvc.bin, ['remote', 'add', '-d', 'r', t.remote], t.dir);
      await step('add', () => run(dvc.bin, ['add', '-q', 's'], t.dir));
      await step('push', () => run(dvc.bin, ['push', '-q'], t.dir));
    } else {
      await lode(t.dir, 'init');
      await lode(t.dir, 'remote', 'add', 'r', t.remote);
      await step('add', () => lode(t.dir, 'add', 's'));
      await lode(t.dir, 'commit', '-m', 'v1');
      await step('push', () => lode(t.dir, 'push', 'r'));
    }
    const first = treeStats(t.remote).bytes;
    writeData(path.join(t.dir, 's'), true);
    if (t.dvc) {
      await step('add of the change', () => run(dvc.bin, ['add', '-q', 's'], t.dir));
      await step('push of the change', () => run(dvc.bin, ['push', '-q'], t.dir));
    } else {
      await step('add of the change', () => lode(t.dir, 'add', 's'));
      await lode(t.dir, 'commit', '-m', 'v2');
      await step('push of the change', () => lode(t.dir, 'push', 'r'));
    }
    const second = treeStats(t.remote).bytes - first;
    result[t.name] = { first, second, steps };
  }
  const [a, b] = Object.values(result);
  const names = Object.keys(result);
  const cell = (r) => `${(r.ms / 1000).toFixed(2)} s, ${fmt(r.rssKiB / 1024)} MiB`;
  for (const s of ['add', 'push', 'add of the change', 'push of the change']) {
    rows.push([s, cell(a.steps[s]), b ? cell(b.steps[s]) : '-', b ? `${(b.steps[s].ms / a.steps[s].ms).toFixed(1)}x` : '-']);
  }
  const mib = (n) => `${fmt(n / 2 ** 20, 2)} MiB`;
  rows.push(['bytes of the first push', mib(a.first), b ? mib(b.first) : '-', b ? `${(b.first / a.first).toFixed(2)}x` : '-']);
  rows.push(['bytes of the change push', `${mib(a.second)} (${fmt((a.second / a.first) * 100, 1)}%)`, b ? `${mib(b.second)} (${fmt((b.second / b.first) * 100, 1)}%)` : '-', b ? `${(b.second / a.second).toFixed(2)}x` : '-']);
  table(`push of a 1% change: ${fmt(FILES)} files x 64 B in ${FOLDERS} folders, ${fmt(FILES / 100)} changed (every 100th, in every folder)`, ['step', names[0], names[1] ?? 'DVC', 'DVC / lode'], rows, [
    `bytes = sizes of the files each push adds to its directory remote; the data changed is ${fmt((FILES / 100) * 64 / 1024, 1)} KiB.`,
    'lode sends the trees of the folders touched (here all of them); DVC sends its whole directory manifest (.dir) again.',
  ]);
} finally {
  if (!process.env.LODE_BENCH_DIR) fs.rmSync(work, { recursive: true, force: true });
}
