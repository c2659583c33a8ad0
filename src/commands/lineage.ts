/**
 * `lode lineage REV[:PATH]`: how a version (or one path in it) was made,
 * walking back through commit records: the steps, their commands and code
 * commits, their inputs at the versions they read, down to external sources.
 * `lode lineage --downstream [REV:]PATH`: the versions derived from a path.
 */
import type { ObjectId } from '../core/id.js';
import type { Commit } from '../core/encoding.js';
import type { Provenance } from '../core/record.js';
import { readCommit, walkHistory } from '../graph/commits.js';
import { lookupPath, TreePool } from '../graph/trees.js';
import { overlaps, readRecord } from '../repo/provenance.js';
import type { Repository } from '../repo/repository.js';
import { parseRevPath, revPathToRepoPath } from '../repo/rev-path.js';
import { resolveRev } from '../repo/revisions.js';
import { NotFoundError } from '../core/errors.js';

export interface LineageInput {
  spec: string;
  path: string;
  kind: string;
  id: ObjectId;
  commit?: ObjectId;
  /** The step that made this input, walked back; null when no commit or record says. */
  upstream: LineageStep | null;
  /** Why the walk stops here, when it does. */
  note?: string;
}

/** LineageStep is one commit that made (part of) a version. */
export interface LineageStep {
  commit: ObjectId;
  message: string;
  author: string;
  date: string;
  /** `run`: made by `lode run`; `manual`: provenance given to `lode commit`; `unrecorded`: a commit without provenance changed the path. */
  kind: 'run' | 'manual' | 'unrecorded';
  command?: string[];
  cwd?: string;
  code?: { git: string; dirty: boolean };
  sources: string[];
  note?: string;
  start?: string;
  end?: string;
  user?: string;
  lode?: string;
  inputs: LineageInput[];
  /** Specs of inputs whose content `lode forget` erased entirely (the walk cannot go there). */
  erasedInputs?: string[];
  outputs: { path: string; kind: string; id: ObjectId }[];
}

export interface LineageResult {
  rev: string;
  commit: ObjectId;
  /** The path asked about, or null for the whole version. */
  path: string | null;
  /** With a path: the step that made it (inputs walked back, nested); without: every recorded step of the history, newest first. */
  steps: LineageStep[];
  /** Every external source met on the way, each once. */
  sources: string[];
  /** Commits in the history that changed data without any record (whole-version lineage only). */
  unrecorded?: number;
}

const MAX_DEPTH = 64;

/** lineage walks back from REV or REV:PATH. */
export async function lineage(repo: Repository, options: { spec: string; cwd?: string }): Promise<LineageResult> {
  const parsed = parseRevPath(options.spec);
  const r = await resolveRev(repo, parsed.rev);
  const pool = new TreePool(repo.store);
  const sources = new Set<string>();
  const memo = new Map<string, LineageStep | null>();
  const stepOf = (id: ObjectId, c: Commit, p: Provenance | undefined, depth: number): LineageStep => {
    for (const s of p?.sources ?? []) sources.add(s);
    return {
      commit: id,
      message: c.message.trimEnd(),
      author: c.author,
      date: new Date(c.time).toISOString(),
      kind: p ? p.kind : 'unrecorded',
      ...(p?.command ? { command: p.command } : {}),
      ...(p?.cwd !== undefined ? { cwd: p.cwd } : {}),
      ...(p?.code ? { code: p.code } : {}),
      sources: p?.sources ?? [],
      ...(p?.note ? { note: p.note } : {}),
      ...(p?.start !== undefined ? { start: new Date(p.start).toISOString() } : {}),
      ...(p?.end !== undefined ? { end: new Date(p.end).toISOString() } : {}),
      ...(p?.user ? { user: p.user } : {}),
      ...(p?.lode ? { lode: p.lode } : {}),
      inputs: (p?.inputs ?? []).map((i) => {
        if (!i.commit) return { ...i, upstream: null, note: 'read from the workspace as it was (no commit held it)' };
        if (!repo.store.hasObject(i.commit)) return { ...i, upstream: null, note: `commit ${i.commit.slice(0, 12)} is not in the local store (lode fetch)` };
        if (depth >= MAX_DEPTH) return { ...i, upstream: null, note: 'the walk stops here (too deep)' };
        return { ...i, upstream: origin(i.commit, i.path, depth + 1) };
      }),
      ...(p?.erasedInputs?.length ? { erasedInputs: p.erasedInputs.map((e) => e.spec) } : {}),
      outputs: p?.outputs ?? [],
    };
  };
  /** origin finds the commit, at or before `start` on the first-parent line, that made `path`. */
  const origin = (start: ObjectId, path: string, depth: number): LineageStep | null => {
    const key = `${start}:${path}`;
    if (memo.has(key)) return memo.get(key)!;
    memo.set(key, null); // a cycle cannot happen in a DAG, but a forged record could name a descendant
    let id: ObjectId | undefined = start;
    let found: LineageStep | null = null;
    while (id) {
      const c = readCommit(repo.store, id);
      const here = lookupPath(pool, c.tree, path);
      const parent = c.parents[0] ? readCommit(repo.store, c.parents[0]) : undefined;
      const before = parent ? lookupPath(pool, parent.tree, path) : undefined;
      const changed = here?.id !== before?.id;
      const p = readRecord(repo, c)?.provenance;
      if (p && ((p.kind === 'run' && p.outputs.some((o) => overlaps(o.path, path))) || (p.kind === 'manual' && changed))) {
        found = stepOf(id, c, p, depth);
        break;
      }
      if (changed) {
        found = here ? stepOf(id, c, undefined, depth) : null;
        break;
      }
      id = c.parents[0];
    }
    memo.set(key, found);
    return found;
  };

  if (parsed.path !== undefined) {
    const p = revPathToRepoPath(repo, parsed.path, options.cwd);
    if (!lookupPath(pool, r.commit.tree, p)) throw new NotFoundError(`${p || '.'} is not in ${parsed.rev}`, { hint: `\`lode ls ${parsed.rev}\` lists what is there` });
    const step = origin(r.id, p, 0);
    return { rev: parsed.rev, commit: r.id, path: p, steps: step ? [step] : [], sources: [...sources] };
  }
  const steps: LineageStep[] = [];
  let unrecorded = 0;
  for (const { id, commit } of walkHistory(repo.store, [r.id])) {
    const p = readRecord(repo, commit)?.provenance;
    if (p) steps.push(stepOf(id, commit, p, MAX_DEPTH));
    else unrecorded++;
  }
  return { rev: parsed.rev, commit: r.id, path: null, steps, sources: [...sources], unrecorded };
}

export interface DownstreamEntry {
  commit: ObjectId;
  message: string;
  date: string;
  refs: string[];
  kind: 'run' | 'manual';
  command?: string[];
  /** The inputs through which it derives from the path (directly, or through an earlier derived output). */
  via: string[];
  outputs: string[];
  /** 1: reads the path itself; 2: reads an output of a level-1 step; and so on. */
  level: number;
}

export interface DownstreamResult {
  path: string;
  rev: string | null;
  derived: DownstreamEntry[];
}

/**
 * downstream lists the commits, reachable from any branch or tag, whose
 * recorded inputs read the path (at REV's version of it, when given), and,
 * transitively, those that read what they made. Newest first.
 */
export async function downstream(repo: Repository, options: { spec: string; cwd?: string }): Promise<DownstreamResult> {
  const parsed = parseRevPath(options.spec);
  const bare = parsed.path === undefined;
  const p = bare ? repo.toRepoPath(options.spec, options.cwd) : revPathToRepoPath(repo, parsed.path!, options.cwd);
  let wantId: ObjectId | undefined;
  if (!bare) {
    const r = await resolveRev(repo, parsed.rev);
    const e = lookupPath(new TreePool(repo.store), r.commit.tree, p);
    if (!e) throw new NotFoundError(`${p || '.'} is not in ${parsed.rev}`, { hint: `\`lode ls ${parsed.rev}\` lists what is there` });
    wantId = e.id;
  }
  const labels = new Map<ObjectId, string[]>();
  for (const b of repo.refs.list('heads')) labels.set(b.id, [...(labels.get(b.id) ?? []), b.name]);
  for (const t of repo.refs.list('tags')) labels.set(t.id, [...(labels.get(t.id) ?? []), `tag: ${t.name}`]);
  const starts = [...labels.keys()];
  const head = repo.refs.headCommit();
  if (head) starts.push(head);
  const all = [...walkHistory(repo.store, starts)].reverse(); // oldest first
  // Paths (with the level that made them) whose readers are derived.
  const tracked: { path: string; level: number; id?: ObjectId }[] = [{ path: p, level: 0, ...(wantId ? { id: wantId } : {}) }];
  const derived: DownstreamEntry[] = [];
  for (const { id, commit } of all) {
    const prov = readRecord(repo, commit)?.provenance;
    if (!prov) continue;
    const via: string[] = [];
    let level = Infinity;
    for (const i of prov.inputs) {
      for (const t of tracked) {
        if (!overlaps(i.path, t.path)) continue;
        if (t.level === 0 && t.id && !(i.path === t.path ? i.id === t.id : true)) continue;
        via.push(i.spec);
        level = Math.min(level, t.level + 1);
        break;
      }
    }
    if (via.length === 0) continue;
    derived.push({
      commit: id,
      message: commit.message.trimEnd(),
      date: new Date(commit.time).toISOString(),
      refs: labels.get(id) ?? [],
      kind: prov.kind,
      ...(prov.command ? { command: prov.command } : {}),
      via,
      outputs: prov.outputs.map((o) => o.path),
      level,
    });
    for (const o of prov.outputs) if (!tracked.some((t) => t.path === o.path)) tracked.push({ path: o.path, level });
  }
  return { path: p, rev: bare ? null : parsed.rev, derived: derived.reverse() };
}
