// Torture suite: what every scenario shares — a seeded RNG, running the built
// binary (optionally killing it after a delay), fingerprints of a workspace,
// generated data, and the outcome tally each scenario returns.
//
// Plain ESM on purpose: it runs against dist/ through bin/lode.js, exactly as
// a user runs lode, with no test framework in between.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** LODE_BIN is the absolute path of the `lode` entry point (loads dist/). */
export const LODE_BIN = fileURLToPath(new URL('../../bin/lode.js', import.meta.url));

/**
 * rng returns a seeded pseudo-random generator (mulberry32): () => [0, 1).
 * Same seed, same sequence: a violation reproduces with `--seed`.
 */
export function rng(seed) {
  let a = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  next.pick = (xs) => xs[Math.floor(next() * xs.length)];
  return next;
}

/** pseudoRandomBytes: `size` deterministic, incompressible bytes for `seed` (xorshift32). */
export function pseudoRandomBytes(size, seed) {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  for (; i < size; i++) out[i] = (x >>> ((i % 4) * 8)) & 0xff;
  return out;
}

export function writeFile(root, rel, data) {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, data);
}

/**
 * runLode runs `node bin/lode.js ...args` in `cwd`. With `killAfterMs` it
 * sends SIGKILL after that delay unless the process finished first.
 * Resolves { code, signal, stdout, stderr, killed, ms }; never rejects on a
 * non-zero exit. A run over `timeoutMs` (default 10 min) is killed and marked
 * `hung`.
 */
export function runLode(args, { cwd, env = {}, killAfterMs, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [LODE_BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', CI: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    let killed = false;
    let hung = false;
    const killTimer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            if (child.exitCode === null && child.signalCode === null) {
              killed = true;
              child.kill('SIGKILL');
            }
          }, killAfterMs);
    const hangTimer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(killTimer);
      clearTimeout(hangTimer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(hangTimer);
      resolve({
        code,
        signal,
        killed: killed && signal === 'SIGKILL',
        hung,
        ms: Date.now() - t0,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** lodeOk runs lode and throws (with both streams) unless it exits 0. */
export async function lodeOk(args, opts) {
  const r = await runLode(args, opts);
  if (r.code !== 0) throw new Error(`lode ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stdout}${r.stderr}`);
  return r;
}

/**
 * fingerprint maps every file under `dir` (relative path) to its SHA-256 and
 * mode's executable bit, skipping `.lode/` and `.git/`. Two workspaces with
 * equal fingerprints hold the same user files.
 */
export function fingerprint(dir) {
  const out = {};
  const walk = (abs, rel) => {
    let ents;
    try {
      ents = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of ents) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (rel === '' && (d.name === '.lode' || d.name === '.git')) continue;
      const a = path.join(abs, d.name);
      if (d.isDirectory()) walk(a, r);
      else if (d.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(a)}`;
      else out[r] = createHash('sha256').update(fs.readFileSync(a)).digest('hex').slice(0, 16);
    }
  };
  walk(dir, '');
  return out;
}

/** sameFingerprint compares two fingerprints; returns '' or a short description of the difference. */
export function fingerprintDiff(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const diffs = [];
  for (const k of [...keys].sort()) {
    if (a[k] !== b[k]) diffs.push(`${k}: ${a[k] ?? '(absent)'} vs ${b[k] ?? '(absent)'}`);
  }
  return diffs.length === 0 ? '' : `${diffs.length} paths differ, e.g. ${diffs.slice(0, 3).join('; ')}`;
}

/** tempEntries lists lode temp files a killed command may leave in the user's files (never in .lode/). */
export function strayTempFiles(dir) {
  return Object.keys(fingerprint(dir)).filter((p) => /(^|\/)\.lode-checkout-|\.tmp/.test(p));
}

/**
 * Tally counts outcomes per scenario row. `add(outcome, detail)` records one
 * trial; violations (and other notable details) go to the log directory.
 */
export class Tally {
  constructor(scenario, logDir) {
    this.scenario = scenario;
    this.logDir = logDir;
    this.trials = 0;
    this.outcomes = {};
    this.notes = {};
    this.details = [];
  }
  add(outcome, detail = undefined) {
    this.trials++;
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
    if (detail !== undefined) {
      this.details.push({ outcome, ...detail });
      if (outcome.startsWith('violation')) {
        fs.mkdirSync(this.logDir, { recursive: true });
        const file = path.join(this.logDir, `${this.scenario.replace(/[^a-z0-9.-]+/gi, '_')}-${this.trials}.json`);
        fs.writeFileSync(file, JSON.stringify({ scenario: this.scenario, outcome, ...detail }, null, 2));
      }
    }
  }
  /** note counts something seen in a trial that is not its outcome (e.g. "mixed workspace right after the kill"). */
  note(what) {
    this.notes[what] = (this.notes[what] ?? 0) + 1;
  }
  /** setNote records a fact about the whole row (e.g. how many faults were injected). */
  setNote(what, value) {
    this.notes[what] = value;
  }
  toJSON() {
    return { scenario: this.scenario, trials: this.trials, outcomes: this.outcomes, notes: this.notes, details: this.details };
  }
}

/** tail keeps the last few lines of a process's output for a log. */
export function tail(s, lines = 6) {
  return s.trim().split('\n').slice(-lines).join('\n');
}

/** firstError returns the first `error:` line of stderr (or the last line). */
export function firstError(stderr) {
  const lines = stderr.trim().split('\n');
  return lines.find((l) => l.startsWith('error:')) ?? lines[lines.length - 1] ?? '';
}

/** pool runs the task functions with at most `jobs` at a time; resolves when all are done. */
export async function pool(jobs, tasks) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tasks.length)) }, worker));
}
