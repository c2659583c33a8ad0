// Scenario 1: kill -9 at a random moment of every writing command.
//
// One "world" is built once: a workspace with two versions (v1, v2: many small
// files and a few multi-MiB ones), a side branch to merge, a directory remote,
// and per command a template directory in the state just before the command.
// Each trial copies its template, starts the command, SIGKILLs it after a
// delay drawn from the seeded RNG (between half the binary's start-up time
// and 1.1 x the command's measured duration), then checks with the binary:
//
//   - `lode status` works and lists no lode temp file as a user file;
//   - the next command works: the same command run again succeeds (a stale
//     lock is taken over — or, before lock takeover existed, refused: the
//     trial then removes the lock as the hint says and counts the refusal);
//   - `lode fsck` exits 0;
//   - every commit recorded before the kill is still in `lode log --all`;
//   - no `.lode-checkout-*` or `*.tmp*` file is left in the datasets;
//   - the workspace equals the version the command produces (fingerprints),
//     and right after a killed checkout it is the old or the new version or
//     (noted, not a violation) a mix that the re-run completes.
//
// Outcomes: completed (finished before the kill), killed-clean (no lock left
// or no takeover needed), killed-recovered (the next command took the stale
// lock over), refused: stale lock (the next command refused the dead owner's
// lock), violation (details in the log directory).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fingerprint, fingerprintDiff, firstError, lodeOk, pool, pseudoRandomBytes, runLode, strayTempFiles, tail, Tally, writeFile } from './common.js';

/** The writing commands, each with the template it starts from and what a re-run may answer. */
const COMMANDS = ['add', 'commit', 'checkout', 'switch', 'merge', 'push', 'fetch', 'pull', 'clone', 'gc', 'rm'];

function smallFiles(root, dir, count, seed, sizeLo = 1024, sizeHi = 6144) {
  for (let i = 0; i < count; i++) {
    const size = sizeLo + ((i * 2654435761 + seed) % (sizeHi - sizeLo));
    writeFile(root, `${dir}/f${String(i).padStart(4, '0')}.bin`, pseudoRandomBytes(size, seed * 100_000 + i));
  }
}

/** rewriteConfigPaths makes a copied template's absolute remote paths point into the copy. */
function rewritePaths(trialRoot, fromRoot) {
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const a = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name === 'objects' || e.name === 'cache' || e.name === 'packs' || e.name === 'data') continue;
        walk(a);
      } else if (e.name === 'config' && path.basename(d) === '.lode') {
        const text = fs.readFileSync(a, 'utf8');
        if (text.includes(fromRoot)) fs.writeFileSync(a, text.split(fromRoot).join(trialRoot));
      }
    }
  };
  walk(trialRoot);
}

/**
 * buildWorld makes the templates under `root` (one directory per command,
 * each holding `ws/` and, where needed, `remote/`) and returns, per command,
 * what a trial needs: args, cwd inside the template, the expected final
 * fingerprint, and the commit IDs that must survive.
 */
async function buildWorld(root, { small, bigMiB }) {
  const base = path.join(root, 'base');
  const ws = path.join(base, 'ws');
  const remote = path.join(base, 'remote');
  fs.mkdirSync(ws, { recursive: true });
  const at = { cwd: ws };
  const commitsOf = async (cwd) => JSON.parse((await lodeOk(['log', '--all', '--json'], { cwd })).stdout).commits.map((c) => c.id);
  await lodeOk(['init'], at);
  // v1: many small files and two multi-MiB files, pushed to a directory remote.
  smallFiles(ws, 'data/small', small, 1);
  writeFile(ws, 'data/big/a.bin', pseudoRandomBytes(bigMiB << 20, 11));
  writeFile(ws, 'data/big/b.bin', pseudoRandomBytes((bigMiB >> 1) << 20, 12));
  await lodeOk(['add', 'data'], at);
  await lodeOk(['commit', '-m', 'v1'], at);
  await lodeOk(['tag', 'v1'], at);
  await lodeOk(['remote', 'add', 'origin', remote], at);
  await lodeOk(['push', 'origin', 'main'], at);
  const fpV1 = fingerprint(ws);
  // The workspace at v1 (fetch and pull start there, with the remote at v2).
  const atV1 = path.join(root, 'at-v1');
  fs.cpSync(ws, atV1, { recursive: true });
  const commitsV1 = await commitsOf(ws);
  // side branch from v1: new files only (merges cleanly into v2).
  await lodeOk(['branch', 'side'], at);
  await lodeOk(['branch', '-s', 'side'], at);
  smallFiles(ws, 'data/side', Math.max(10, small >> 2), 3);
  writeFile(ws, 'data/big/side.bin', pseudoRandomBytes(bigMiB << 20, 13));
  await lodeOk(['add', 'data'], at);
  await lodeOk(['commit', '-m', 'side'], at);
  const fpSide = fingerprint(ws);
  await lodeOk(['branch', '-s', 'main'], at);
  // v2: a third of the small files modified, a sixth deleted, new ones, a.bin replaced.
  for (let i = 0; i < small; i++) {
    const f = path.join(ws, 'data/small', `f${String(i).padStart(4, '0')}.bin`);
    if (i % 6 === 0) fs.rmSync(f);
    else if (i % 3 === 0) fs.writeFileSync(f, pseudoRandomBytes(2048 + (i % 1000), 7_000_000 + i));
  }
  smallFiles(ws, 'data/small2', small >> 2, 4);
  writeFile(ws, 'data/big/a.bin', pseudoRandomBytes(bigMiB << 20, 21));
  await lodeOk(['add', 'data'], at);
  await lodeOk(['commit', '-m', 'v2'], at);
  await lodeOk(['tag', 'v2'], at);
  const fpV2 = fingerprint(ws);
  const allCommits = await commitsOf(ws);

  const copyBase = (name) => {
    const dst = path.join(root, name);
    fs.cpSync(base, dst, { recursive: true });
    rewritePaths(dst, base);
    return dst;
  };
  const templates = {};
  // push: v2 to the remote holding v1; the remote is verified by cloning it afterwards.
  templates.push = { dir: copyBase('push'), args: ['push', 'origin', 'main'], rerunOk: [0], final: fpV2, commits: allCommits, verifyRemote: fpV2 };
  await lodeOk(['push', 'origin', 'main'], at);

  // add / commit: new and changed files on top of v2.
  for (const name of ['add', 'commit']) {
    const t = copyBase(name);
    const w = path.join(t, 'ws');
    smallFiles(w, 'data/new', small >> 1, 5);
    writeFile(w, 'data/big/new.bin', pseudoRandomBytes(bigMiB << 20, 31));
    writeFile(w, 'data/big/b.bin', pseudoRandomBytes((bigMiB >> 1) << 20, 32));
    templates[name] = {
      dir: t,
      args: name === 'add' ? ['add', 'data'] : ['commit', '-a', '-m', 'v3'],
      rerunOk: name === 'add' ? [0] : [0, 2],
      final: fingerprint(w),
      commits: allCommits,
    };
  }
  // checkout: from v2 back to v1 (a tag: HEAD detaches); switch: branch main -> side.
  templates.checkout = { dir: copyBase('checkout'), args: ['checkout', 'v1'], rerunOk: [0], final: fpV1, old: fpV2, commits: allCommits };
  templates.switch = { dir: copyBase('switch'), args: ['branch', '-s', 'side'], rerunOk: [0], final: fpSide, old: fpV2, commits: allCommits };
  // merge: side into main (disjoint changes); the expected result comes from an un-killed merge.
  {
    const t = copyBase('merge');
    const probe = path.join(root, 'merge-probe');
    fs.cpSync(t, probe, { recursive: true });
    rewritePaths(probe, t);
    await lodeOk(['merge', 'side', '-m', 'merge side'], { cwd: path.join(probe, 'ws') });
    templates.merge = { dir: t, args: ['merge', 'side', '-m', 'merge side'], rerunOk: [0], final: fingerprint(path.join(probe, 'ws')), old: fpV2, commits: allCommits };
    fs.rmSync(probe, { recursive: true, force: true });
  }
  // fetch / pull: the workspace at v1, the remote at v2.
  for (const name of ['fetch', 'pull']) {
    const t = copyBase(name);
    fs.rmSync(path.join(t, 'ws'), { recursive: true, force: true });
    fs.cpSync(atV1, path.join(t, 'ws'), { recursive: true });
    rewritePaths(t, base);
    templates[name] = { dir: t, args: [name], rerunOk: [0], final: name === 'fetch' ? fpV1 : fpV2, old: name === 'pull' ? fpV1 : undefined, commits: commitsV1 };
  }
  // clone: the remote at v2, no workspace yet.
  {
    const t = copyBase('clone');
    fs.rmSync(path.join(t, 'ws'), { recursive: true, force: true });
    templates.clone = { dir: t, args: ['clone', path.join(t, 'remote'), 'ws'], rerunOk: [0], final: fpV2, commits: [], clone: true };
  }
  // gc: unreachable objects from a deleted branch (and the side branch's data).
  {
    const t = copyBase('gc');
    const w = path.join(t, 'ws');
    await lodeOk(['branch', 'junk'], { cwd: w });
    await lodeOk(['branch', '-s', 'junk'], { cwd: w });
    smallFiles(w, 'data/junk', small >> 1, 6);
    writeFile(w, 'data/big/junk.bin', pseudoRandomBytes(bigMiB << 20, 41));
    await lodeOk(['add', 'data'], { cwd: w });
    await lodeOk(['commit', '-m', 'junk'], { cwd: w });
    await lodeOk(['branch', '-s', 'main'], { cwd: w });
    await lodeOk(['branch', '-D', 'junk'], { cwd: w });
    await lodeOk(['branch', '-D', 'side'], { cwd: w });
    templates.gc = { dir: t, args: ['gc'], rerunOk: [0], final: fingerprint(w), commits: await commitsOf(w) };
  }
  // rm: a whole folder of small files.
  {
    const fp = Object.fromEntries(Object.entries(fpV2).filter(([k]) => !k.startsWith('data/small/')));
    templates.rm = { dir: copyBase('rm'), args: ['rm', 'data/small'], rerunOk: [0], rerunNotTracked: true, final: fp, commits: allCommits };
  }
  fs.rmSync(base, { recursive: true, force: true });
  fs.rmSync(atV1, { recursive: true, force: true });
  return templates;
}

/** trialDir copies template `t` to a fresh directory and returns its workspace and cwd. */
function copyTemplate(t, dst) {
  fs.cpSync(t.dir, dst, { recursive: true });
  rewritePaths(dst, t.dir);
  const args = t.args.map((a) => (a.startsWith(t.dir) ? dst + a.slice(t.dir.length) : a));
  return { ws: path.join(dst, 'ws'), cwd: t.clone ? dst : path.join(dst, 'ws'), args };
}

const TEMP_IN_OUTPUT = /\.lode-checkout-|\.tmp\b|\.tmp-/;

/** checkTrial runs the invariants after a (possibly killed) command; returns { outcome, detail }. */
async function checkTrial(t, ws, cwd, args, run0, tally) {
  let run = run0;
  const problems = [];
  const log = { args, killedAfterMs: run.killAfterMs, exit: run.code ?? run.signal, stderr: tail(run.stderr) };
  if (!run.killed) {
    if (run.code !== 0) problems.push(`the un-killed command exited ${run.code ?? run.signal}: ${firstError(run.stderr)}`);
  }
  if (t.clone && run.killed) {
    // A killed clone: the directory is absent or empty (clean), or whatever the
    // kill left there must let the same clone run again.
    const left = fs.existsSync(ws) ? fs.readdirSync(ws) : [];
    log.leftInCloneDir = left.slice(0, 5);
    if (left.length > 0) {
      const st = await runLode(['status'], { cwd: ws });
      log.statusInHalfClone = { exit: st.code, error: firstError(st.stderr) };
      const again = await runLode(args, { cwd });
      log.rerun = { exit: again.code ?? again.signal, stderr: tail(again.stderr, 3) };
      if (again.code !== 0) {
        // What a user then does: delete it and clone again, which must work.
        fs.rmSync(ws, { recursive: true, force: true });
        const third = await runLode(args, { cwd });
        if (third.code !== 0) problems.push(`clone after removing the half-made directory exited ${third.code}: ${firstError(third.stderr)}`);
        else if (fingerprintDiff(fingerprint(ws), t.final)) problems.push('clone after removing the half-made directory differs from the remote');
        return { outcome: problems.length ? 'violation' : 'violation: half-made clone left', detail: { ...log, problems: [`a killed clone left ${left.join(', ')} in its directory: \`lode status\` there exits ${st.code}, the same clone again exits ${again.code} (${firstError(again.stderr)})`, ...problems] } };
      }
    } else {
      const again = await runLode(args, { cwd });
      if (again.code !== 0) {
        problems.push(`re-run clone exited ${again.code}: ${firstError(again.stderr)}`);
        return finish(problems, log, run, false, false);
      }
    }
    // The clone ran again to its end: check it like any other workspace (no commits recorded before).
    run = { ...run, killed: false, code: 0 };
    const res = await checkTrial({ ...t, clone: false }, ws, ws, ['status'], run, tally);
    return res.outcome === 'completed' ? { outcome: 'killed-clean' } : res;
  }
  const at = { cwd: ws };
  if (run.killed) {
    const stray = strayTempFiles(ws);
    if (stray.length > 0) tally.note(`temp files in datasets right after the kill`);
    log.strayAfterKill = stray.slice(0, 5);
    if (t.old) {
      const fp = fingerprint(ws);
      const state = !fingerprintDiff(fp, t.final) ? 'new' : !fingerprintDiff(fp, t.old) ? 'old' : 'mixed';
      log.workspaceAfterKill = state;
      if (state === 'mixed') tally.note(`workspace mixed right after the kill, completed by the re-run`);
    }
  }
  // 1. status works and never lists a lode temp file.
  const st = await runLode(['status', '--json'], at);
  if (st.code !== 0 && st.code !== 4) problems.push(`status exited ${st.code}: ${firstError(st.stderr)}`);
  if (TEMP_IN_OUTPUT.test(st.stdout)) problems.push(`status lists lode temp files: ${(st.stdout.match(/"[^"]*(\.lode-checkout-|\.tmp)[^"]*"/g) ?? []).slice(0, 3).join(', ')}`);
  // 2. The next command: the same one again.
  let tookOver = /took over/i.test(st.stderr);
  let staleRefused = false;
  let again = run.killed ? await runLode(args, { cwd }) : undefined;
  if (again && again.code === 4 && /stale/i.test(again.stderr)) {
    staleRefused = true;
    log.staleRefusal = firstError(again.stderr);
    fs.rmSync(path.join(ws, '.lode', 'lock'), { force: true });
    again = await runLode(args, { cwd });
  }
  if (again) {
    tookOver ||= /took over/i.test(again.stderr);
    log.rerun = { exit: again.code ?? again.signal, stderr: tail(again.stderr, 3) };
    const allowed = t.rerunOk.includes(again.code) || (t.rerunNotTracked && again.code === 6 && /not tracked/.test(again.stderr));
    if (!allowed) problems.push(`the re-run exited ${again.code ?? again.signal}: ${firstError(again.stderr)}`);
    if (again.code === 70) problems.push('internal error (exit 70)');
  }
  // 3. fsck.
  const fsck = await runLode(['fsck'], at);
  if (fsck.code !== 0) problems.push(`fsck exited ${fsck.code}: ${tail(fsck.stdout + fsck.stderr, 3)}`);
  // 4. No committed version lost.
  const lg = await runLode(['log', '--all', '--json'], at);
  if (lg.code !== 0) problems.push(`log --all exited ${lg.code}: ${firstError(lg.stderr)}`);
  else {
    const have = new Set(JSON.parse(lg.stdout).commits.map((c) => c.id));
    const lost = t.commits.filter((c) => !have.has(c));
    if (lost.length > 0) problems.push(`${lost.length} commits recorded before the kill are gone: ${lost.slice(0, 2).join(', ')}`);
  }
  // 5. No temp files left in the datasets, and the workspace is the command's result.
  const stray = strayTempFiles(ws);
  if (stray.length > 0) problems.push(`temp files left in the datasets after the re-run: ${stray.slice(0, 3).join(', ')}`);
  const d = fingerprintDiff(fingerprint(ws), t.final);
  if (d) problems.push(`workspace is not the expected version: ${d}`);
  // 6. A pushed remote must hold what was pushed: clone it.
  if (t.verifyRemote && problems.length === 0) {
    const c = path.join(path.dirname(ws), 'verify-clone');
    const cl = await runLode(['clone', path.join(path.dirname(ws), 'remote'), c], { cwd: path.dirname(ws) });
    if (cl.code !== 0) problems.push(`clone of the pushed remote exited ${cl.code}: ${firstError(cl.stderr)}`);
    else {
      const dd = fingerprintDiff(fingerprint(c), t.verifyRemote);
      if (dd) problems.push(`clone of the pushed remote differs: ${dd}`);
    }
  }
  return finish(problems, log, run, tookOver, staleRefused);
}

function finish(problems, log, run, tookOver, staleRefused) {
  if (problems.length > 0) return { outcome: 'violation', detail: { ...log, problems } };
  if (!run.killed) return { outcome: 'completed' };
  if (staleRefused) return { outcome: 'refused: stale lock', detail: { staleRefusal: log.staleRefusal } };
  return { outcome: tookOver ? 'killed-recovered' : 'killed-clean' };
}

/**
 * runKillScenario runs `trials` kills of each command; returns one Tally per command.
 * `only` limits the commands (names as in COMMANDS).
 */
export async function runKillScenario({ root, trials, rand, logDir, only, small = 200, bigMiB = 4, jobs = 2, say = () => {} }) {
  const commands = only?.length ? COMMANDS.filter((c) => only.includes(c)) : COMMANDS;
  say(`kill -9: building templates (${small} small files, ${bigMiB} MiB + ${bigMiB >> 1} MiB files) ...`);
  const templates = await buildWorld(path.join(root, 'templates'), { small, bigMiB });
  // Start-up time of the binary: kills before it are not interesting, so delays start at half of it.
  const v0 = Date.now();
  await runLode(['--version'], { cwd: root });
  const startupMs = Date.now() - v0;
  const tallies = [];
  for (const name of commands) {
    const t = templates[name];
    const tally = new Tally(`kill -9 ${name}`, logDir);
    // Reference duration, measured on a copy.
    const ref = copyTemplate(t, path.join(root, `${name}-ref`));
    const r0 = await runLode(ref.args, { cwd: ref.cwd });
    if (r0.code !== 0) throw new Error(`kill -9 ${name}: the reference run failed (${r0.code}): ${r0.stderr}`);
    fs.rmSync(path.join(root, `${name}-ref`), { recursive: true, force: true });
    const lo = startupMs * 0.5;
    const hi = Math.max(r0.ms * 1.1, lo + 50);
    say(`kill -9 ${name}: ${trials} trials, reference ${r0.ms} ms, kills between ${Math.round(lo)} and ${Math.round(hi)} ms`);
    // Delays are drawn up front, in trial order, so a seed reproduces whatever the job count.
    const delays = Array.from({ length: trials }, () => Math.round(lo + rand() * (hi - lo)));
    await pool(jobs, delays.map((killAfterMs, i) => async () => {
      const dir = path.join(root, `${name}-${i}`);
      const { ws, cwd, args } = copyTemplate(t, dir);
      const run = await runLode(args, { cwd, killAfterMs });
      run.killAfterMs = killAfterMs;
      let res;
      try {
        res = await checkTrial(t, ws, cwd, args, run, tally);
      } catch (e) {
        res = { outcome: 'violation', detail: { args, killAfterMs, problems: [`harness: ${e.stack}`] } };
      }
      tally.add(res.outcome, res.detail);
      fs.rmSync(dir, { recursive: true, force: true });
    }));
    tallies.push(tally);
    say(`  ${JSON.stringify(tally.outcomes)}`);
  }
  return tallies;
}
