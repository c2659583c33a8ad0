#!/usr/bin/env node
// `npm test` runs this first (the `pretest` script). The tests need a few
// things outside node_modules; this installs what is missing when it can, or
// stops at once with one line naming the exact command to run:
//
//   git                        the git integration tests make real repositories
//   strace                     a test watches the order of fsync and rename in a push
//   mkfs.xfs (xfsprogs)        the reflink tests format and loop-mount an XFS image
//   chromium + a font          the HTML diff report is opened in headless Chromium
//   moto (pip "moto[server]")  the S3 tests run against a local moto server
//   root                       loop-mounting needs it
//
// Installs only as root on a system with apt-get (Debian, Ubuntu), quietly;
// with everything present it takes a few milliseconds and changes nothing.
// LODE_SKIP_PREREQS=1 skips the check (running a subset of tests by hand).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

if (process.env.LODE_SKIP_PREREQS === '1') process.exit(0);

/** sbin is often not on a non-login PATH. */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const MOTO_PIP = 'python3 -m pip install "moto[server]"';

function onPath(name, extra = []) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extra];
  return dirs.some((d) => {
    try {
      const p = path.join(d, name);
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

function quiet(cmd, args, timeoutMs = 120_000, env = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, env });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

const hasFont = () => fs.existsSync('/usr/share/fonts/truetype/dejavu') || quiet('fc-list', [], 10_000).out.trim() !== '';
const hasPip = () => quiet('python3', ['-m', 'pip', '--version'], 30_000).ok;
// moto_server on PATH is what test/helpers/moto.js runs first; else `python3 -m moto.server`.
const hasMoto = () => onPath('moto_server') || quiet('python3', ['-c', 'import moto.server'], 30_000).ok;

/** missing lists the Debian packages and pip installs the tests still lack. */
function missing() {
  const apt = [];
  if (!onPath('git')) apt.push('git');
  if (!onPath('mkfs.xfs', EXTRA_BIN_DIRS)) apt.push('xfsprogs');
  if (!onPath('strace', EXTRA_BIN_DIRS)) apt.push('strace');
  if (!CHROMIUM_NAMES.some((n) => onPath(n)) && !process.env.LODE_CHROMIUM) apt.push('chromium');
  if (!hasFont()) apt.push('fonts-dejavu-core');
  let moto = false;
  if (!hasMoto()) {
    moto = true;
    if (!onPath('python3')) apt.push('python3', 'python3-pip');
    else if (!hasPip()) apt.push('python3-pip');
  }
  return { apt, moto };
}

function commandFor({ apt, moto }, sudo) {
  const parts = [];
  if (apt.length) parts.push(`${sudo}apt-get install -y ${apt.join(' ')}`);
  if (moto) parts.push(`${sudo}${MOTO_PIP}`);
  return parts.join(' && ');
}

function stop(line) {
  process.stderr.write(`npm test: ${line}\n`);
  process.exit(1);
}

const root = process.getuid?.() === 0;
const need = missing();
if (need.apt.length === 0 && !need.moto) {
  if (!root) stop('the reflink tests loop-mount an XFS image, which needs root: run `sudo npm test` (or as root)');
  process.exit(0);
}
if (!root) stop(`missing test prerequisites; install them with: ${commandFor(need, 'sudo ')}  (then run npm test as root: the reflink tests loop-mount XFS)`);
if (need.apt.length && !onPath('apt-get', EXTRA_BIN_DIRS)) stop(`missing test prerequisites and no apt-get here; install the equivalent of: ${commandFor(need, '')}`);

process.stderr.write(`npm test: installing test prerequisites: ${commandFor(need, '')}\n`);
if (need.apt.length) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const net = ['-o', 'Acquire::Retries=1', '-o', 'Acquire::http::Timeout=20', '-o', 'Acquire::https::Timeout=20'];
  const update = quiet('apt-get', ['update', '-qq', ...net], 300_000, env);
  const install = update.ok ? quiet('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...net, ...need.apt], 900_000, env) : update;
  if (!install.ok) {
    const why = install.out.trim().split('\n').filter(Boolean).pop() ?? 'no output';
    stop(`could not install the test prerequisites (${why.slice(0, 160)}); run by hand: ${commandFor(need, '')}`);
  }
}
if (need.moto) {
  const args = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--timeout', '20', '--retries', '1', 'moto[server]'];
  let r = quiet('python3', args, 600_000);
  // Debian's own python3 refuses pip installs outside a virtualenv (PEP 668).
  if (!r.ok && /externally-managed-environment/.test(r.out)) r = quiet('python3', [...args, '--break-system-packages'], 600_000);
  if (!r.ok) {
    const why = r.out.trim().split('\n').filter(Boolean).pop() ?? 'no output';
    stop(`could not install moto (${why.slice(0, 160)}); run by hand: ${MOTO_PIP}`);
  }
}
const still = missing();
if (still.apt.length || still.moto) stop(`test prerequisites still missing after installing; run by hand: ${commandFor(still, '')}`);
