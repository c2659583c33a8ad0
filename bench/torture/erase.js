// Scenario "erase": kill -9 at a random moment of `lode forget --rows ... --push`.
//
// One template is built once: a workspace whose CSV (a few MB, one customer's
// rows scattered through it) is present in 9 versions on two branches, pushed
// to a directory remote. Each trial copies the template, starts the erasure,
// SIGKILLs it after a delay drawn from the seeded RNG (between half the
// binary's start-up time and 1.1 x the erasure's measured duration), then
// checks with the binary:
//
//   - right after the kill: either nothing changed (no erasure record, every
//     ref and the workspace as before) or the erasure record is written (the
//     erasure is decided and a re-run must complete it);
//   - the same `lode forget` again exits 0 (erased now) or 1 (nothing left to
//     match: only when the record was already written);
//   - `lode fsck` and `lode fsck --remote origin` exit 0;
//   - every version is still there (9 commits, each label once) and holds
//     exactly its old CSV minus the customer's lines (oracle: a line filter
//     here, not lode's code); both branch tips check out;
//   - no byte of .lode nor of the remote holds the erased values; a pack is
//     read with its compressed objects decompressed (expandPack below,
//     written from docs/formats.md, not lode's reader), and the template
//     checks that its remote holds compressed objects, so that scan is not
//     vacuous.
//
// Outcomes: completed (finished before the kill), killed-nothing-changed,
// killed-after-record (both completed by the re-run), violation.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { compressedEntries, readExpanded } from '../../test/helpers/packs.js';
import { firstError, lodeOk, pool, runLode, tail, Tally, writeFile } from './common.js';

const ERASED_ID = '4711';
const ERASED_NAME = 'Zed Torture-Erasable';
const ERASED_MAIL = 'zed.torture-erasable@example.com';
const NEEDLES = [ERASED_NAME, ERASED_MAIL].map((s) => Buffer.from(s));
export const ARGS = ['forget', '--rows', 'data/*.csv', '--key', `customer_id=${ERASED_ID}`, '--push'];

/** csv is one version of the table: `rows` customers, some rows changed per version, the erased customer every 397th row. */
function csv(rows, v, side = 0) {
  const out = ['customer_id,name,email,balance,note'];
  for (let i = 1; i <= rows + 50 * v; i++) {
    const bal = i % 101 === (v * 7 + side) % 101 ? `${i + v + side}.25` : `${i}.00`;
    out.push(`${i},Person ${i},p${i}@example.com,${bal},"note ${i % 997}, ${'x'.repeat(i % 23)}"`);
    if (i % 397 === 0 && !(side && i % 2 === 0)) out.push(`${ERASED_ID},${ERASED_NAME},${ERASED_MAIL},${i}.${v},"near ${i} v${v}s${side}"`);
  }
  return `${out.join('\n')}\n`;
}

/** withoutCustomer is the oracle: every line whose first field is the erased ID dropped. */
export function withoutCustomer(text) {
  return text
    .split(/(?<=\n)/)
    .filter((l) => !l.startsWith(`${ERASED_ID},`))
    .join('');
}

function filesUnder(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
// Remote packs may hold brotli-compressed objects: the leak scan reads them
// decompressed (test/helpers/packs.js, written from docs/formats.md).
/** compressedObjects counts the brotli-compressed objects named by the `.idx` files below `dir`. */
export function compressedObjects(dir) {
  return filesUnder(dir)
    .filter((f) => f.endsWith('.idx'))
    .reduce((n, f) => n + compressedEntries(fs.readFileSync(f)).length, 0);
}

/** leaks lists the files below `dir` holding an erased value, byte for byte (a pack with its compressed objects decompressed). */
export function leaks(dir) {
  return filesUnder(dir).filter((f) => {
    const b = readExpanded(f);
    return NEEDLES.some((n) => b.includes(n));
  });
}

/** buildTemplate makes `root/ws` (9 versions on main and side) and `root/remote`; returns the version texts by commit message. */
export async function buildTemplate(root, rows, smallChunks = false) {
  const ws = path.join(root, 'ws');
  fs.mkdirSync(ws, { recursive: true });
  const at = { cwd: ws };
  await lodeOk(['init'], at);
  // Small chunks: a small table is chunked too, so older versions are kept split (loose chunks).
  if (smallChunks) fs.appendFileSync(path.join(ws, '.lode', 'config'), '\n[chunking]\nmin = 8192\navg = 32768\nmax = 131072\n');
  const texts = {};
  const commit = async (label, text) => {
    writeFile(ws, 'data/customers.csv', text);
    writeFile(ws, 'data/readme.txt', `version ${label}\n`);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', label], at);
    texts[label] = text;
  };
  for (let v = 0; v < 6; v++) await commit(`m${v}`, csv(rows, v));
  await lodeOk(['checkout', '-b', 'side', 'HEAD~2'], at);
  for (let s = 1; s <= 3; s++) await commit(`s${s}`, csv(rows, 3, s));
  await lodeOk(['checkout', 'main'], at);
  await lodeOk(['remote', 'add', 'origin', path.join(root, 'remote')], at);
  await lodeOk(['push', 'origin', 'main'], at);
  await lodeOk(['push', 'origin', 'side'], at);
  // The leak scan reads compressed objects decompressed: make sure there are some, or it proves nothing about them.
  if (compressedObjects(path.join(root, 'remote')) === 0) throw new Error('erase: the template remote holds no compressed object (the leak scan of compressed packs would be vacuous)');
  const before = JSON.parse((await lodeOk(['log', '--all', '--json'], at)).stdout).commits.map((c) => c.id).sort();
  return { dir: root, texts, before };
}

/** copyTemplate copies the template to `dst`, pointing the remote's path into the copy. */
export function copyTemplate(t, dst) {
  fs.cpSync(t.dir, dst, { recursive: true });
  const cfg = path.join(dst, 'ws', '.lode', 'config');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').split(t.dir).join(dst));
  return { ws: path.join(dst, 'ws'), remote: path.join(dst, 'remote') };
}

const recordsIn = (ws) => {
  try {
    return fs.readdirSync(path.join(ws, '.lode', 'erasures')).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
};

/** checkTrial checks the invariants after a (possibly killed) erasure; returns { outcome, detail }. */
export async function checkTrial(t, ws, remote, run) {
  const at = { cwd: ws };
  const problems = [];
  const log = { killedAfterMs: run.killAfterMs, exit: run.code ?? run.signal, stderr: tail(run.stderr, 3) };
  let decided = true;
  if (!run.killed) {
    if (run.code !== 0) problems.push(`the un-killed erasure exited ${run.code ?? run.signal}: ${firstError(run.stderr)}`);
  } else {
    // Either nothing changed, or the record is written.
    decided = recordsIn(ws).length > 0;
    log.recordWritten = decided;
    if (!decided) {
      const lg = await runLode(['log', '--all', '--json'], at);
      const now = lg.code === 0 ? JSON.parse(lg.stdout).commits.map((c) => c.id).sort() : [];
      if (JSON.stringify(now) !== JSON.stringify(t.before)) problems.push(`killed before the record, but the history changed (log --all exit ${lg.code})`);
      const text = fs.readFileSync(path.join(ws, 'data/customers.csv'), 'utf8');
      if (text !== t.texts.m5) problems.push('killed before the record, but the workspace file changed');
    }
    const again = await runLode(ARGS, at);
    log.rerun = { exit: again.code ?? again.signal, stderr: tail(again.stderr, 3) };
    if (!(again.code === 0 || (again.code === 1 && decided))) problems.push(`the re-run exited ${again.code ?? again.signal}: ${firstError(again.stderr)}`);
  }
  const fsck = await runLode(['fsck'], at);
  if (fsck.code !== 0) problems.push(`fsck exited ${fsck.code}: ${tail(fsck.stdout + fsck.stderr, 3)}`);
  const rfsck = await runLode(['fsck', '--remote', 'origin'], at);
  if (rfsck.code !== 0) problems.push(`fsck --remote exited ${rfsck.code}: ${tail(rfsck.stdout + rfsck.stderr, 3)}`);
  // Every version, by its label, holds its old text minus the customer's lines.
  const lg = await runLode(['log', '--all', '--json'], at);
  if (lg.code !== 0) problems.push(`log --all exited ${lg.code}: ${firstError(lg.stderr)}`);
  else {
    const commits = JSON.parse(lg.stdout).commits;
    const labels = commits.map((c) => String(c.message ?? c.subject ?? '').trim()).sort();
    const want = Object.keys(t.texts).sort();
    if (JSON.stringify(labels) !== JSON.stringify(want)) problems.push(`versions after the erasure: ${labels.join(',')} (want ${want.join(',')})`);
    for (const c of commits) {
      const label = String(c.message ?? c.subject ?? '').trim();
      const cat = await runLode(['cat', `${c.id}:data/customers.csv`], at);
      if (cat.code !== 0) problems.push(`cat of ${label} exited ${cat.code}: ${firstError(cat.stderr)}`);
      else if (t.texts[label] !== undefined && cat.stdout !== withoutCustomer(t.texts[label])) problems.push(`version ${label} differs from its old text minus the erased rows`);
    }
  }
  for (const [branch, label] of [['side', 's3'], ['main', 'm5']]) {
    const co = await runLode(['checkout', branch], at);
    if (co.code !== 0) problems.push(`checkout ${branch} exited ${co.code}: ${firstError(co.stderr)}`);
    else if (fs.readFileSync(path.join(ws, 'data/customers.csv'), 'utf8') !== withoutCustomer(t.texts[label])) problems.push(`checkout ${branch}: the workspace file is not ${label} minus the erased rows`);
  }
  const local = leaks(path.join(ws, '.lode'));
  if (local.length) problems.push(`erased values still in .lode: ${local.slice(0, 3).map((f) => path.relative(ws, f)).join(', ')}`);
  const far = leaks(remote);
  if (far.length) problems.push(`erased values still on the remote: ${far.slice(0, 3).map((f) => path.relative(remote, f)).join(', ')}`);
  if (problems.length) return { outcome: 'violation', detail: { ...log, problems } };
  if (!run.killed) return { outcome: 'completed' };
  return { outcome: decided ? 'killed-after-record' : 'killed-nothing-changed', detail: log };
}

/**
 * runEraseScenario runs `trials` kills of `lode forget --rows ... --push`;
 * returns one Tally. `rows`: customers in the first version (default 40000, about 3 MB);
 * `smallChunks`: 32 KiB chunks, so that a small table is chunked and its older versions split.
 */
export async function runEraseScenario({ root, trials, rand, logDir, rows = 40_000, smallChunks = false, jobs = 2, say = () => {} }) {
  say(`erase: building the template (${rows} rows x 9 versions) ...`);
  const t = await buildTemplate(path.join(root, 'template'), rows, smallChunks);
  const v0 = Date.now();
  await runLode(['--version'], { cwd: root });
  const startupMs = Date.now() - v0;
  const ref = copyTemplate(t, path.join(root, 'ref'));
  const r0 = await runLode(ARGS, { cwd: ref.ws });
  if (r0.code !== 0) throw new Error(`erase: the reference run failed (${r0.code}): ${r0.stderr}`);
  fs.rmSync(path.join(root, 'ref'), { recursive: true, force: true });
  const lo = startupMs * 0.5;
  const hi = Math.max(r0.ms * 1.1, lo + 50);
  say(`erase: ${trials} trials, reference ${r0.ms} ms, kills between ${Math.round(lo)} and ${Math.round(hi)} ms`);
  const tally = new Tally('kill -9 forget --rows --push', logDir);
  tally.setNote('reference ms', r0.ms);
  const delays = Array.from({ length: trials }, () => Math.round(lo + rand() * (hi - lo)));
  await pool(jobs, delays.map((killAfterMs, i) => async () => {
    const dir = path.join(root, `trial-${i}`);
    const { ws, remote } = copyTemplate(t, dir);
    const run = await runLode(ARGS, { cwd: ws, killAfterMs });
    run.killAfterMs = killAfterMs;
    let res;
    try {
      res = await checkTrial(t, ws, remote, run);
    } catch (e) {
      res = { outcome: 'violation', detail: { killAfterMs, problems: [`harness: ${e.stack}`] } };
    }
    tally.add(res.outcome, { trial: i, killAfterMs, ...res.detail });
    fs.rmSync(dir, { recursive: true, force: true });
  }));
  say(`  ${JSON.stringify(tally.outcomes)}`);
  return [tally];
}
