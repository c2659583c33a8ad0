// Bench helper: find DVC for the remotes comparison, or install it once.
//
// Order: `dvc` on PATH; then the bench's own virtualenv (LODE_BENCH_DVC_VENV,
// default ~/.cache/lode-bench/dvc-venv). If neither works, one attempt is made
// to create that virtualenv and `pip install dvc dvc-s3` into it (at most
// 5 minutes). A virtualenv rather than the user's Python: dvc-s3 pulls in
// aiobotocore, which pins botocore and could break the moto install the bench
// and the tests rely on. A failed attempt is remembered in
// <venv>.install-failed, so later runs report the same reason instead of
// retrying; delete that file to try again.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const DVC_VENV = path.resolve(process.env.LODE_BENCH_DVC_VENV || path.join(os.homedir(), '.cache', 'lode-bench', 'dvc-venv'));
const MARKER = `${DVC_VENV}.install-failed`;
const INSTALL_TIMEOUT_MS = 5 * 60 * 1000;

function version(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DVC_NO_ANALYTICS: '1' } });
  return r.status === 0 ? r.stdout.trim().split('\n').pop() : null;
}

/** supportsS3 asks `dvc version` whether the s3 plugin (dvc-s3) is importable. */
function supportsS3(bin) {
  const r = spawnSync(bin, ['version'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DVC_NO_ANALYTICS: '1' } });
  return r.status === 0 && /^\s*s3 \(/m.test(r.stdout);
}

function found(bin, how) {
  const v = version(bin);
  return v ? { bin, version: v, how, s3: supportsS3(bin), binDir: path.dirname(bin) } : null;
}

/**
 * dvcEnv is the environment DVC runs in for a bench: `base` plus DVC's
 * config and site-cache folders under `scratch` (nothing read from or left
 * in the user's own), no analytics, and a git identity for its commits.
 */
export function dvcEnv(scratch, base = process.env) {
  return {
    ...base,
    DVC_NO_ANALYTICS: '1',
    DVC_GLOBAL_CONFIG_DIR: path.join(scratch, 'dvc-config', 'global'),
    DVC_SYSTEM_CONFIG_DIR: path.join(scratch, 'dvc-config', 'system'),
    DVC_SITE_CACHE_DIR: path.join(scratch, 'dvc-site-cache'),
    GIT_AUTHOR_NAME: 'lode bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'lode bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
}

/**
 * findDvc returns { bin, version, how, s3, binDir } or { reason } (why there
 * is no DVC). `install` false: never run pip.
 */
export function findDvc({ install = true, log = () => {} } = {}) {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'dvc')).find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  const venvBin = path.join(DVC_VENV, 'bin', 'dvc');
  const have = (onPath && found(onPath, 'PATH')) || (fs.existsSync(venvBin) && found(venvBin, `virtualenv ${DVC_VENV}`));
  if (have) return have;
  if (fs.existsSync(MARKER)) {
    const why = fs.readFileSync(MARKER, 'utf8').trim();
    return { reason: `pip install dvc dvc-s3 failed: ${why} (an earlier run; delete ${MARKER} to retry)` };
  }
  if (!install) return { reason: 'dvc not found (install not attempted: --no-dvc-install)' };
  log(`dvc not found: one attempt at python3 -m venv ${DVC_VENV} && pip install dvc dvc-s3 (up to 5 min)`);
  const t0 = Date.now();
  const fail = (why) => {
    const short = why.replace(/\s+/g, ' ').trim().slice(0, 300);
    try {
      fs.mkdirSync(path.dirname(MARKER), { recursive: true });
      fs.writeFileSync(MARKER, `${short}\n`);
    } catch {
      // not remembered; the next run tries again
    }
    return { reason: `pip install dvc dvc-s3 failed: ${short}` };
  };
  fs.mkdirSync(path.dirname(DVC_VENV), { recursive: true });
  const venv = spawnSync('python3', ['-m', 'venv', DVC_VENV], { encoding: 'utf8', timeout: 120_000 });
  if (venv.status !== 0) return fail(`python3 -m venv: ${(venv.error?.message ?? venv.stderr ?? '').split('\n').filter(Boolean).pop() ?? `exit ${venv.status}`}`);
  const left = Math.max(10_000, INSTALL_TIMEOUT_MS - (Date.now() - t0));
  const pip = spawnSync(path.join(DVC_VENV, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', 'dvc', 'dvc-s3'], { encoding: 'utf8', timeout: left, maxBuffer: 64 << 20 });
  if (pip.error?.code === 'ETIMEDOUT' || pip.signal) return fail(`timed out after ${Math.round((Date.now() - t0) / 1000)} s`);
  if (pip.status !== 0) return fail((pip.stderr || pip.stdout || `exit ${pip.status}`).split('\n').filter((l) => /error/i.test(l)).slice(-2).join(' ') || `exit ${pip.status}`);
  log(`dvc installed in ${Math.round((Date.now() - t0) / 1000)} s`);
  return found(venvBin, `virtualenv ${DVC_VENV} (installed by this run)`) ?? fail('installed, but `dvc --version` fails');
}
