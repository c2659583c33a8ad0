// Scenario 3: forged remotes, one per rule of issue 9 part 1, each cloned with
// the binary. A remote must never plant lode's or git's metadata, never make
// lode read or write outside the workspace, and a corrupt pack index or chunk
// list is corrupt data (exit 5), not a crash or a full disk.
//
// Outcome: refused (exit 5), nothing written — the clone exits 5 with one
// error line and the clone directory does not exist (or is empty); anything
// else is a violation, with what was written in the log.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { firstError, runLode, tail, Tally } from './common.js';
import { forgeDataset, forgeHugeChunk, forgePackIndex, forgeReservedName, ready } from './forge.js';

/** The forged remotes: label and the function writing one into a directory. */
export const CASES = [
  ['tree entry .git', (d) => forgeReservedName(d, '.git')],
  ['tree entry .GIT', (d) => forgeReservedName(d, '.GIT')],
  ['tree entry .lode', (d) => forgeReservedName(d, '.lode')],
  ['tree entry .git. (trailing dot)', (d) => forgeReservedName(d, '.git.')],
  ['tree entry ".git " (trailing space)', (d) => forgeReservedName(d, '.git ')],
  ['tree entry git~1 (8.3 short name)', (d) => forgeReservedName(d, 'git~1')],
  ['tree entry .g\\u200cit (HFS+ ignorable)', (d) => forgeReservedName(d, '.g\u200cit')],
  ['tree entry .git nested in data/sub', (d) => forgeReservedName(d, '.git', true)],
  ['dataset ../outside', (d) => forgeDataset(d, '../outside')],
  ['dataset /etc', (d) => forgeDataset(d, '/etc')],
  ['pack index entry past the end of the pack', (d) => forgePackIndex(d, 'past-end')],
  ['pack index entry of 4 GiB', (d) => forgePackIndex(d, 'absurd-length')],
  ['chunk list declaring a 3 GiB chunk (11 bytes sent)', (d) => forgeHugeChunk(d)],
];

function du(dir) {
  let total = 0;
  const walk = (abs) => {
    let ents;
    try {
      ents = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const a = path.join(abs, e.name);
      if (e.isDirectory()) walk(a);
      else total += fs.lstatSync(a).blocks * 512;
    }
  };
  walk(dir);
  return total;
}

function listAll(dir, rel = '') {
  const out = [];
  let ents;
  try {
    ents = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of ents) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listAll(dir, r));
    else out.push(r);
  }
  return out;
}

export async function runForgedScenario({ root, logDir, say }) {
  await ready();
  const tallies = [];
  const byCase = [];
  for (const [label, forge] of CASES) {
    const dir = path.join(root, `case-${byCase.length}`);
    const remote = path.join(dir, 'remote');
    const base = path.join(dir, 'base');
    fs.mkdirSync(remote, { recursive: true });
    fs.mkdirSync(base, { recursive: true });
    forge(remote);
    const pwned = path.join(dir, 'lode-torture-pwned');
    const r = await runLode(['clone', remote, 'ws'], { cwd: base, env: { TMPDIR: dir }, timeoutMs: 300_000 });
    const ws = path.join(base, 'ws');
    const written = listAll(ws);
    const used = du(base);
    const problems = [];
    const planted = written.filter((p) => /^\.git\/hooks\/|^\.lode\/config\.local$|^\.lode\/refs\/heads\/main$/.test(p) && p !== '.lode/refs/heads/main');
    if (planted.length) problems.push(`planted: ${planted.join(', ')}`);
    if (fs.existsSync(path.join(ws, '.git', 'hooks', 'post-checkout'))) problems.push('a git hook was written into the clone');
    if (fs.existsSync(pwned)) problems.push('the planted hook ran');
    if (used > 8 << 20) problems.push(`the clone wrote ${Math.round(used / 2 ** 20)} MiB`);
    if (r.code === 70 || /internal error/i.test(r.stderr)) problems.push('internal error (exit 70)');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    let outcome;
    if (r.code === 5 && errors.length === 1 && written.length === 0 && problems.length === 0) outcome = 'refused (exit 5), nothing written';
    else {
      outcome = 'violation';
      if (r.code !== 5) problems.push(`clone exited ${r.code ?? r.signal}${r.code === 0 ? ' (accepted the forged remote)' : ''}: ${firstError(r.stderr)}`);
      if (written.length > 0) problems.push(`${written.length} files left in the clone directory, e.g. ${written.slice(0, 4).join(', ')}`);
    }
    const tally = new Tally(`forged clone: ${label}`, logDir);
    tallies.push(tally);
    tally.add(outcome, { case: label, exit: r.code ?? r.signal, error: firstError(r.stderr), stderr: tail(r.stderr, 3), problems });
    byCase.push({ label, outcome, exit: r.code, error: firstError(r.stderr) });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const c of byCase) say(`  forged: ${c.label}: ${c.outcome === 'violation' ? `VIOLATION (exit ${c.exit}: ${c.error})` : c.outcome}`);
  return tallies;
}
