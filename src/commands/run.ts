/**
 * `lode run [-i INPUT]... [-o OUTPUT]... -- CMD ARGS...`: run a preparation
 * step and commit its outputs with a record of how they were made; and
 * `lode rerun REV`: run a recorded step again, at the current code, in a
 * scratch copy of the workspace, and say whether its outputs came out
 * byte-identical.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NotFoundError, StepFailedError, UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import type { Provenance } from '../core/record.js';
import { walkFiles, TreePool } from '../graph/trees.js';
import { codeState, materialise, osUser, readRecord, resolveInputs, shadowWorkspace } from '../repo/provenance.js';
import type { Repository } from '../repo/repository.js';
import { resolveRev } from '../repo/revisions.js';
import { add } from './add.js';
import { commit, type CommitResult, type ProvenanceDraft } from './commit.js';

export interface RunOptions {
  /** Input specs: `REV:PATH`, or a PATH in the workspace. */
  inputs: string[];
  /** Output paths (in the workspace): what the step writes and the commit records. */
  outputs: string[];
  /** The command and its arguments. */
  command: string[];
  message?: string;
  /** Where the command runs and relative paths start (default process.cwd()). */
  cwd?: string;
  /** false: `--no-verify` (the contract is checked and recorded, not enforced). */
  verify?: boolean;
  /** The running lode's version, for the record. */
  lodeVersion: string;
  /** Where the command's standard output goes (default: lode's own). */
  stdout?: 'inherit' | 'stderr';
  progress?: ProgressSink;
}

export interface RunResult {
  commit: CommitResult;
  provenance: Provenance;
  /** Inputs read from a scratch copy because the workspace holds another version of them. */
  materialised: string[];
}

/**
 * run runs the step and commits its outputs. Nothing is committed when the
 * command cannot start (NotFoundError), exits non-zero or is killed
 * (StepFailedError), or leaves an output missing; an output outside the
 * workspace is refused before anything runs (UsageError).
 */
export async function run(repo: Repository, options: RunOptions): Promise<RunResult> {
  const cwd = options.cwd ?? process.cwd();
  if (options.command.length === 0) throw new UsageError('no command to run', { hint: 'put the step after `--`: lode run -i data/raw -o data/clean -- python clean.py' });
  if (options.outputs.length === 0) throw new UsageError('lode run needs at least one output (-o PATH)', { hint: 'name what the step writes: -o data/clean' });
  const outputs = options.outputs.map((o) => repo.toRepoPath(o, cwd));
  for (const o of outputs) if (o === '') throw new UsageError('an output cannot be the whole workspace', { hint: 'name the directory or file the step writes' });
  const pool = new TreePool(repo.store);
  const inputs = await resolveInputs(repo, options.inputs, pool, cwd);
  for (const i of inputs) {
    const o = outputs.find((x) => x === i.path || x.startsWith(`${i.path}/`) || i.path.startsWith(`${x}/`));
    if (o !== undefined) throw new UsageError(`${i.spec} is both an input and (inside) the output ${o}`, { hint: 'a step writes its outputs beside its inputs, not over them' });
  }
  const code = await codeState(repo);
  const scratch = path.join(repo.store.tmpDir, `run-${process.pid}-${randomBytes(4).toString('hex')}`);
  const materialised: string[] = [];
  const env: Record<string, string> = {};
  try {
    inputs.forEach((i, k) => {
      let at = repo.abs(i.path);
      if (!i.inWorkspace) {
        at = path.join(scratch, `input-${k}`, path.basename(i.path) || 'root');
        materialise(repo, pool, i, at);
        materialised.push(i.spec);
      }
      env[`LODE_INPUT_${k}`] = at;
    });
    outputs.forEach((o, k) => (env[`LODE_OUTPUT_${k}`] = repo.abs(o)));
    const start = Date.now();
    await runStep(options.command, cwd, env, options.stdout ?? 'inherit');
    const end = Date.now();
    for (const o of outputs) {
      if (!fs.existsSync(repo.abs(o))) throw new StepFailedError(`the step exited 0 but did not write ${o}: nothing was committed`, 0, { hint: 'check the output paths given with -o' });
    }
    await add(repo, { paths: outputs.map((o) => repo.abs(o)), progress: options.progress });
    const provenance = {
      kind: 'run' as const,
      command: options.command,
      cwd: repo.toRepoPath(cwd),
      inputs: inputs.map(({ inWorkspace: _, ...rest }) => rest),
      outputs,
      sources: [],
      ...(code ? { code } : {}),
      exit: 0,
      start,
      end,
      lode: options.lodeVersion,
      user: osUser(),
    };
    const message = options.message ?? `run: ${options.command.join(' ')}`.slice(0, 200);
    const c = await commit(repo, { message, provenance, verify: options.verify, allowEmpty: true, progress: options.progress });
    return { commit: c, provenance: c.provenance!, materialised };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export interface ManualProvenanceOptions {
  sources: string[];
  note?: string;
  /** `REV:PATH` or workspace paths the data was made from. */
  inputs: string[];
  cwd?: string;
  lodeVersion: string;
}

/** manualProvenance builds the provenance `lode commit --source/--note/--input` records. */
export async function manualProvenance(repo: Repository, o: ManualProvenanceOptions): Promise<ProvenanceDraft> {
  for (const s of o.sources) if (/[\n\r\0]/.test(s) || s.trim() === '') throw new UsageError(`a --source must be one non-empty line, got ${JSON.stringify(s)}`);
  const inputs = await resolveInputs(repo, o.inputs, new TreePool(repo.store), o.cwd ?? process.cwd());
  const code = await codeState(repo);
  return {
    kind: 'manual',
    inputs: inputs.map(({ inWorkspace: _, ...rest }) => rest),
    outputs: [],
    sources: o.sources,
    ...(o.note !== undefined && o.note.trim() !== '' ? { note: o.note.trim() } : {}),
    ...(code ? { code } : {}),
    lode: o.lodeVersion,
    user: osUser(),
  };
}

/** runStep runs a command with inherited terminal, resolving when it exits 0. */
function runStep(command: string[], cwd: string, env: Record<string, string>, stdout: 'inherit' | 'stderr'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd, env: { ...process.env, ...env }, stdio: ['inherit', stdout === 'stderr' ? process.stderr : 'inherit', 'inherit'] });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new NotFoundError(`command not found: ${command[0]}`, { hint: 'check the name and PATH (lode runs the command directly, without a shell: use `-- sh -c "..."` for shell syntax)' }));
      else if (e.code === 'EACCES') reject(new StepFailedError(`cannot run ${command[0]}: permission denied`, null, { hint: 'make it executable (chmod +x) or run it through its interpreter' }));
      else reject(e);
    });
    child.on('close', (status, signal) => {
      if (status === 0) resolve();
      else
        reject(
          new StepFailedError(signal ? `the step was killed by ${signal}: nothing was committed` : `the step exited with status ${status}: nothing was committed`, status, {
            hint: 'fix the step and run it again; its outputs in the workspace are left as it wrote them',
          }),
        );
    });
  });
}

export interface RerunOptions {
  rev: string;
  /** Keep the scratch directory (its path is in the result). */
  keep?: boolean;
  stdout?: 'inherit' | 'stderr';
}

export interface RerunOutput {
  path: string;
  files: number;
  /** Files whose bytes differ, that the rerun did not write, or that only the rerun wrote. */
  differ: string[];
  missing: string[];
  extra: string[];
}

export interface RerunResult {
  rev: string;
  commit: ObjectId;
  command: string[];
  identical: boolean;
  outputs: RerunOutput[];
  /** The scratch copy of the workspace, with `keep`. */
  dir?: string;
}

/**
 * rerun repeats the step recorded in REV's record at the current code: in a
 * scratch directory that mirrors the workspace (links to it), with the
 * recorded inputs materialised at their paths and the outputs absent; the
 * command runs in the recorded directory there. The outputs it writes are
 * compared byte for byte with the recorded ones.
 */
export async function rerun(repo: Repository, options: RerunOptions): Promise<RerunResult> {
  const r = await resolveRev(repo, options.rev);
  const p = readRecord(repo, r.commit)?.provenance;
  if (!p || p.kind !== 'run' || !p.command) throw new UsageError(`${options.rev} records no step to run again`, { hint: 'only commits made by `lode run` can be rerun; `lode lineage REV` shows how a version was made' });
  const pool = new TreePool(repo.store);
  const dir = path.join(repo.store.tmpDir, `rerun-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    shadowWorkspace(repo, dir, [...p.inputs.map((i) => i.path), ...p.outputs.map((o) => o.path)]);
    const env: Record<string, string> = {};
    p.inputs.forEach((i, k) => {
      const at = path.join(dir, ...i.path.split('/'));
      materialise(repo, pool, i, at);
      env[`LODE_INPUT_${k}`] = at;
    });
    p.outputs.forEach((o, k) => (env[`LODE_OUTPUT_${k}`] = path.join(dir, ...o.path.split('/'))));
    const cwd = path.join(dir, ...(p.cwd ? p.cwd.split('/') : []));
    fs.mkdirSync(cwd, { recursive: true });
    await runStep(p.command, cwd, env, options.stdout ?? 'inherit');
    const outputs = p.outputs.map((o) => compareOutput(repo, pool, o, path.join(dir, ...o.path.split('/'))));
    const identical = outputs.every((o) => o.differ.length + o.missing.length + o.extra.length === 0);
    return { rev: options.rev, commit: r.id, command: p.command, identical, outputs, ...(options.keep ? { dir } : {}) };
  } finally {
    if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function compareOutput(repo: Repository, pool: TreePool, o: Provenance['outputs'][number], at: string): RerunOutput {
  const expected = o.kind === 'tree' ? walkFiles(pool, o.id, '').map((f) => ({ rel: f.path, id: f.id, size: f.size })) : [{ rel: '', id: o.id, size: -1 }];
  const produced = new Set<string>();
  const walk = (abs: string, rel: string) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const n of fs.readdirSync(abs)) walk(path.join(abs, n), rel === '' ? n : `${rel}/${n}`);
    else produced.add(rel);
  };
  walk(at, '');
  const out: RerunOutput = { path: o.path, files: expected.length, differ: [], missing: [], extra: [] };
  const name = (rel: string) => (rel === '' ? o.path : `${o.path}/${rel}`);
  for (const f of expected) {
    if (!produced.has(f.rel)) {
      out.missing.push(name(f.rel));
      continue;
    }
    produced.delete(f.rel);
    const mine = path.join(at, ...(f.rel === '' ? [] : f.rel.split('/')));
    if (!sameBytes(repo, f.id, f.size, mine)) out.differ.push(name(f.rel));
  }
  out.extra.push(...[...produced].sort().map(name));
  return out;
}

/** sameBytes compares a file with recorded content: a one-chunk file by its ID, any other with the cached whole file. */
function sameBytes(repo: Repository, id: ObjectId, size: number, file: string): boolean {
  const st = fs.statSync(file);
  if (size >= 0 && st.size !== size) return false;
  const mine = sha256File(file);
  if (mine === id) return true;
  // A chunked file (its ID is its chunk list's): the cached whole file's digest.
  if (repo.store.hasLooseFile(id)) return sha256File(repo.store.filePath(id)) === mine;
  if (repo.store.isSplit(id)) {
    // An older version kept as chunks (objects/split.ts): the digest of its verified pieces.
    const h = createHash('sha256');
    for (const p of repo.store.pieces({ kind: 'chunked', id, size })) h.update(repo.store.readPiece(p));
    return h.digest('hex') === mine;
  }
  const packed = repo.store.readPackedFile(id);
  return packed ? createHash('sha256').update(packed).digest('hex') === mine : st.size === 0 && size === 0;
}

function sha256File(file: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
