// Test helper: run the built `lode` binary as a user would, on temporary
// directories, and take fingerprints of a tree of files.
//
// The binary loads dist/, so the build must exist before these tests run:
// `npm test` builds first; when running vitest by hand, run
// `npx tsc -p tsconfig.json` beforehand.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** LODE_BIN is the absolute path of the `lode` entry point. */
export const LODE_BIN = fileURLToPath(new URL('../../bin/lode.js', import.meta.url));

/** RunResult is what a finished `lode` process left behind. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Directory the process starts in. */
  cwd: string;
  /** Extra environment, over the test process's own and NO_COLOR=1, CI=1. */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (stdin is empty otherwise). */
  input?: string;
  /** Kill the process after this many ms (default 120 s: generous, for a busy machine) and fail. */
  timeoutMs?: number;
}

/**
 * runLode runs `node bin/lode.js ...args` in `opts.cwd` and resolves with its
 * exit code and everything it printed. A process killed by a signal or by the
 * timeout rejects, so a hang never passes for an exit code.
 */
export function runLode(args: string[], opts: RunOptions): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LODE_BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', CI: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === null) {
        reject(new Error(`lode ${args.join(' ')} was killed by ${signal} (timeout ${timeoutMs} ms?)\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * lodeOk runs lode and throws, showing both streams, unless it exits 0.
 * For steps that set a test up rather than being what it checks.
 */
export async function lodeOk(args: string[], opts: RunOptions): Promise<RunResult> {
  const r = await runLode(args, opts);
  if (r.code !== 0) {
    throw new Error(`lode ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/**
 * lodeJson runs lode with --json added (before any `--`, after which it would
 * be a path), expects exit 0 and parses stdout.
 */
export async function lodeJson<T = any>(args: string[], opts: RunOptions): Promise<T> {
  const dd = args.indexOf('--');
  const withJson = dd < 0 ? [...args, '--json'] : [...args.slice(0, dd), '--json', ...args.slice(dd)];
  const r = await lodeOk(withJson, opts);
  try {
    return JSON.parse(r.stdout) as T;
  } catch (e) {
    throw new Error(`lode ${withJson.join(' ')} printed no JSON: ${(e as Error).message}\nstdout: ${r.stdout}`);
  }
}

/**
 * makeTempDir creates a fresh directory under os.tmpdir(); the test removes it
 * (removeDir in afterEach/afterAll).
 */
export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix.replace(/[^A-Za-z0-9_-]/g, '-')}-`));
}

/** removeDir deletes a temp directory, read-only cache files included. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** writeFile writes `content` to `dir/rel` (a '/'-separated path), creating parent directories. */
export function writeFile(dir: string, rel: string, content: string | Uint8Array): string {
  const abs = path.join(dir, ...rel.split('/'));
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  return abs;
}

/** readFile returns the bytes of `dir/rel`. */
export function readFile(dir: string, rel: string): Buffer {
  return fs.readFileSync(path.join(dir, ...rel.split('/')));
}

/** sha256 of a buffer, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256File is the hex SHA-256 of a file's bytes. */
export function sha256File(abs: string): string {
  return sha256(fs.readFileSync(abs));
}

/**
 * pseudoRandomBytes returns `size` deterministic, incompressible bytes for
 * `seed`, so a failing test reproduces exactly.
 */
export function pseudoRandomBytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  for (; i < size; i++) out[i] = (x >>> ((i & 3) * 8)) & 0xff;
  return out;
}

/** TreeSnapshot maps each file's '/'-separated relative path to sha256 (symlinks: "-> target"). */
export type TreeSnapshot = Record<string, string>;

/**
 * treeSnapshot fingerprints every file under `dir`, .lode included except the
 * lock file, so a test can assert "the repository is as it was". Empty
 * directories appear as "dir/" -> "(dir)", so pruning is visible too.
 */
export function treeSnapshot(dir: string): TreeSnapshot {
  const out: TreeSnapshot = {};
  const walk = (abs: string, rel: string) => {
    const ents = fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (ents.length === 0 && rel !== '') out[`${rel}/`] = '(dir)';
    for (const d of ents) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      const a = path.join(abs, d.name);
      if (r === '.lode/lock') continue;
      if (d.isDirectory()) walk(a, r);
      else if (d.isSymbolicLink()) out[r] = `-> ${fs.readlinkSync(a)}`;
      else if (d.isFile()) out[r] = sha256File(a);
      else out[r] = '(special)';
    }
  };
  walk(dir, '');
  return out;
}

/** workspaceSnapshot is treeSnapshot without .lode/: just the user's files. */
export function workspaceSnapshot(dir: string): TreeSnapshot {
  const all = treeSnapshot(dir);
  return Object.fromEntries(Object.entries(all).filter(([k]) => k !== '.lode' && !k.startsWith('.lode/')));
}

/**
 * expectLodeError checks the shape every failure must have: the given exit
 * code, an `error:` line and a `hint:` line on stderr. Lines are matched as
 * lines, not by position: a progress line may come first on a slow machine.
 * Returns stderr for further checks. Throws with both streams on a mismatch.
 */
export function expectLodeError(r: RunResult, code: number): string {
  const problems: string[] = [];
  if (r.code !== code) problems.push(`exit code ${r.code}, expected ${code}`);
  if (!/^error: /m.test(r.stderr)) problems.push('stderr has no "error: " line');
  if (!/^hint: /m.test(r.stderr)) problems.push('stderr has no "hint:" line');
  if (problems.length > 0) {
    throw new Error(`${problems.join('; ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.stderr;
}
