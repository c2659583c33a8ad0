// bench/lib/peers.js: the other tools lode is measured against (DVC, restic,
// Oxen), found or installed once, and driven through the same three steps on
// the same data: add (into the tool's local store), push (to a directory
// remote), pull (into a fresh workspace with an empty cache).
//
// Finding a tool (each at most one install attempt; a failure is remembered
// beside the bench's virtualenv, so later runs report the same reason
// instead of retrying: delete the marker to try again):
//   DVC     `dvc` on PATH, or the bench virtualenv (bench/dvc.js: pip install dvc dvc-s3)
//   restic  `restic` on PATH, or `apt-get install -y restic` when root with apt-get
//   Oxen    `import oxen` in the bench virtualenv (pip install oxenai). The oxenai
//           package ships a Python API (oxen.Repo), no `oxen` CLI: each step runs as
//           one `python -c` (interpreter start and import included, like a CLI's).
//
// Each driver step returns what runCmd measured ({ ms, rssKiB, cpuS, ... }),
// with `failed`/`why` set when the tool exited non-zero, or { na: reason }
// when the tool cannot do that step (Oxen has no directory remote: it pushes
// only to an oxen-server). Every step is capped (CAP_MS) so a hung peer cannot
// stall the bench.
//
// What the steps are, per tool (so a table can say what it compares):
//   lode    add: `lode add data`            push: `lode push` to a dir remote   pull: `lode clone DIR`
//   DVC     add: `dvc add data`             push: `dvc push` to a dir remote    pull: `dvc pull` in a git clone
//   restic  add: `restic backup data`       push: `restic copy` of that           pull: `restic restore latest`
//               into a repo beside it          snapshot to a repo on the remote     from the remote repo
//   Oxen    add: `repo.add("data")`         push / pull: n/a (no directory remote)

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, NODE } from './options.js';
import { runCmd } from './measure.js';
import { DVC_VENV, dvcEnv, findDvc } from '../dvc.js';

export const CAP_MS = 5 * 60 * 1000;
const RESTIC_MARKER = `${DVC_VENV}.restic-install-failed`;
const OXEN_MARKER = `${DVC_VENV}.oxen-install-failed`;
const RESTIC_PASSWORD = 'lode-bench'; // a throwaway repository key for bench data, not a secret

function onPath(name) {
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

function remembered(marker, what) {
  if (!fs.existsSync(marker)) return null;
  return { reason: `${what} failed: ${fs.readFileSync(marker, 'utf8').trim()} (an earlier run; delete ${marker} to retry)` };
}

function remember(marker, what, why) {
  const short = String(why).replace(/\s+/g, ' ').trim().slice(0, 300);
  try {
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(marker, `${short}\n`);
  } catch {
    // not remembered; the next run tries again
  }
  return { reason: `${what} failed: ${short}` };
}

/** findRestic returns { bin, version, how } or { reason }. `install` false: never run apt-get. */
export function findRestic({ install = true, log = () => {} } = {}) {
  const version = (bin) => {
    const r = spawnSync(bin, ['version'], { encoding: 'utf8', timeout: 30_000 });
    return r.status === 0 ? r.stdout.trim().split('\n')[0] : null;
  };
  const bin = onPath('restic');
  if (bin) {
    const v = version(bin);
    if (v) return { bin, version: v, how: 'PATH' };
  }
  const what = 'apt-get install -y restic';
  const old = remembered(RESTIC_MARKER, what);
  if (old) return old;
  if (!install) return { reason: 'restic not found (install not attempted)' };
  if (process.getuid?.() !== 0 || !onPath('apt-get')) return { reason: 'restic not found, and apt-get is not available to this user' };
  log(`restic not found: one attempt at ${what} (up to 5 min)`);
  spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8', timeout: 180_000 });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'restic'], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) return remember(RESTIC_MARKER, what, (r.stderr || r.stdout || `exit ${r.status}`).split('\n').filter(Boolean).slice(-2).join(' '));
  const now = onPath('restic');
  const v = now && version(now);
  return v ? { bin: now, version: v, how: 'apt-get (installed by this run)' } : remember(RESTIC_MARKER, what, 'installed, but `restic version` fails');
}

/** findOxen returns { python, version, how } or { reason }: oxenai in the bench virtualenv. */
export function findOxen({ install = true, log = () => {} } = {}) {
  const python = path.join(DVC_VENV, 'bin', 'python');
  const probe = () => {
    if (!fs.existsSync(python)) return null;
    const r = spawnSync(python, ['-c', 'import importlib.metadata as m, oxen; print(m.version("oxenai"))'], { encoding: 'utf8', timeout: 60_000 });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const v = probe();
  if (v) return { python, version: `oxenai ${v}`, how: `virtualenv ${DVC_VENV}` };
  const what = 'pip install oxenai';
  const old = remembered(OXEN_MARKER, what);
  if (old) return old;
  if (!install) return { reason: 'oxenai not installed in the bench virtualenv (install not attempted)' };
  if (!fs.existsSync(python)) {
    const venv = spawnSync('python3', ['-m', 'venv', DVC_VENV], { encoding: 'utf8', timeout: 120_000 });
    if (venv.status !== 0) return remember(OXEN_MARKER, what, `python3 -m venv: ${venv.stderr || venv.status}`);
  }
  log(`oxenai not found: one attempt at ${what} into ${DVC_VENV} (up to 5 min)`);
  const pip = spawnSync(path.join(DVC_VENV, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', 'oxenai'], { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
  if (pip.status !== 0) return remember(OXEN_MARKER, what, (pip.stderr || pip.stdout || `exit ${pip.status}`).split('\n').filter((l) => /error/i.test(l)).slice(-2).join(' ') || `exit ${pip.status}`);
  const v2 = probe();
  return v2 ? { python, version: `oxenai ${v2}`, how: `virtualenv ${DVC_VENV} (installed by this run)` } : remember(OXEN_MARKER, what, 'installed, but `import oxen` fails');
}

/**
 * findPeers looks for every peer (installing each at most once). Returns
 * { dvc, restic, oxen }, each { ...found } or { reason }. `skip` names tools
 * not to look for (their entry says so).
 */
export function findPeers({ install = true, log = () => {}, skip = [] } = {}) {
  const out = {};
  const skipped = { reason: 'skipped' };
  out.dvc = skip.includes('dvc') ? skipped : findDvc({ install, log });
  out.restic = skip.includes('restic') ? skipped : findRestic({ install, log });
  out.oxen = skip.includes('oxen') ? skipped : findOxen({ install, log });
  return out;
}

/** A step result for a failed command: runCmd's result with `failed` and a short `why`. */
function checked(r, label) {
  if (r.timedOut) {
    r.failed = true;
    r.why = `${label} timed out after ${CAP_MS / 1000} s`;
  } else if (r.code !== 0) {
    r.failed = true;
    r.why = `${label}: ${(r.stderr.trim() || r.stdout.trim()).split('\n').filter(Boolean).slice(-2).join(' | ').slice(0, 300)}`;
  }
  return r;
}

/**
 * makeDrivers returns a driver per available tool (lode always), each with
 *   name, version,
 *   add(ws)           ws: a workspace directory holding `data/` (created by the caller)
 *   push(ws, remote)  remote: an absent directory to push into
 *   pull(remote, ws2, origin) ws2: an absent directory to pull a fresh workspace into;
 *                     origin: the workspace that pushed (DVC clones its git repo)
 * `scratch` is a directory for the tools' private config and caches.
 */
export function makeDrivers(peers, scratch, { baseline } = {}) {
  fs.mkdirSync(scratch, { recursive: true });
  const drivers = [];
  drivers.push(lodeDriver('lode', 'this tree', BIN));
  // Another lode tree (say the main branch) in the same run: before/after on one loaded machine.
  if (baseline) drivers.push(lodeDriver('lode@base', baseline, path.join(baseline, 'bin', 'lode.js')));

  if (peers.dvc?.bin) {
    const d = peers.dvc;
    const env = dvcEnv(scratch, { ...process.env, PATH: `${d.binDir}${path.delimiter}${process.env.PATH ?? ''}` });
    const dvc = async (cwd, args) => checked(await runCmd(d.bin, args, { cwd, env, allowFail: true, timeoutMs: CAP_MS }), `dvc ${args[0]}`);
    const git = async (cwd, args) => checked(await runCmd('git', args, { cwd, env, measureMem: false, allowFail: true }), `git ${args[0]}`);
    drivers.push({
      name: 'DVC',
      version: d.version,
      async add(ws) {
        await git(ws, ['-c', 'init.defaultBranch=main', 'init', '-q']);
        const init = await dvc(ws, ['init', '-q']);
        if (init.failed) return init;
        await dvc(ws, ['config', 'core.analytics', 'false']);
        await dvc(ws, ['config', 'core.check_update', 'false']);
        return dvc(ws, ['add', 'data']);
      },
      async push(ws, remote) {
        await dvc(ws, ['remote', 'add', '-d', '-f', 'bench', remote]);
        await git(ws, ['add', '-A']);
        await git(ws, ['commit', '-q', '-m', 'bench']);
        return dvc(ws, ['push', '-r', 'bench']);
      },
      async pull(remote, ws2, origin) {
        const c = await git(path.dirname(ws2), ['clone', '-q', origin, ws2]);
        if (c.failed) return c;
        return dvc(ws2, ['pull', '-r', 'bench']);
      },
    });
  }

  if (peers.restic?.bin) {
    const r = peers.restic;
    const env = { ...process.env, RESTIC_PASSWORD, RESTIC_FROM_PASSWORD: RESTIC_PASSWORD, RESTIC_CACHE_DIR: path.join(scratch, 'restic-cache') };
    const restic = async (cwd, args) => checked(await runCmd(r.bin, ['-q', ...args], { cwd, env, allowFail: true, timeoutMs: CAP_MS }), `restic ${args[0]}`);
    const local = (ws) => path.join(ws, '.restic');
    drivers.push({
      name: 'restic',
      version: r.version.replace(/ compiled.*/, ''),
      async add(ws) {
        const init = await restic(ws, ['init', '--repo', local(ws)]);
        if (init.failed) return init;
        return restic(ws, ['backup', '--repo', local(ws), 'data']);
      },
      async push(ws, remote) {
        // Same chunker parameters, so the copy is a copy of blobs, not a re-chunking.
        const init = await restic(ws, ['init', '--repo', remote, '--from-repo', local(ws), '--copy-chunker-params']);
        if (init.failed) return init;
        return restic(ws, ['copy', '--from-repo', local(ws), '--repo', remote]);
      },
      async pull(remote, ws2) {
        fs.mkdirSync(ws2, { recursive: true });
        return restic(ws2, ['restore', 'latest', '--repo', remote, '--target', ws2]);
      },
    });
  }

  if (peers.oxen?.python) {
    const o = peers.oxen;
    // Oxen reads its user (needed to commit) from $HOME/.config/oxen: a private HOME keeps the user's own untouched.
    const home = path.join(scratch, 'oxen-home');
    fs.mkdirSync(home, { recursive: true });
    const env = { ...process.env, HOME: home };
    const py = async (cwd, code, label) => checked(await runCmd(o.python, ['-c', code], { cwd, env, allowFail: true, timeoutMs: CAP_MS }), label);
    let configured = false;
    const na = { na: 'Oxen pushes only to an oxen-server: no directory remote' };
    drivers.push({
      name: 'Oxen',
      version: o.version,
      async add(ws) {
        if (!configured) {
          const c = await py(ws, 'import oxen.user as u; u.config_user("lode bench", "bench@example.invalid")', 'oxen config');
          if (c.failed) return c;
          configured = true;
        }
        const init = await py(ws, 'import oxen; oxen.Repo(".").init()', 'oxen init');
        if (init.failed) return init;
        const add = await py(ws, 'import oxen; oxen.Repo(".").add("data")', 'oxen add');
        if (!add.failed) add.after = await py(ws, 'import oxen; oxen.Repo(".").commit("bench")', 'oxen commit');
        return add;
      },
      async push() {
        return na;
      },
      async pull() {
        return na;
      },
    });
  }
  return drivers;
}

/** lodeDriver drives the lode whose entry point is `bin` (this tree's, or a baseline's). */
function lodeDriver(name, version, bin) {
  const lodeRun = async (cwd, args, label) => checked(await runCmd(NODE, [bin, '-q', ...args], { cwd, allowFail: true, timeoutMs: CAP_MS }), label);
  return {
    name,
    version,
    async add(ws) {
      const init = await lodeRun(ws, ['init'], 'lode init');
      if (init.failed) return init;
      const add = await lodeRun(ws, ['add', 'data'], 'lode add');
      if (!add.failed) add.after = await lodeRun(ws, ['commit', '-m', 'bench'], 'lode commit');
      return add;
    },
    async push(ws, remote) {
      const r = await lodeRun(ws, ['remote', 'add', 'bench', remote], 'lode remote add');
      if (r.failed) return r;
      return lodeRun(ws, ['push', 'bench'], 'lode push');
    },
    async pull(remote, ws2) {
      return lodeRun(path.dirname(ws2), ['clone', remote, ws2], 'lode clone');
    },
  };
}
