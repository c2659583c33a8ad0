/**
 * What provenance records share between `lode commit --input`, `lode run`
 * and `lode rerun`: resolving an input (`REV:PATH` or a workspace PATH) to
 * the exact ID it has, the state of the code (git commit, dirty or not),
 * reading a commit's record, and materialising a recorded version of a path
 * into a scratch directory.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MissingContentError, NotFoundError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { decodeRecord, type CommitRecord, type Provenance, type RecordInput } from '../core/record.js';
import { readCommit } from '../graph/commits.js';
import { lookupPath, walkFiles, type TreePool } from '../graph/trees.js';
import type { Commit } from '../core/encoding.js';
import { PIN_FILE } from '../git/pin.js';
import { currentGitHead } from './author.js';
import type { Repository } from './repository.js';
import { parseRevPath, revPathToRepoPath, versionSnapshot } from './rev-path.js';
import { resolveSnapshot, WORKSPACE_REV } from './snapshot.js';

/** readRecord returns a commit's record, or undefined when it has none. */
export function readRecord(repo: Repository, commit: Commit): CommitRecord | undefined {
  if (!commit.record) return undefined;
  return decodeRecord(repo.store.getObject(commit.record, 'record'), commit.record);
}

/** ChecksMark is the short form of a commit's recorded check results, for log, show and diff. */
export interface ChecksMark {
  rules: number;
  violations: number;
  /** Committed with violations through --no-verify. */
  forced: boolean;
}

/** ProvenanceMark is the short form of a commit's provenance, for log. */
export interface ProvenanceMark {
  kind: 'run' | 'manual';
  command?: string[];
  inputs: string[];
  outputs: string[];
  sources: string[];
}

/** checksMark reads a commit's recorded check results in short; undefined without any (or when the record is unreadable). */
export function checksMark(repo: Repository, id: ObjectId): ChecksMark | undefined {
  try {
    const c = readRecord(repo, readCommit(repo.store, id))?.checks;
    return c ? { rules: c.rules, violations: c.violations.length, forced: c.forced } : undefined;
  } catch {
    return undefined;
  }
}

/** provenanceMark is a record's provenance in short. */
export function provenanceMark(p: Provenance): ProvenanceMark {
  return { kind: p.kind, ...(p.command ? { command: p.command } : {}), inputs: p.inputs.map((i) => i.spec), outputs: p.outputs.map((o) => o.path), sources: p.sources };
}

/** ResolvedInput is an input with where its bytes can be read now. */
export interface ResolvedInput extends RecordInput {
  /** Whether the workspace holds exactly this version at `path` (then the step reads it there). */
  inWorkspace: boolean;
}

/**
 * resolveInputs turns input specs into exact IDs. `REV:PATH` is read at that
 * revision; a bare PATH is the workspace's tracked files there (hashed as
 * `lode status` would). The workspace is hashed once, only if needed.
 * NotFoundError names an input that is not in its version.
 */
export async function resolveInputs(repo: Repository, specs: string[], pool: TreePool, cwd: string): Promise<ResolvedInput[]> {
  let wsTree: ObjectId | undefined;
  const workspaceTree = async () => (wsTree ??= (await resolveSnapshot(repo, WORKSPACE_REV, pool, { index: await repo.readIndex() })).tree);
  const headId = repo.refs.headCommit();
  const headTree = headId ? (await versionSnapshot(repo, 'HEAD', pool)).tree : undefined;
  const out: ResolvedInput[] = [];
  for (const spec of specs) {
    const parsed = parseRevPath(spec);
    const bare = parsed.path === undefined;
    const p = bare ? repo.toRepoPath(spec, cwd) : revPathToRepoPath(repo, parsed.path!, cwd);
    const ws = await workspaceTree();
    const inWs = lookupPath(pool, ws, p);
    if (bare) {
      if (!inWs) throw new NotFoundError(`input ${spec} is not tracked by lode`, { hint: `track it first: \`lode add ${spec}\` and \`lode commit\` (or name a version: REV:${p})` });
      const atHead = headTree ? lookupPath(pool, headTree, p) : undefined;
      out.push({ spec, path: p, kind: inWs.kind, id: inWs.id, ...(atHead && atHead.id === inWs.id && headId ? { commit: headId } : {}), inWorkspace: true });
      continue;
    }
    const snap = await versionSnapshot(repo, parsed.rev, pool);
    const e = lookupPath(pool, snap.tree, p);
    if (!e) throw new NotFoundError(`input ${spec}: ${p || '.'} is not in ${parsed.rev}`, { hint: `\`lode ls ${parsed.rev}\` lists what is there` });
    out.push({ spec, path: p, kind: e.kind, id: e.id, ...(snap.commit ? { commit: snap.commit } : {}), inWorkspace: !!inWs && inWs.id === e.id });
  }
  return out;
}

/**
 * codeState is the git commit of the code and whether the work tree has
 * uncommitted changes to tracked files anywhere in the git work tree (lode.lock aside: every lode commit
 * rewrites it). Undefined outside git or before git's first commit.
 */
export async function codeState(repo: Repository): Promise<{ git: string; dirty: boolean } | undefined> {
  const git = await currentGitHead(repo);
  if (!git) return undefined;
  let dirty = false;
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', ':(top)', `:(exclude)${PIN_FILE}`], { cwd: repo.root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    dirty = out.trim() !== '';
  } catch {
    // no git executable: the commit is known, its cleanliness is not; say clean only when sure
    dirty = true;
  }
  return { git, dirty };
}

/** osUser is the user name recorded with a step. */
export function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/**
 * materialise writes the files of a recorded version of `path` (a file or a
 * tree by ID) under `dest` (dest is the path itself), copied from the cache.
 * MissingContentError when the cache lacks some content.
 */
export function materialise(repo: Repository, pool: TreePool, input: { path: string; kind: 'blob' | 'chunked' | 'tree'; id: ObjectId; size?: number }, dest: string): number {
  const files =
    input.kind === 'tree'
      ? walkFiles(pool, input.id, '').map((f) => ({ rel: f.path, id: f.id, size: f.size, exec: f.exec }))
      : [{ rel: '', id: input.id, size: input.size ?? -1, exec: false }];
  if (input.kind === 'tree') fs.mkdirSync(dest, { recursive: true });
  for (const f of files) {
    const to = f.rel === '' ? dest : path.join(dest, ...f.rel.split('/'));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (f.size === 0) {
      fs.writeFileSync(to, '');
      continue;
    }
    if (repo.store.hasLooseFile(f.id)) fs.copyFileSync(repo.store.filePath(f.id), to);
    else if (repo.store.isSplit(f.id)) {
      // An older version kept as chunks (objects/split.ts): assembled from its verified chunks.
      fs.rmSync(to, { force: true });
      repo.store.assembleTo({ kind: 'chunked', id: f.id, size: f.size }, to);
    } else {
      // A small file kept in a local pack (verified as it is read).
      const packed = repo.store.readPackedFile(f.id);
      if (!packed) throw new MissingContentError(`the content of ${input.path}${f.rel ? `/${f.rel}` : ''} (${f.id.slice(0, 12)}) is not in the local cache`, { hint: '`lode fetch` brings it from the default remote' });
      fs.writeFileSync(to, packed);
    }
    fs.chmodSync(to, f.exec ? 0o755 : 0o644);
  }
  return files.length;
}

/**
 * shadowWorkspace makes `dir` look like the workspace for a step: every
 * entry is a symbolic link to the workspace's, except the directories on the
 * way to `special` paths (real directories) and the special paths themselves
 * (left absent, for the caller to fill). `.lode` is left out.
 */
export function shadowWorkspace(repo: Repository, dir: string, special: string[]): void {
  const specials = special.filter((s) => s !== '');
  const rec = (rel: string) => {
    const here = rel === '' ? dir : path.join(dir, ...rel.split('/'));
    fs.mkdirSync(here, { recursive: true });
    const src = repo.abs(rel);
    let names: string[] = [];
    try {
      names = fs.readdirSync(src);
    } catch {
      // a directory only the special paths make
    }
    const below = new Set(specials.filter((s) => rel === '' || s.startsWith(`${rel}/`)).map((s) => s.slice(rel === '' ? 0 : rel.length + 1).split('/')[0]));
    for (const name of new Set([...names, ...below])) {
      if (rel === '' && name === '.lode') continue;
      const child = rel === '' ? name : `${rel}/${name}`;
      if (specials.includes(child)) continue;
      if (specials.some((s) => s.startsWith(`${child}/`))) rec(child);
      else fs.symlinkSync(path.join(src, name), path.join(here, name));
    }
  };
  rec('');
}

/** overlaps says whether one repo path is the other or lies beneath it. */
export function overlaps(a: string, b: string): boolean {
  return a === b || a === '' || b === '' || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
